import { afterAll, describe } from 'vitest';
import { openStore } from '../src/store/open.ts';
import { describeConformance } from './support/conformance.ts';
import { testPostgres } from './support/postgres-server.ts';
import { rewritePostgresEvent } from './support/rewrite-event.ts';

const found = await testPostgres('conformance-postgres');
const server = 'server' in found ? found.server : undefined;
afterAll(() => server?.stop());

/**
 * The full registry conformance suite on PostgreSQL: one server for the file, a fresh
 * schema per test; every connection is a new store (its own pool and LISTEN connection)
 * on that schema. (Registries with a read-models file, readModels=, share their code with
 * EventStoreDB's, whose conformance file runs the suite that way; registry-postgres tests
 * the option on PostgreSQL.)
 */
describe.skipIf(!server)('postgres', () => {
  describeConformance({
    name: 'postgres',
    durabilityTier: 'durable',
    harness: async () => {
      const fresh = server!.freshSchema();
      return {
        connect: () => openStore(fresh.url),
        dispose: fresh.drop,
        rewrite: (stream, revision, event) =>
          rewritePostgresEvent(server!.url, fresh.schema, stream, revision, event),
      };
    },
  });
});
