import pg from 'pg';
import { expect } from 'vitest';
import { EventReader } from '../../src/projections/event-reader.ts';
import { foldLog } from '../../src/projections/fold-log.ts';
import { MemoryTables } from '../../src/store/memory-tables.ts';
import { openStore } from '../../src/store/open.ts';
import { dumpPostgresModels } from '../../src/store/postgres-models.ts';

/**
 * Asserts that the read-model tables a PostgreSQL schema holds are exactly a rebuild of its
 * log (the same definitions folded in memory), at the log's head. Returns the row count.
 */
export const expectPostgresModelsMatchLog = async (url: string, serverUrl: string) => {
  const schema = new URL(url).searchParams.get('schema') ?? 'procreg';
  const store = await openStore(url);
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    const rebuilt = new MemoryTables();
    await foldLog(store, rebuilt, new EventReader());
    const stored = await dumpPostgresModels(admin, schema);
    expect(stored.checkpoint).toBe(rebuilt.checkpoint());
    // the schema keeps no change-feed index (`changed/`: processesChangedSince reads the
    // registry's own models, never the schema's)
    const expected = [...rebuilt.dump().rows].filter(([key]) => !key.startsWith('changed/'));
    expect(stored.rows).toEqual(new Map(expected));
    return stored.rows.size;
  } finally {
    await admin.end();
    await store.close();
  }
};
