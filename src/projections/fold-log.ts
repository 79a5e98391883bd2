import type { RecordedDomainEvent } from '../domain/codec.ts';
import type { EventStore, Position } from '../store/port.ts';
import type { ReadModelTables } from '../store/read-model-tables.ts';
import type { EventReader } from './event-reader.ts';
import { advanceDigest, PrunedSteps } from './log-digest.ts';
import { applyInput, readModelInput } from './project.ts';

export interface FoldOptions {
  /** fold the events after the tables' checkpoint up to this position, inclusive */
  upTo?: Position;
  /** after each event is in the tables */
  onEvent?: (recorded: RecordedDomainEvent) => void;
}

/**
 * Folds the store's log into tables, in position order, moving their checkpoint with each
 * event: the one loop behind rebuilding feed-fed models (EventStoreDB), the scratch rebuild
 * that `verifyProjections` compares with, and `asOf` listings on stores without versions. Stops (throws `unavailable`) at an
 * event it cannot read, with the checkpoint just before it.
 */
export const foldLog = async (
  store: EventStore,
  tables: ReadModelTables,
  reader: EventReader,
  options: FoldOptions = {},
): Promise<void> => {
  const { upTo, onEvent } = options;
  const pruned = new PrunedSteps();
  await pruned.load(store);
  // the whole log: process streams and the retention stream (prunes) are both the models'
  for await (const stored of store.readAll({ fromPosition: tables.checkpoint() })) {
    if (upTo !== undefined && stored.position > upTo) return;
    const input = readModelInput(reader, stored);
    if (!input) continue;
    applyInput(tables, input);
    advanceDigest(tables, 'process' in input ? [stored] : [], pruned, stored.position);
    tables.setCheckpoint(stored.position);
    if ('process' in input) onEvent?.(input.process);
  }
};
