import { z } from 'zod';
import { type RecordedDomainEvent, readStoredEvent } from '../domain/codec.ts';
import { type DomainEvent, domainEventTypes, type EventMetadata } from '../domain/events.ts';
import { deepFreeze } from '../domain/freeze.ts';
import type { RefusedCommand } from '../domain/refusal.ts';
import type { EventStore, Position } from '../store/port.ts';

/**
 * One domain event of a process, as `history` returns it: discriminated by `type`, so
 * checking the type narrows `data`.
 */
export type HistoryEntry = DomainEvent & HistoryFacts;

interface HistoryFacts {
  metadata: EventMetadata;
  /** 0-based revision in the process's stream */
  revision: number;
  /** global position in the store's log */
  position: Position;
  /** when the registry recorded it (the registry clock, epoch ms) */
  recordedAtMs: number;
  eventId: string;
}

export const HistoryOptionsSchema = z
  .strictObject({
    /** only events recorded at or after this time (epoch ms) */
    fromMs: z.number().optional(),
    /** only events recorded at or before this time (epoch ms) */
    toMs: z.number().optional(),
    /** only these domain event types */
    types: z.array(z.enum(domainEventTypes)).optional(),
    /** events read per store request while iterating */
    pageSize: z.number().int().positive().max(10_000).optional(),
    /** interleave the journal of refused commands (`types` filters domain events only) */
    includeRefused: z.boolean().optional(),
  })
  .optional();
export type HistoryOptions = z.infer<typeof HistoryOptionsSchema>;

/**
 * A refused command in a history that includes them: where it stands (after the event at
 * `afterRevision`), who asked (`actor` …), what (`command`) and why not (`code`, `message`).
 */
export type RefusedHistoryEntry = RefusedCommand & { type: 'CommandRefused'; refused: true };

/** What `history` returns with `includeRefused`: events and refusals in the order they happened. */
export type HistoryItem = HistoryEntry | RefusedHistoryEntry;

/** A history's entries for its options: refusals only when `includeRefused: true`. */
export type HistoryOf<O extends HistoryOptions> = O extends { includeRefused: true }
  ? HistoryItem
  : HistoryEntry;

export const toHistoryEntry = (recorded: RecordedDomainEvent): HistoryEntry => ({
  ...recorded.event,
  metadata: recorded.metadata,
  revision: recorded.revision,
  position: recorded.position,
  recordedAtMs: recorded.metadata.recordedAtMs,
  eventId: recorded.eventId,
});

/**
 * A stream's history, page by page, so a long history never sits in memory at once. Filters
 * apply after decoding; the page size bounds each store read.
 */
export async function* iterateHistoryOf(
  store: EventStore,
  stream: string,
  options: HistoryOptions = {},
  /** the process's journaled refusals, oldest first, to interleave */
  refusals: readonly RefusedCommand[] = [],
): AsyncGenerator<HistoryItem> {
  const pageSize = options.pageSize ?? 500;
  const types = options.types ? new Set<string>(options.types) : undefined;
  const inRange = (ms: number): boolean =>
    (options.fromMs === undefined || ms >= options.fromMs) &&
    (options.toMs === undefined || ms <= options.toMs);
  // Invariant: refusals[next..] all came after every event yielded so far.
  let next = 0;
  // from the stream's registration: an earlier incarnation's refusals are not this one's
  let createdAtMs: number | undefined;
  function* refusedBefore(revision: number): Generator<RefusedHistoryEntry> {
    for (; next < refusals.length && refusals[next]!.afterRevision < revision; next++) {
      const refusal = refusals[next]!;
      if (refusal.processCreatedAtMs !== createdAtMs || !inRange(refusal.recordedAtMs)) continue;
      yield deepFreeze({ ...refusal, type: 'CommandRefused', refused: true });
    }
  }
  for (let from = 0; ; from += pageSize) {
    const page = await store.readStream(stream, { fromRevision: from, maxCount: pageSize });
    for (const stored of page) {
      yield* refusedBefore(stored.revision);
      // frozen, as every result: an immutable snapshot of the stored event
      const entry = deepFreeze(toHistoryEntry(readStoredEvent(stored)));
      if (entry.type === 'ProcessRegistered') createdAtMs ??= entry.data.record.createdAtMs;
      if (!inRange(entry.recordedAtMs)) continue;
      if (types && !types.has(entry.type)) continue;
      yield entry;
    }
    if (page.length < pageSize) break;
  }
  yield* refusedBefore(Number.POSITIVE_INFINITY);
}

export const historyOf = async (
  store: EventStore,
  stream: string,
  options?: HistoryOptions,
  refusals?: readonly RefusedCommand[],
): Promise<HistoryItem[]> => {
  const entries: HistoryItem[] = [];
  for await (const entry of iterateHistoryOf(store, stream, options, refusals)) entries.push(entry);
  return entries;
};
