import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openRegistry } from '../src/index.ts';
import { jsonOf, runCli } from './support/cli-process.ts';
import { seedStore } from './support/cli-seed.ts';
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

  it('`procreg copy --to postgres://…` from SQLite, then `procreg verify` on the copy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'procreg-pg-copy-'));
    const fresh = server!.freshSchema();
    try {
      const from = `sqlite:${join(dir, 'seeded.db')}`;
      await seedStore(from);
      const copy = await runCli(['copy', '--from', from, '--to', fresh.url, '--json']);
      expect(copy.code, copy.stderr).toBe(0);
      expect(jsonOf(copy)).toEqual({ copied: 9, from, to: fresh.url });
      const verify = await runCli(['--store', fresh.url, 'verify']);
      expect(verify.code, verify.stderr).toBe(0);
      expect(verify.stdout).toMatch(
        /^ok: every read model matches its rebuild from the log \(up to position 9\)/,
      );
      // the copy holds the same log, event for event
      const again = await runCli(['copy', '--from', from, '--to', fresh.url]);
      expect(again.code).toBe(5);
      expect(again.stderr).toMatch(/already holds procreg events/);
      const exported = async (url: string) => {
        const registry = await openRegistry(url);
        try {
          const lines: unknown[] = [];
          for await (const line of registry.exportEvents()) lines.push(line);
          return lines;
        } finally {
          await registry.close();
        }
      };
      expect(await exported(fresh.url)).toEqual(await exported(from));
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await fresh.drop();
    }
  }, 60_000);
});
