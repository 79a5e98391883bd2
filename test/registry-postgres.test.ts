import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openRegistry } from '../src/index.ts';
import { openStore } from '../src/store/open.ts';
import { MODEL_TABLES } from '../src/store/postgres-models.ts';
import { VERSION_TABLES } from '../src/store/postgres-versions.ts';
import { registration } from './conformance/fixtures.ts';
import { jsonOf, runCli } from './support/cli-process.ts';
import { seedStore } from './support/cli-seed.ts';
import { expectPostgresModelsMatchLog } from './support/postgres-models-check.ts';
import { testPostgres } from './support/postgres-server.ts';
import { describeMultiProcess } from './support/registry-workers.ts';

const found = await testPostgres('registry-postgres');
const server = 'server' in found ? found.server : undefined;
afterAll(() => server?.stop());

describe.skipIf(!server)('postgres', () => {
  // each test on a fresh schema of one server; every worker process opens the same URL
  describeMultiProcess('PostgreSQL database', async () => {
    const fresh = server!.freshSchema();
    return {
      url: fresh.url,
      // the model tables, written by every process's appends, equal a rebuild of the log
      dispose: async () => {
        await expectPostgresModelsMatchLog(fresh.url, server!.url);
        await fresh.drop();
      },
    };
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

  it('keeps its read models in a local file (readModels=): a restart reads only what is new', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'procreg-pg-models-'));
    const fresh = server!.freshSchema();
    try {
      const models = `sqlite:${join(dir, 'models.db')}`;
      const url = `${fresh.url}&readModels=${models}`;
      const first = await openRegistry(url);
      await first.registerProcess(registration('p'));
      for (let i = 0; i < 30; i++) {
        await first.appendEvent('p', { eventType: 'producer.line', payload: { text: `${i}` } });
      }
      await first.close();
      // written while the models file was closed
      const other = await openRegistry(fresh.url);
      await other.appendEvent('p', { eventType: 'producer.line', payload: { text: 'late' } });
      await other.close();
      // count the events the registry reads from the log while opening and answering
      const counted = async (readModels?: string) => {
        const store = await openStore(fresh.url);
        let read = 0;
        const readAll = store.readAll.bind(store);
        store.readAll = async function* (options) {
          for await (const event of readAll(options)) {
            read += 1;
            yield event;
          }
        };
        const registry = await openRegistry(store, readModels ? { readModels } : {});
        const sequences = (await registry.eventsAfter('p', 0)).map((e) => e.sequence);
        return { registry, sequences, read };
      };
      const withFile = await counted(models);
      expect(withFile.sequences).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
      expect(withFile.read).toBe(1);
      const inMemory = await counted();
      expect(inMemory.read).toBe(32);
      expect(await withFile.registry.verifyProjections()).toEqual([]);
      await inMemory.registry.close();
      await withFile.registry.close();
      // the file follows this schema's log and no other
      const elsewhere = server!.freshSchema();
      await expect(openRegistry(`${elsewhere.url}&readModels=${models}`)).rejects.toMatchObject({
        code: 'invalid',
        message: expect.stringMatching(/follows postgres:\/\/.*schema=t_/),
      });
      await elsewhere.drop();
      await expect(openStore(`${fresh.url}&readModels=${models}`)).rejects.toMatchObject({
        code: 'invalid',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await fresh.drop();
    }
  }, 60_000);

  it('keeps the read models as PostgreSQL tables changed in each append transaction: they equal a rebuild of the log, also after catching up', async () => {
    const fresh = server!.freshSchema();
    const admin = new pg.Client({ connectionString: server!.url });
    await admin.connect();
    const a = await openRegistry(fresh.url);
    const b = await openRegistry(fresh.url);
    const expectTablesMatchRebuild = () => expectPostgresModelsMatchLog(fresh.url, server!.url);
    try {
      const alice = { sessionId: 'alice', agentFrameId: 'main' };
      const bob = { sessionId: 'bob' };
      for (const id of ['p1', 'p2', 'p3']) await a.registerProcess(registration(id));
      await a.grantHandle(alice, 'p1', { label: 'one' });
      await b.grantHandle(alice, 'p2', { kind: 'tool' });
      await a.grantHandle(bob, 'p3', {});
      // several processes in one transaction, from two instances
      await b.transferHandleGrants(alice, bob, ['p1', 'p2']);
      await a.appendEvent('p1', { eventType: 'producer.line', payload: { text: 'x' } });
      const { event } = await b.appendEvent('p1', {
        eventType: 'producer.wake',
        payload: { text: 'wake up' },
        wakeTargetScope: alice,
      });
      await a.appendEvent('p2', {
        eventType: 'producer.wake',
        payload: { text: 'w' },
        wakeTargetScope: bob,
      });
      await a.ackWake('p1', event.sequence);
      const lease = await a.claimProcessLease('p2', 'worker', 60_000);
      await b.renewProcessLease(lease, 120_000);
      const other = await b.claimProcessLease('p3', 'worker', 60_000);
      await a.completeProcessLease({ processId: 'p3', leaseToken: other.leaseToken });
      await b.setExternalRef('p1', { backend: 'k8s', id: 'job-1' });
      await a.completeProcess('p1', { type: 'success', value: 1 });
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? a : b).appendEvent('p3', {
            eventType: 'producer.line',
            payload: { text: `${i}` },
          }),
        ),
      );
      await b.deleteSessionProcessState('bob');
      expect(await expectTablesMatchRebuild()).toBeGreaterThan(30);

      // tables that missed events (emptied here; a schema written without a registry) are
      // brought up to the log before the next append changes them
      await admin.query(
        `TRUNCATE ${[...MODEL_TABLES, ...VERSION_TABLES]
          .map((t) => `"${fresh.schema}".${t}`)
          .join(', ')}; UPDATE "${fresh.schema}".rm_checkpoint SET position = 0`,
      );
      await a.appendEvent('p2', { eventType: 'producer.line', payload: { text: 'after' } });
      await expectTablesMatchRebuild();
    } finally {
      await a.close();
      await b.close();
      await admin.end();
      await fresh.drop();
    }
  }, 60_000);

  it("prune purges the schema's model tables in the transaction that deletes the streams", async () => {
    const fresh = server!.freshSchema();
    const dir = mkdtempSync(join(tmpdir(), 'procreg-pg-prune-'));
    let now = Date.UTC(2025, 0, 1);
    const registry = await openRegistry(fresh.url, { clock: () => now });
    try {
      for (const id of ['p1', 'p2', 'p3']) {
        await registry.registerProcess(registration(id));
        await registry.grantHandle({ sessionId: 'alice' }, id);
        await registry.appendEvent(id, {
          eventType: 'producer.line',
          payload: { text: id },
          replayKey: 'k',
        });
      }
      await registry.completeProcess('p1', { type: 'success', value: 1 });
      await registry.completeProcess('p2', { type: 'success', value: 2 });
      now += 1000;
      const rowsBefore = await expectPostgresModelsMatchLog(fresh.url, server!.url);
      const result = await registry.pruneTerminalProcesses({
        terminalBeforeMs: now,
        archiveTo: dir,
      });
      expect(result.processes.map((p) => p.processId)).toEqual(['p1', 'p2']);
      const rowsAfter = await expectPostgresModelsMatchLog(fresh.url, server!.url);
      expect(rowsAfter).toBeLessThan(rowsBefore);
      // another instance (its own tables, fed by the log) agrees, and a restore puts all back
      const other = await openRegistry(fresh.url);
      try {
        expect((await other.listProcesses()).records.map((p) => p.id)).toEqual(['p3']);
        await other.importArchive(result.archive!);
      } finally {
        await other.close();
      }
      expect(await expectPostgresModelsMatchLog(fresh.url, server!.url)).toBe(rowsBefore);
    } finally {
      await registry.close();
      await fresh.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers asOf from version tables written with each append; a version 1 schema gets them built from its log', async () => {
    const fresh = server!.freshSchema();
    const admin = new pg.Client({ connectionString: server!.url });
    await admin.connect();
    const t = (name: string) => `"${fresh.schema}".${name}`;
    const alice = { sessionId: 'alice' };
    let now = 1_000;
    const open = () => openRegistry(fresh.url, { clock: () => now });
    const viewsAt = async (registry: Awaited<ReturnType<typeof open>>, position: number) => {
      const view = registry.asOf({ position });
      return JSON.parse(
        JSON.stringify({
          all: await view.listProcesses(),
          running: await view.listNonTerminal(),
          grants: await view.listHandleGrants(alice),
          leases: await view.leases(),
        }),
      ) as unknown;
    };
    let a = await open();
    try {
      await a.registerProcess(registration('p1'));
      await a.registerProcess(registration('p2'));
      await a.grantHandle(alice, 'p1', { label: 'one' });
      now += 1_000;
      await a.appendEvent('p1', { eventType: 'producer.line', payload: { text: 'x' } });
      const lease = await a.claimProcessLease('p2', 'worker', 60_000);
      await a.completeProcessLease({ processId: 'p2', leaseToken: lease.leaseToken });
      now += 1_000;
      await a.revokeHandle(alice, 'p1');
      await a.completeProcess('p1', { type: 'success', value: 1 });
      const head = Number(await a.asOf(now).position());
      const before = await Promise.all(Array.from({ length: head + 1 }, (_, p) => viewsAt(a, p)));
      const count = async (table: string) =>
        Number((await admin.query(`SELECT count(*) AS n FROM ${t(table)}`)).rows[0].n);
      // p1 registered, completed; p2 registered: three record versions
      expect(await count('rm_record_versions')).toBe(3);
      expect(await count('rm_grant_versions')).toBe(1);
      expect(await count('rm_lease_versions')).toBe(1);
      expect(await count('rm_time')).toBe(3);
      expect(await a.asOf(1_500).position()).toBe(3n);

      // the views come from the version tables, not from a replay of the log
      await admin.query(
        `UPDATE ${t('rm_record_versions')} SET record = (record::jsonb || '{"status":{"state":"failed"}}')::json WHERE process_id = 'p2'`,
      );
      expect(
        (await a.asOf({ position: head }).listProcesses()).records.map((r) => r.status.state),
      ).toEqual(['completed', 'failed']);
      await a.close();

      // what a version 1 schema holds: no version tables, no index of events by position, no
      // occurred_at_ms
      await admin.query(
        `DROP TABLE ${VERSION_TABLES.map(t).join(', ')};
         DROP INDEX ${t('rm_events_by_position')};
         ALTER TABLE ${t('rm_events')} DROP COLUMN occurred_at_ms;
         UPDATE ${t('procreg_meta')} SET value = '1' WHERE key = 'schema_version'`,
      );
      a = await open();
      const after = await Promise.all(Array.from({ length: head + 1 }, (_, p) => viewsAt(a, p)));
      expect(after).toEqual(before);
      const meta = await admin.query(
        `SELECT value FROM ${t('procreg_meta')} WHERE key = 'schema_version'`,
      );
      expect(meta.rows[0].value).toBe('3');
      await expectPostgresModelsMatchLog(fresh.url, server!.url);
    } finally {
      await a.close();
      await admin.end();
      await fresh.drop();
    }
  }, 60_000);
  it('appends without reading the log: plans a connection made on a new, small log use the indexes once it has grown', async () => {
    const fresh = server!.freshSchema();
    // every connection of both registries carries this name, to see when they are gone
    const name = `procreg-plans-${fresh.schema}`;
    const named = `${fresh.url}&application_name=${name}`;
    const admin = new pg.Client({ connectionString: server!.url });
    await admin.connect();
    try {
      const line = (text: string) => ({ eventType: 'producer.line', payload: { text } });
      // a: its statements are planned (and the plans kept) while the log is a few events long
      const a = await openRegistry(named);
      await a.registerProcess(registration('p-a'));
      for (let i = 0; i < 8; i++) await a.appendEvent('p-a', line(`early ${i}`));
      // b grows the log to a few thousand events
      const b = await openRegistry(named);
      await b.registerProcess(registration('p-b'));
      for (let k = 0; k < 20; k++) {
        await b.appendEvents(
          'p-b',
          Array.from({ length: 100 }, (_, i) => line(`bulk ${k}.${i}`)),
        );
      }
      for (let i = 0; i < 20; i++) await a.appendEvent('p-a', line(`late ${i}`));
      await a.close();
      await b.close();
      // a backend writes its statistics before it leaves pg_stat_activity
      for (;;) {
        const { rows } = await admin.query(
          'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
          [name],
        );
        if (rows[0].n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const { rows } = await admin.query(
        `SELECT s.seq_tup_read::int AS read, (SELECT count(*)::int FROM "${fresh.schema}".events) AS events
           FROM pg_stat_user_tables s WHERE s.schemaname = $1 AND s.relname = 'events'`,
        [fresh.schema],
      );
      const { read, events } = rows[0];
      expect(events).toBe(2 + 8 + 2000 + 20);
      // a plan that scans the log reads it whole for each append: 20 late appends alone
      // would read 40 000 rows and more
      expect(read).toBeLessThan(events);
    } finally {
      await admin.end();
      await fresh.drop();
    }
  }, 60_000);
});
