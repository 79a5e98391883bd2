import type { ProcessEvent } from '../../index.ts';
import { parseCount } from '../args.ts';
import { type CommandContext, type CommandDef, positionalArgs } from '../context.ts';
import { eventText } from '../describe.ts';
import type { Style } from '../style.ts';
import { type CellInput, type Column, renderTable } from '../table.ts';
import { formatAbsolute, formatClock, sameLocalDay } from '../times.ts';
import { pointJson, pointText, type ReadView, requireProcess, type ViewPoint } from '../view.ts';

export const eventColumns: readonly Column[] = [
  { header: 'SEQ', align: 'right' },
  { header: 'TIME' },
  { header: 'TYPE' },
  { header: 'DETAIL' },
];

/** Today's events show the clock only; older ones the date too. */
const eventTime = (event: ProcessEvent, now: number): string =>
  sameLocalDay(event.occurredAtMs, now)
    ? formatClock(event.occurredAtMs, { withMs: true })
    : formatAbsolute(event.occurredAtMs, { withMs: true });

const typeStyle = (event: ProcessEvent, style: Style): ((text: string) => string) => {
  const terminal = event.semantics.terminal?.state;
  if (terminal === 'completed') return style.green;
  if (terminal === 'failed') return style.red;
  if (terminal === 'cancelled') return style.yellow;
  return event.semantics.wake ? style.magenta : (t) => t;
};

export const eventRows = (
  events: readonly ProcessEvent[],
  style: Style,
  now = Date.now(),
): CellInput[][] =>
  events.map((e) => [
    String(e.sequence),
    eventTime(e, now),
    { text: e.eventType, style: typeStyle(e, style) },
    eventText(e, 100),
  ]);

/**
 * A followed event as one line. Widths are fixed (the rows to come are unknown), wide
 * enough for the usual sequence numbers and event type names.
 */
const followLine = (event: ProcessEvent, style: Style, now: number): string =>
  [
    String(event.sequence).padStart(5),
    eventTime(event, now).padEnd(12),
    typeStyle(event, style)(event.eventType.padEnd(20)),
    eventText(event, 100),
  ].join('  ');

/** A process's events after `--after`, as a view holds them. */
export const eventsView = async (
  ctx: CommandContext,
  view: ReadView,
  processId: string,
  at?: ViewPoint,
): Promise<number> => {
  const after = parseCount(ctx.flags.after, '--after', 0);
  const record = await requireProcess(ctx, view, processId, at);
  const events = await view.eventsAfter(record.id, after);
  const { out } = ctx;
  if (out.json) {
    out.document({ ...(at ? { at: pointJson(at.point) } : {}), processId: record.id, events });
    return 0;
  }
  const now = ctx.now();
  if (at) out.line(out.style.dim(`as of ${pointText(at.point, now)}`));
  if (events.length === 0) {
    out.line(`no events${after > 0 ? ` after #${after}` : ''} in ${record.id}`);
    return 0;
  }
  out.lines(
    renderTable(eventColumns, eventRows(events, out.style, now), {
      headerStyle: out.style.bold,
      ...(out.width ? { maxWidth: out.width } : {}),
    }),
  );
  return 0;
};

/**
 * Prints the backlog, then every new event as it is appended (by any process on the
 * store), until SIGINT/SIGTERM; then closes the registry and exits 0. With --json each
 * event is one JSON line (NDJSON), flushed as it comes.
 */
const follow = async (ctx: CommandContext, processId: string): Promise<number> => {
  const after = parseCount(ctx.flags.after, '--after', 0);
  const registry = await ctx.open(ctx.storeUrl, 'read');
  const record = await requireProcess(ctx, registry, processId);
  const { out } = ctx;
  if (!out.json) {
    out.line(
      out.style.bold(`${'SEQ'.padStart(5)}  ${'TIME'.padEnd(12)}  ${'TYPE'.padEnd(20)}  DETAIL`),
    );
    if (out.stderr.isTTY) out.note(out.errStyle.dim(`following ${record.id}; Ctrl-C to stop`));
  }
  let failure: unknown;
  const ended = new Promise<void>((resolve) => {
    const subscription = registry.events$(record.id, after).subscribe({
      next: (event) =>
        out.json ? out.record(event) : out.line(followLine(event, out.style, ctx.now())),
      error: (error: unknown) => {
        failure = error;
        resolve();
      },
      complete: () => resolve(),
    });
    void ctx.untilInterrupted().then(() => {
      subscription.unsubscribe();
      resolve();
    });
  });
  // The store's feed polls on an unref'd timer (it never keeps a process alive by itself);
  // following is the one thing this process is for, so hold the event loop open.
  const keepAlive = setInterval(() => {}, 60_000);
  try {
    await ended;
  } finally {
    clearInterval(keepAlive);
  }
  if (failure !== undefined) throw failure;
  return 0;
};

export const eventsCommand: CommandDef = {
  name: 'events',
  usage: 'events <id> [--after <seq>] [--follow]',
  summary: "a process's events; --follow keeps printing new ones until Ctrl-C",
  flags: ['after', 'follow'],
  details: ['--follow --json prints one JSON event per line (NDJSON).'],
  examples: [
    'procreg events demo:tool:grep-1',
    'procreg events demo:agent:main --after 2 --follow',
    'procreg events demo:agent:main --follow --json | jq .eventType',
  ],
  run: async (ctx) => {
    const [id] = positionalArgs(ctx, ['<id>'], eventsCommand.usage);
    if (ctx.flags.follow) return follow(ctx, id!);
    return eventsView(ctx, await ctx.open(ctx.storeUrl, 'read'), id!);
  },
};
