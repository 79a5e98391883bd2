import { isDeepStrictEqual } from 'node:util';
import type { EventReader } from '../projections/event-reader.ts';
import { foldLog } from '../projections/fold-log.ts';
import { MemoryTables } from '../store/memory-tables.ts';
import type { EventStore, Position } from '../store/port.ts';
import type { ReadModelTables } from '../store/read-model-tables.ts';

/** One row where a live read model and its rebuild from the log disagree. */
export interface ProjectionDifference {
  model: string;
  key: string;
  live: unknown;
  rebuilt: unknown;
}

/** Folds the log up to `upTo` (inclusive) into fresh scratch tables in memory. */
export const rebuildReadModels = async (
  store: EventStore,
  reader: EventReader,
  upTo: Position,
  onProgress?: (position: Position) => void,
): Promise<MemoryTables> => {
  const tables = new MemoryTables();
  await foldLog(store, tables, reader, {
    upTo,
    ...(onProgress ? { onEvent: (recorded) => onProgress(recorded.position) } : {}),
  });
  return tables;
};

/**
 * Rebuilds the models from the log up to the live tables' checkpoint and compares every
 * row; empty when the live models are exactly what the log says.
 */
export const verifyReadModels = async (
  store: EventStore,
  reader: EventReader,
  live: ReadModelTables,
  onProgress?: (progress: { events: number; position: Position; upTo: Position }) => void,
): Promise<ProjectionDifference[]> => {
  const { checkpoint: upTo, rows } = live.dump();
  let events = 0;
  const rebuilt = await rebuildReadModels(
    store,
    reader,
    upTo,
    onProgress && ((position) => onProgress({ events: ++events, position, upTo })),
  );
  return diffRows(rows, rebuilt.dump().rows);
};

/** Compares two dumps row by row. */
export const diffRows = (
  left: ReadonlyMap<string, unknown>,
  right: ReadonlyMap<string, unknown>,
): ProjectionDifference[] => {
  const differences: ProjectionDifference[] = [];
  for (const key of new Set([...left.keys(), ...right.keys()])) {
    const a = left.get(key);
    const b = right.get(key);
    if (isDeepStrictEqual(a, b)) continue;
    const slash = key.indexOf('/');
    differences.push({
      model: key.slice(0, slash),
      key: key.slice(slash + 1),
      live: a,
      rebuilt: b,
    });
  }
  return differences;
};
