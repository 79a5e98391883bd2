import type { RecordedDomainEvent } from '../domain/codec.ts';
import { STREAM_PREFIX } from '../domain/events.ts';
import type { StoredEvent } from '../store/port.ts';
import type { InlineProjection, ReadModelTables } from '../store/read-model-tables.ts';
import type { ProjectedEvent, ReadModel } from './definition.ts';
import type { EventReader } from './event-reader.ts';
import { grantsModel } from './grants.ts';
import { leasesModel } from './leases.ts';
import { processEventsModel } from './process-events.ts';
import { processesModel } from './processes.ts';
import { replayKeysModel } from './replay-keys.ts';
import { unackedWakesModel } from './wakes.ts';

/** Every read model the queries use. All are folds of the domain events and nothing else. */
export const READ_MODELS: readonly ReadModel[] = [
  processesModel,
  grantsModel,
  leasesModel,
  unackedWakesModel,
  processEventsModel,
  replayKeysModel,
];

/** Applies one event to every read model. Deterministic, no I/O but the tables'. */
export const applyEvent = (tables: ReadModelTables, projected: ProjectedEvent): void => {
  for (const model of READ_MODELS) {
    for (const change of model.apply(projected, tables)) tables.write(change, projected.position);
  }
  tables.recordTime(projected.position, projected.metadata.recordedAtMs);
};

/** Only process streams carry domain events; anything else in the log is not ours to read. */
export const isProcessStream = (stored: StoredEvent): boolean =>
  stored.stream.startsWith(STREAM_PREFIX);

/**
 * The projection durable stores run inside their append transactions. It reads every event
 * of the batch before writing any row, so an unreadable event refuses the whole batch
 * and leaves the tables as they were.
 */
export const inlineProjection = (reader: EventReader): InlineProjection => ({
  project(events, tables) {
    const recorded: RecordedDomainEvent[] = [];
    for (const stored of events) if (isProcessStream(stored)) recorded.push(reader.read(stored));
    for (const r of recorded) applyEvent(tables, r);
  },
});
