import type { FoldedSummary, ReplayStep } from '../../index.ts';
import { type CommandContext, type CommandDef, positionalArgs } from '../context.ts';
import { type ChunkSink, writeAll, writeFileAtomically } from '../files.ts';
import { formatAbsolute, formatClock, parseTimePoint, sameLocalDay } from '../times.ts';
import { pointJson, pointText } from '../view.ts';

/** The folded state after a step, as one line: what the next command would decide on. */
const stateText = (after: FoldedSummary): string => {
  const lease = after.lease
    ? `lease ${after.lease.ownerId} (fencing ${after.lease.fencingToken}, until ${formatClock(after.lease.expiresAtMs, { withMs: true })})`
    : 'no lease';
  const grants = after.grants.length > 0 ? after.grants.join(', ') : 'none';
  const wakes =
    after.pendingWakes.length > 0 ? after.pendingWakes.map((s) => `#${s}`).join(' ') : 'none';
  return `${after.status} · last seq ${after.lastSequence} · grants ${grants} · ${lease} · max fencing ${after.maxFencingToken} · pending wakes ${wakes}`;
};

const renderSteps = (ctx: CommandContext, processId: string, steps: readonly ReplayStep[]) => {
  const { out } = ctx;
  const { style } = out;
  const first = steps[0]!;
  const oneDay = sameLocalDay(first.recordedAtMs, steps.at(-1)!.recordedAtMs);
  const time = (ms: number) =>
    oneDay ? formatClock(ms, { withMs: true }) : formatAbsolute(ms, { withMs: true });
  out.line(
    `${style.bold(processId)}: ${steps.length} ${steps.length === 1 ? 'event' : 'events'}, each with the state the next command decides on`,
  );
  for (const step of steps) {
    const who = [
      step.actor ?? '-',
      step.correlationId === null ? undefined : `correlation ${step.correlationId}`,
    ]
      .filter((x) => x !== undefined)
      .join(', ');
    out.line(
      `${style.dim(`pos ${step.position} rev ${step.revision}`)} ${time(step.recordedAtMs)} ${style.bold(step.type)} ← ${step.command} (${who})`,
    );
    out.line(`  ${style.cyan('→')} ${stateText(step.after)}`);
  }
};

/** The time point a flag names, if given (`--until`, `--at`). */
const optionalPoint = (ctx: CommandContext, flag: 'until' | 'at') => {
  const text = ctx.flags[flag];
  return text === undefined ? undefined : parseTimePoint(text, ctx.now(), `--${flag} point`);
};

/**
 * `replay <id> [--until <time|pos:N>]`: a process's events in order, each with the command,
 * actor and correlation id that wrote it and the folded state after it.
 */
export const replayCommand: CommandDef = {
  name: 'replay',
  usage: 'replay <id> [--until <time|pos:N>]',
  summary: 'step through a process: each event, who wrote it, and the state after it',
  flags: ['until'],
  details: [
    'after each event: status, last sequence, grants, lease holder and fencing token, pending wakes',
  ],
  examples: [
    'procreg replay demo:job:reindex-7',
    'procreg replay demo:job:reindex-7 --until pos:12',
  ],
  run: async (ctx) => {
    const [id] = positionalArgs(ctx, ['<id>'], replayCommand.usage);
    const until = optionalPoint(ctx, 'until');
    const registry = await ctx.open(ctx.storeUrl, 'read');
    const steps = await registry.replay(id!, until === undefined ? {} : { until });
    if (ctx.out.json) {
      ctx.out.document({ processId: id, ...(until ? { until: pointJson(until) } : {}), steps });
      return 0;
    }
    if (until) ctx.out.line(ctx.out.style.dim(`up to ${pointText(until, ctx.now())}`));
    renderSteps(ctx, id!, steps);
    return 0;
  },
};

/**
 * `repro <id> [--at <time|pos:N>] [-o case.ndjson]`: a self-contained case of one process
 * (its events up to the point, in the export format), for `importEvents` into a fresh
 * `memory:` registry or `procreg import` into a new store.
 */
export const reproCommand: CommandDef = {
  name: 'repro',
  usage: 'repro <id> [--at <time|pos:N>] [-o <file>]',
  summary: "write one process's events up to a point as a case to import elsewhere",
  flags: ['at', 'out'],
  details: [
    'the case is NDJSON in the export format: procreg --store sqlite:./case.db import case.ndjson, or importEvents into openRegistry("memory:")',
  ],
  examples: ['procreg repro demo:job:reindex-7 --at pos:12 -o case.ndjson'],
  run: async (ctx) => {
    const [id] = positionalArgs(ctx, ['<id>'], reproCommand.usage);
    const at = optionalPoint(ctx, 'at');
    const registry = await ctx.open(ctx.storeUrl, 'read');
    const lines = await registry.extractCase(id!, at === undefined ? {} : { until: at });
    const write = (stream: ChunkSink) =>
      writeAll(
        stream,
        (async function* () {
          yield* lines;
        })(),
        () => {},
      );
    const file = ctx.flags.out;
    if (file === undefined || file === '-') {
      await write(ctx.out.stdout);
      return 0;
    }
    await writeFileAtomically(file, write);
    const { out } = ctx;
    if (out.json) out.document({ processId: id, events: lines.length, file });
    else {
      out.line(
        `wrote ${lines.length} events of ${id}${at ? ` up to ${pointText(at, ctx.now())}` : ''} to ${file}`,
      );
    }
    return 0;
  },
};
