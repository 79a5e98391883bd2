import { domainEventTypeNames as domainEventTypes } from '../../domain/event-types.ts';
import type { HistoryEntry, HistoryItem, HistoryOptions, ProcessRegistry } from '../../index.ts';
import { type CommandContext, type CommandDef, positionalArgs } from '../context.ts';
import { entryText, refusedText } from '../describe.ts';
import { usageError } from '../errors.ts';
import { renderTable } from '../table.ts';
import { formatAbsolute, formatClock, formatRelative, parseTime, sameLocalDay } from '../times.ts';
import { notYetError, pointJson, pointText, requireProcess, type ViewPoint } from '../view.ts';

type EntryType = HistoryEntry['type'];

/** `--type lease*`-free matching: exact names, any case (`processeventappended` works). */
const entryTypes = (given: readonly string[] | undefined): EntryType[] | undefined => {
  if (!given || given.length === 0) return undefined;
  return given.map((name) => {
    const type = domainEventTypes.find((t) => t.toLowerCase() === name.toLowerCase());
    if (!type) {
      throw usageError(`unknown entry type \`${name}\`; use one of ${domainEventTypes.join(', ')}`);
    }
    return type;
  });
};

/**
 * A process's history as a timeline: position in the log (what `at pos:<n>` takes), time,
 * who did it (the audit actor; `-` when the caller named nobody) and what happened. Under
 * `at`, only entries up to the point.
 */
export const historyView = async (
  ctx: CommandContext,
  registry: ProcessRegistry,
  processId: string,
  at?: ViewPoint,
): Promise<number> => {
  const now = ctx.now();
  const options: NonNullable<HistoryOptions> = {};
  if (ctx.flags.since !== undefined)
    options.fromMs = parseTime(ctx.flags.since, now, '--since time');
  if (ctx.flags.until !== undefined) options.toMs = parseTime(ctx.flags.until, now, '--until time');
  const types = entryTypes(ctx.flags.type);
  if (types) options.types = types;
  if (at && 'timeMs' in at.point)
    options.toMs = Math.min(options.toMs ?? Infinity, at.point.timeMs);
  const record = await requireProcess(ctx, registry, processId);
  let entries: HistoryItem[] = ctx.flags.refused
    ? await registry.history(record.id, { ...options, includeRefused: true })
    : await registry.history(record.id, options);
  const point = at?.point;
  if (point && 'position' in point) entries = upToPosition(entries, point.position);
  if (at && entries.length === 0 && types === undefined && options.fromMs === undefined) {
    throw notYetError(ctx, record.id, at);
  }
  const { out } = ctx;
  if (out.json) {
    out.document({ ...(at ? { at: pointJson(at.point) } : {}), processId: record.id, entries });
    return 0;
  }
  const { style } = out;
  if (at) out.line(style.dim(`as of ${pointText(at.point, now)}`));
  const first = entries[0];
  const lastEntry = entries.at(-1);
  if (!first || !lastEntry) {
    out.line(`no history entries of ${record.id} match`);
    return 0;
  }
  const oneDay = sameLocalDay(first.recordedAtMs, lastEntry.recordedAtMs);
  const span = oneDay
    ? `${formatAbsolute(first.recordedAtMs)} → ${formatClock(lastEntry.recordedAtMs)}`
    : `${formatAbsolute(first.recordedAtMs)} → ${formatAbsolute(lastEntry.recordedAtMs)}`;
  const count = `${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}`;
  out.line(
    `${style.bold(record.id)}: ${count}, ${span} (${formatRelative(lastEntry.recordedAtMs, now)})`,
  );
  const time = (ms: number) =>
    oneDay && sameLocalDay(ms, now)
      ? formatClock(ms, { withMs: true })
      : formatAbsolute(ms, { withMs: true });
  out.lines(
    renderTable(
      [
        { header: 'POS', align: 'right' },
        { header: 'TIME' },
        { header: 'ACTOR' },
        { header: 'WHAT' },
      ],
      entries.map((e) => {
        const actor = 'refused' in e ? e.actor : e.metadata.actor;
        return [
          'refused' in e ? { text: '-', style: style.dim } : e.position.toString(),
          time(e.recordedAtMs),
          actor === null ? { text: '-', style: style.dim } : actor,
          'refused' in e ? { text: refusedText(e), style: style.red } : entryText(e),
        ];
      }),
      { headerStyle: style.dim, indent: '  ', ...(out.width ? { maxWidth: out.width } : {}) },
    ),
  );
  return 0;
};

/**
 * The entries of the log up to a position. A refusal has no position of its own: it stays
 * when an event at or before the position follows it, or when no later event was written.
 */
const upToPosition = (entries: readonly HistoryItem[], position: bigint): HistoryItem[] => {
  const kept: HistoryItem[] = [];
  let refusals: HistoryItem[] = [];
  for (const entry of entries) {
    if ('refused' in entry) {
      refusals.push(entry);
    } else if (entry.position <= position) {
      kept.push(...refusals, entry);
      refusals = [];
    } else {
      return kept;
    }
  }
  return [...kept, ...refusals];
};

export const historyCommand: CommandDef = {
  name: 'history',
  usage: 'history <id> [--since <time>] [--until <time>] [--type <type>,...] [--refused]',
  summary: "a process's timeline: when, who (audit actor) and what happened",
  flags: ['since', 'until', 'type', 'refused'],
  details: [
    `entry types: ${domainEventTypes.join(', ')}`,
    '--refused adds the commands the registry refused (stale leases, conflicts, ungranted access), each after the event it was decided on',
  ],
  examples: [
    'procreg history demo:job:reindex-7',
    'procreg history demo:job:reindex-7 --since -10m --type LeaseClaimed,LeaseReleased',
    'procreg history demo:job:reindex-7 --refused',
  ],
  run: async (ctx) => {
    const [id] = positionalArgs(ctx, ['<id>'], historyCommand.usage);
    return historyView(ctx, await ctx.open(ctx.storeUrl, 'read'), id!);
  },
};
