import { isDeepStrictEqual } from 'node:util';
import { decodeEvent } from '../domain/codec.ts';
import { STREAM_PREFIX } from '../domain/events.ts';
import {
  applyToReadModels,
  createReadModels,
  type ReadModels,
} from '../projections/read-models.ts';
import type { EventStore, Position } from '../store/port.ts';

/** One entry where a live read model and its rebuild from the log disagree. */
export interface ProjectionDifference {
  model: string;
  key: string;
  live: unknown;
  rebuilt: unknown;
}

/** Folds the log up to `to` (inclusive) into fresh read models. */
export const rebuildReadModels = async (
  store: EventStore,
  to?: Position,
  onProgress?: (position: Position) => void,
): Promise<ReadModels> => {
  const models = createReadModels();
  for await (const stored of store.readAll({ streamPrefix: STREAM_PREFIX })) {
    if (to !== undefined && stored.position > to) break;
    applyToReadModels(models, decodeEvent(stored).event);
    onProgress?.(stored.position);
  }
  return models;
};

/** Flattens a read model into comparable entries, one per top-level key. */
const entriesOf = (model: unknown): Map<string, unknown> => {
  if (model instanceof Map) {
    return new Map([...model].map(([k, v]) => [String(k), normalize(v)]));
  }
  if (model instanceof Set) return new Map([...model].map((k) => [String(k), true]));
  if (model && typeof model === 'object') {
    return new Map(Object.entries(model).map(([k, v]) => [k, normalize(v)]));
  }
  return new Map([['value', model]]);
};

/** Maps and Sets become sorted plain structures, so insertion order does not count. */
const normalize = (value: unknown): unknown => {
  if (value instanceof Map) {
    return [...value].map(([k, v]) => [k, normalize(v)]).sort(byKey);
  }
  if (value instanceof Set) return [...value].sort();
  return value;
};

const byKey = (a: unknown[], b: unknown[]): number => String(a[0]).localeCompare(String(b[0]));

export const diffReadModels = (live: ReadModels, rebuilt: ReadModels): ProjectionDifference[] => {
  const differences: ProjectionDifference[] = [];
  const parts: [string, unknown, unknown][] = [
    ['processes.records', live.processes.records, rebuilt.processes.records],
    ['processes.nonTerminal', live.processes.nonTerminal, rebuilt.processes.nonTerminal],
    ['grants.byScope', live.grants.byScope, rebuilt.grants.byScope],
    ['grants.byProcess', live.grants.byProcess, rebuilt.grants.byProcess],
    ['leases', live.leases, rebuilt.leases],
    ['unackedWakes', live.unackedWakes, rebuilt.unackedWakes],
    ['eventIndex', live.eventIndex, rebuilt.eventIndex],
  ];
  for (const [model, a, b] of parts) {
    const left = entriesOf(a);
    const right = entriesOf(b);
    for (const key of new Set([...left.keys(), ...right.keys()])) {
      if (!isDeepStrictEqual(left.get(key), right.get(key))) {
        differences.push({ model, key, live: left.get(key), rebuilt: right.get(key) });
      }
    }
  }
  return differences;
};
