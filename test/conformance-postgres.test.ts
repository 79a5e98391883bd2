import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe } from 'vitest';
import { openStore } from '../src/store/open.ts';
import { describeConformance } from './support/conformance.ts';
import { testPostgres } from './support/postgres-server.ts';

const found = await testPostgres('conformance-postgres');
const server = 'server' in found ? found.server : undefined;
afterAll(() => server?.stop());

const modelsDir = mkdtempSync(join(tmpdir(), 'procreg-pg-conformance-'));
afterAll(() => rmSync(modelsDir, { recursive: true, force: true }));
let modelsFiles = 0;

/**
 * The full registry conformance suite on PostgreSQL: one server for the file, a fresh
 * schema per test; every connection is a new store (its own pool and LISTEN connection)
 * on that schema. Then again with each registry's read models in a SQLite file of its own
 * (readModels=), fed from the log after the file's checkpoint.
 */
describe.skipIf(!server)('postgres', () => {
  const harness = async () => {
    const fresh = server!.freshSchema();
    return { connect: () => openStore(fresh.url), dispose: fresh.drop };
  };
  describeConformance({ name: 'postgres', durabilityTier: 'durable', harness });
  describeConformance({
    name: 'postgres, read models in SQLite files',
    durabilityTier: 'durable',
    harness,
    registryOptions: () => ({ readModels: `sqlite:${join(modelsDir, `m${modelsFiles++}.db`)}` }),
  });
});
