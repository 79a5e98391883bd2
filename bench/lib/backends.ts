import { join } from 'node:path';
import { openRegistry, type ProcessRegistry } from '../../src/index.ts';
import { MemoryEventStore } from '../../src/store/memory.ts';
import { fixedClock } from './fixtures.ts';
import { type SyntheticEvent, writeMemoryLog, writeSqliteLog } from './synthetic-log.ts';

/** A store kind the scenarios compare: filled with synthetic events, then opened as a registry. */
export interface Backend {
  name: string;
  /** writes `events` into a new store and opens a registry on it (which rebuilds its read models) */
  open(events: Iterable<SyntheticEvent>, label: string): Promise<ProcessRegistry>;
}

export const memoryBackend: Backend = {
  name: 'memory',
  open: async (events) => {
    const store = new MemoryEventStore();
    await writeMemoryLog(store, events);
    return openRegistry(store, { clock: fixedClock });
  },
};

/** SQLite files under `dir`; `synchronous` as in the store URL. */
export const sqliteBackend = (dir: string, synchronous: 'full' | 'normal'): Backend => ({
  name: `SQLite (synchronous=${synchronous.toUpperCase()})`,
  open: async (events, label) => {
    const path = join(dir, `${label}.db`);
    writeSqliteLog(path, events);
    return openRegistry(`sqlite:${path}?synchronous=${synchronous}`, { clock: fixedClock });
  },
});
