import type { RecordedDomainEvent } from '../domain/codec.ts';
import { STREAM_PREFIX } from '../domain/events.ts';
import { isRetentionStream, type RecordedPrune, readRetentionEvent } from '../domain/retention.ts';
import type { StoredEvent } from '../store/port.ts';
import type { InlineProjection, ReadModelTables } from '../store/read-model-tables.ts';
import type { ProjectedEvent, ReadModel } from './definition.ts';
import type { EventReader } from './event-reader.ts';
import { grantsModel } from './grants.ts';
import { leasesModel } from './leases.ts';
import { advanceDigest, type PrunedSteps } from './log-digest.ts';
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
 * What the read models take from the log: process events, and prunes from the retention
 * stream (which take every row of the pruned processes away).
 */
export type ModelInput = { process: RecordedDomainEvent } | { prune: RecordedPrune };

/** The event as the models read it; undefined for a stream that is not procreg's. */
export const readModelInput = (
  reader: EventReader,
  stored: StoredEvent,
  /** for tables that store copies (see EventReader.read) */
  copied = false,
): ModelInput | undefined => {
  if (isProcessStream(stored)) return { process: reader.read(stored, copied) };
  if (isRetentionStream(stored.stream)) return { prune: readRetentionEvent(stored) };
  return undefined;
};

export const applyInput = (tables: ReadModelTables, input: ModelInput): void => {
  if ('process' in input) {
    applyEvent(tables, input.process);
    return;
  }
  const { prune } = input;
  for (const { processId } of prune.event.data.processes) {
    tables.write({ table: 'all', purge: { processId } }, prune.position);
  }
  tables.recordTime(prune.position, prune.metadata.recordedAtMs);
};

/**
 * The projection durable stores run inside their append transactions. It reads every event
 * of the batch before writing any row, so an unreadable event refuses the whole batch
 * and leaves the tables as they were; the log digest moves with the rows.
 */
export const inlineProjection = (reader: EventReader, pruned?: PrunedSteps): InlineProjection => ({
  project(events, tables) {
    const inputs: ModelInput[] = [];
    const copied = tables.keepsCopies === true;
    for (const stored of events) {
      const input = readModelInput(reader, stored, copied);
      if (input) inputs.push(input);
    }
    for (const input of inputs) applyInput(tables, input);
    advanceDigest(tables, events.filter(isProcessStream), pruned, events.at(-1)?.position);
  },
});
