import { afterAll, describe } from 'vitest';
import { testPostgres } from './support/postgres-server.ts';
import { describeMultiProcess } from './support/registry-workers.ts';

const found = await testPostgres('registry-postgres');
const server = 'server' in found ? found.server : undefined;
afterAll(() => server?.stop());

describe.skipIf(!server)('postgres', () => {
  // each test on a fresh schema of one server; every worker process opens the same URL
  describeMultiProcess('PostgreSQL database', async () => {
    const fresh = server!.freshSchema();
    return { url: fresh.url, dispose: fresh.drop };
  });
});
