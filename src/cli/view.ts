import type {
  Page,
  ProcessEvent,
  ProcessFilter,
  ProcessHandleGrant,
  ProcessLease,
  ProcessList,
  ProcessRecord,
  PrunedSince,
} from '../index.ts';
import { type CommandContext, cliPrefix, shellQuote } from './context.ts';
import { type CliError, notFoundError } from './errors.ts';
import { formatAbsolute, formatRelative, type TimePoint } from './times.ts';

/**
 * What `ls`, `show` and `events` read. Both the live registry and an `asOf` view have this
 * shape, so `procreg at <point> show <id>` is `show` over a different view.
 */
export interface ReadView {
  getProcess(processId: string): Promise<ProcessRecord | undefined>;
  listProcesses(filter?: ProcessFilter, page?: Page): Promise<ProcessList>;
  handleGrantsForProcess(processId: string): Promise<ProcessHandleGrant[]>;
  getProcessLease(processId: string): Promise<ProcessLease | undefined>;
  eventsAfter(processId: string, afterSequence: number): Promise<ProcessEvent[]>;
  countEvents(processId: string): Promise<number>;
  /** the live registry: where a pruned process went */
  prunedProcess?(processId: string): Promise<PrunedSince | undefined>;
}

/** The point a view shows; absent for the live registry. */
export interface ViewPoint {
  point: TimePoint;
  /** the time leases are judged at: the point's time, or now for a position */
  timeMs: number;
}

/** `2025-11-26 14:05:00 (5m ago)` or `position 42`. */
export const pointText = (point: TimePoint, now: number): string =>
  'position' in point
    ? `position ${point.position}`
    : `${formatAbsolute(point.timeMs)} (${formatRelative(point.timeMs, now)})`;

/** The point as JSON output carries it: `{ timeMs }` or `{ position: "42" }`. */
export const pointJson = (point: TimePoint): { timeMs: number } | { position: string } =>
  'position' in point ? { position: point.position.toString() } : { timeMs: point.timeMs };

/** The record, or the one-line `not_found` error that says where to look. */
export const requireProcess = async (
  ctx: CommandContext,
  view: ReadView,
  processId: string,
  at?: ViewPoint,
): Promise<ProcessRecord> => {
  const record = await view.getProcess(processId);
  if (record) return record;
  if (at) throw notYetError(ctx, processId, at);
  const pruned = await view.prunedProcess?.(processId);
  if (pruned) {
    throw notFoundError(
      `process \`${processId}\` was pruned at ${formatAbsolute(pruned.prunedAtMs)} by ${pruned.actor ?? 'an unnamed caller'}; its history is archived in ${pruned.archive}: restore it with \`${cliPrefix(ctx)} import ${shellQuote(pruned.archive)}\``,
    );
  }
  throw notFoundError(
    `no process \`${processId}\` in ${ctx.storeUrl}; \`${cliPrefix(ctx)} ls --all\` lists the process ids`,
  );
};

/** `not_found` for a process that exists now but not at the view's point. */
export const notYetError = (ctx: CommandContext, processId: string, at: ViewPoint): CliError =>
  notFoundError(
    `process \`${processId}\` did not exist yet at ${pointText(at.point, ctx.now())}; pick a later point, or see \`${cliPrefix(ctx)} history ${processId}\``,
  );
