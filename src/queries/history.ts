import { z } from 'zod';
import { type RecordedDomainEvent, readStoredEvent } from '../domain/codec.ts';
import { type DomainEvent, domainEventTypes, type EventMetadata } from '../domain/events.ts';
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
  })
  .optional();
export type HistoryOptions = z.infer<typeof HistoryOptionsSchema>;

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
): AsyncGenerator<HistoryEntry> {
  const pageSize = options.pageSize ?? 500;
  const types = options.types ? new Set<string>(options.types) : undefined;
  for (let from = 0; ; from += pageSize) {
    const page = await store.readStream(stream, { fromRevision: from, maxCount: pageSize });
    for (const stored of page) {
      const entry = toHistoryEntry(readStoredEvent(stored));
      if (options.fromMs !== undefined && entry.recordedAtMs < options.fromMs) continue;
      if (options.toMs !== undefined && entry.recordedAtMs > options.toMs) continue;
      if (types && !types.has(entry.type)) continue;
      yield entry;
    }
    if (page.length < pageSize) return;
  }
}

export const historyOf = async (
  store: EventStore,
  stream: string,
  options?: HistoryOptions,
): Promise<HistoryEntry[]> => {
  const entries: HistoryEntry[] = [];
  for await (const entry of iterateHistoryOf(store, stream, options)) entries.push(entry);
  return entries;
};
