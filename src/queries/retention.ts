import { RETENTION_STREAM, type RecordedPrune, readRetentionEvent } from '../domain/retention.ts';
import type { EventStore } from '../store/port.ts';

/** Every prune the log records, in order (one event per prune: a short stream). */
export const readPrunes = async (store: EventStore): Promise<RecordedPrune[]> =>
  (await store.readStream(RETENTION_STREAM)).map(readRetentionEvent);
