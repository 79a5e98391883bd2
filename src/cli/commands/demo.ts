import type { ProcessRegistry } from '../../index.ts';
import { type CommandContext, type CommandDef, cliPrefix, positionalArgs } from '../context.ts';
import { DEMO_SPAN_SECONDS, demoIds, ScriptClock, seedDemo } from '../demo-session.ts';
import { renderFields } from '../table.ts';
import { historyView } from './history.ts';
import { listView } from './ls.ts';

const entriesOf = async (registry: ProcessRegistry): Promise<number> => {
  let total = 0;
  for (const id of Object.values(demoIds)) {
    if (await registry.getProcess(id)) total += (await registry.history(id)).length;
  }
  return total;
};

/** `2025-11-26T14:05:07Z`: shell-safe, unambiguous, copy-pasteable into `at`. */
const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A second before the tool call completed: `at` that time shows it still running. */
const beforeToolCompleted = async (registry: ProcessRegistry): Promise<number | undefined> => {
  const entries = await registry.history(demoIds.grep, { types: ['ProcessEventAppended'] });
  const done = entries.find(
    (e) => e.type === 'ProcessEventAppended' && e.data.event.semantics.terminal !== undefined,
  );
  return done && Math.floor((done.recordedAtMs - 1000) / 1000) * 1000;
};

const run = async (ctx: CommandContext): Promise<number> => {
  positionalArgs(ctx, [], 'demo');
  const start = Math.floor((ctx.now() - (DEMO_SPAN_SECONDS + 60) * 1000) / 1000) * 1000;
  const clock = new ScriptClock(start);
  const registry = await ctx.open(ctx.storeUrl, 'write', { clock: clock.read });
  const before = await entriesOf(registry);
  await seedDemo(registry, clock);
  const written = (await entriesOf(registry)) - before;
  const { out } = ctx;
  if (out.json) {
    out.document({
      store: ctx.storeUrl,
      written,
      processes: await Promise.all(Object.values(demoIds).map((id) => registry.getProcess(id))),
    });
    return 0;
  }
  const { style } = out;
  const cli = cliPrefix(ctx);
  out.line(
    written > 0
      ? `Seeded a demo agent session into ${ctx.storeUrl} (${written} events).`
      : `The demo session is already in ${ctx.storeUrl}; nothing new was written.`,
  );
  out.line();
  out.line(style.dim(`$ ${cli} ls --all`));
  await listView({ ...ctx, flags: { ...ctx.flags, all: true } }, registry);
  out.line();
  out.line(style.dim(`$ ${cli} history ${demoIds.job}`));
  await historyView(ctx, registry, demoIds.job);
  out.line();
  out.line(style.bold('Next, try:'));
  const toolRunning = await beforeToolCompleted(registry);
  const hints: [string, string][] = [
    [`${cli} show ${demoIds.job}`, 'record, grants, lease and last events'],
    [`${cli} history ${demoIds.researcher}`, 'a wake delivered and acknowledged'],
    ...(toolRunning === undefined
      ? []
      : [
          [
            `${cli} at ${isoSeconds(toolRunning)} ls`,
            'what was running before grep-1 finished',
          ] as [string, string],
        ]),
    [`${cli} events ${demoIds.main} --follow`, 'new events as they are appended (Ctrl-C stops)'],
    [`${cli} verify`, 'rebuild every read model from the log and diff'],
    [`${cli} export -o procreg.ndjson`, 'the whole log as NDJSON'],
    [`${cli} help`, 'every command, time formats and exit codes'],
  ];
  out.lines(renderFields(hints, { indent: '  ', keyStyle: style.cyan }));
  return 0;
};

export const demoCommand: CommandDef = {
  name: 'demo',
  usage: 'demo',
  summary: 'seed a small agent session (once), then show it: what `npm start` runs',
  flags: [],
  details: [
    'Idempotent: the seed uses replay keys and idempotent registrations, so running it',
    'again writes nothing. The seeded steps are spread over the minutes before the first run.',
  ],
  examples: ['procreg demo', 'procreg --store sqlite:/tmp/demo.db demo'],
  run,
};
