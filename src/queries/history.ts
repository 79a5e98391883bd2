import { decodeEvent } from '../domain/codec.ts';
import type { DomainEvent, EventMetadata } from '../domain/events.ts';
import type { EventStore, Position } from '../store/port.ts';

/** One domain event of a process, as `history` returns it. */
export interface HistoryEntry {
  type: DomainEvent['type'];
  data: DomainEvent['data'];
  metadata: EventMetadata;
  /** 0-based revision in the process's stream */
  revision: number;
  /** global position in the store's log */
  position: Position;
  /** when the registry recorded it (the registry clock, epoch ms) */
  recordedAtMs: number;
  eventId: string;
}

export const historyOf = async (store: EventStore, stream: string): Promise<HistoryEntry[]> =>
  (await store.readStream(stream)).map((stored) => {
    const recorded = decodeEvent(stored);
    return {
      type: recorded.event.type,
      data: recorded.event.data,
      metadata: recorded.metadata,
      revision: recorded.revision,
      position: recorded.position,
      recordedAtMs: recorded.metadata.recordedAtMs,
      eventId: recorded.eventId,
    };
  });
