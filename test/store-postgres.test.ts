import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, openStoreFrom, parsePostgresUrl } from '../src/store/open.ts';
import type { EventStore, NewEvent, StoredEvent } from '../src/store/port.ts';
import { WrongExpectedRevisionError } from '../src/store/port.ts';
import { openPostgresStore } from '../src/store/postgres.ts';
import type { PostgresStoreOptions } from '../src/store/postgres-settings.ts';
import { testPostgres } from './support/postgres-server.ts';
import { expectRegistryError } from './support/registry-errors.ts';
import { collect, describeStoreContract } from './support/store-contract.ts';

const found = await testPostgres('store-postgres');
const server = 'server' in found ? found.server : undefined;
afterAll(() => server?.stop());

const event = (data: Record<string, string | number> = {}): NewEvent => ({
  id: randomUUID(),
  type: 'T',
  data,
  metadata: { command: 'test' },
});

const waitUntil = async (done: () => boolean, what: string, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

/** A store on a fresh schema of the test server, dropped (on a shared server) afterwards. */
const freshStore = async (options: PostgresStoreOptions = {}) => {
  const fresh = server!.freshSchema();
  const { connectionString, options: fromUrl } = parsePostgresUrl(fresh.url);
  const store = await openPostgresStore(connectionString, { ...fromUrl, ...options });
  return { store, fresh, dispose: fresh.drop };
};

describe.skipIf(!server)('postgres', () => {
  describeStoreContract('postgres', freshStore);

  describe('postgres store', () => {
    it('opens postgres:// and postgresql:// URLs and options objects, durable', async () => {
      const fresh = server!.freshSchema();
      const stores: EventStore[] = [
        await openStore(fresh.url),
        await openStore(fresh.url.replace(/^postgres:/, 'postgresql:')),
        await openStoreFrom({
          kind: 'postgres',
          connectionString: server!.url,
          schema: fresh.schema,
        }),
        await openStoreFrom({ url: fresh.url }),
      ];
      const s = `process-${randomUUID()}`;
      await stores[0]!.appendToStream(s, [event()], { expectedRevision: 'no_stream' });
      for (const store of stores) {
        expect(store.durabilityTier).toBe('durable');
        expect(await store.streamRevision(s)).toBe(0);
        await store.close();
      }
      await fresh.drop();
    });

    it('splits procreg parameters off the URL and refuses bad ones, opening nothing', async () => {
      expect(
        parsePostgresUrl(
          'postgres://u:p@h:5/db?sslmode=require&schema=a_b&poolSize=3&statementTimeoutMs=500',
        ),
      ).toEqual({
        connectionString: 'postgres://u:p@h:5/db?sslmode=require',
        options: { schema: 'a_b', poolSize: 3, statementTimeoutMs: 500 },
      });
      await expectRegistryError(openStore(`${server!.url}?poolSize=0`), 'invalid', /poolSize/);
      await expectRegistryError(
        openStore(`${server!.url}?schema=Robert');--`),
        'invalid',
        /schema/,
      );
      await expectRegistryError(
        openStoreFrom({ kind: 'postgres', connectionString: 'mysql://x' }),
        'invalid',
      );
    });

    it('fails `unavailable` naming host:port when the server cannot be reached, without the password', async () => {
      const error = await openStore(
        'postgres://me:s3cret@127.0.0.1:1/db?connectTimeoutMs=2000',
      ).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error).toMatchObject({ code: 'unavailable' });
      expect(error!.message).toMatch(/PostgreSQL at 127\.0\.0\.1:1\/db/);
      expect(error!.message).not.toMatch(/s3cret/);
    });

    it('creates a versioned schema once, refuses foreign and newer ones', async () => {
      const { store, fresh } = await freshStore();
      await store.close();
      const admin = new pg.Client({ connectionString: server!.url });
      await admin.connect();
      try {
        const meta = await admin.query(
          `SELECT key, value FROM "${fresh.schema}".procreg_meta ORDER BY key`,
        );
        expect(meta.rows).toEqual([
          { key: 'format', value: 'procreg' },
          { key: 'schema_version', value: '3' },
        ]);
        // opening again (several at once) finds it rather than creating it again
        const again = await Promise.all([1, 2, 3].map(() => openStore(fresh.url)));
        for (const s of again) await s.close();
        await admin.query(
          `UPDATE "${fresh.schema}".procreg_meta SET value = '99' WHERE key = 'schema_version'`,
        );
        await expectRegistryError(openStore(fresh.url), 'invalid', /newer than this procreg/);
        const foreign = `f_${randomUUID().slice(0, 8)}`;
        await admin.query(`CREATE SCHEMA ${foreign}; CREATE TABLE ${foreign}.orders (id int)`);
        await expectRegistryError(
          openStore(`${server!.url}?schema=${foreign}`),
          'invalid',
          /not procreg's/,
        );
        const tables = await admin.query(
          'SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1',
          [foreign],
        );
        expect(tables.rows[0].n).toBe(1);
        await admin.query(`DROP SCHEMA ${foreign} CASCADE`);
      } finally {
        await admin.end();
        await fresh.drop();
      }
    });

    it('keeps registries in different schemas of one database apart', async () => {
      const a = await freshStore();
      const b = await freshStore();
      const s = `process-${randomUUID()}`;
      await a.store.appendToStream(s, [event()], { expectedRevision: 'no_stream' });
      expect(await b.store.streamRevision(s)).toBe(-1);
      expect(await collect(b.store.readAll())).toEqual([]);
      for (const x of [a, b]) {
        await x.store.close();
        await x.dispose();
      }
    });

    it('refuses an event id stored elsewhere or repeated within an append (conflict), storing nothing', async () => {
      const { store, dispose } = await freshStore();
      const first = event();
      await store.appendToStream('process-a', [first], { expectedRevision: 'no_stream' });
      await expectRegistryError(
        store.appendToStream('process-b', [event(), first], { expectedRevision: 'no_stream' }),
        'conflict',
        /already stored \(stream process-a, revision 0\)/,
      );
      const twice = event();
      await expectRegistryError(
        store.appendToStreams([
          { stream: 'process-c', events: [twice], expectedRevision: 'no_stream' },
          { stream: 'process-d', events: [twice], expectedRevision: 'no_stream' },
        ]),
        'conflict',
        /appears twice/,
      );
      expect((await collect(store.readAll())).map((e) => e.stream)).toEqual(['process-a']);
      await store.close();
      await dispose();
    });

    it('fails only the append the server refuses when a group commit is refused as a whole', async () => {
      const { store, dispose } = await freshStore();
      const outcomes = await Promise.allSettled([
        store.appendToStream('process-ok-1', [event()], { expectedRevision: 'no_stream' }),
        store.appendToStream('process-bad', [{ ...event(), type: 'nul\u0000type' }], {
          expectedRevision: 'no_stream',
        }),
        store.appendToStream('process-ok-2', [event()], { expectedRevision: 'no_stream' }),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      await expectRegistryError(
        Promise.reject((outcomes[1] as PromiseRejectedResult).reason),
        'invalid',
        /refused the data while appending/,
      );
      expect((await collect(store.readAll())).map((e) => e.stream)).toEqual([
        'process-ok-1',
        'process-ok-2',
      ]);
      await store.close();
      await dispose();
    });

    it('checks each append of one group commit on its own: a stale one fails alone', async () => {
      const { store, dispose } = await freshStore();
      await store.appendToStream('process-x', [event()], { expectedRevision: 'no_stream' });
      const outcomes = await Promise.allSettled([
        store.appendToStream('process-x', [event({ n: 1 })], { expectedRevision: 0 }),
        store.appendToStream('process-x', [event({ n: 2 })], { expectedRevision: 0 }),
        store.appendToStream('process-y', [event()], { expectedRevision: 'no_stream' }),
        store.appendToStream('process-x', [event({ n: 3 })], { expectedRevision: 1 }),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual([
        'fulfilled',
        'rejected',
        'fulfilled',
        'fulfilled',
      ]);
      expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(
        WrongExpectedRevisionError,
      );
      const log = await collect(store.readAll());
      expect(log.map((e) => e.position)).toEqual([1n, 2n, 3n, 4n]);
      expect((await store.readStream('process-x')).map((e) => e.data)).toEqual([
        {},
        { n: 1 },
        { n: 3 },
      ]);
      await store.close();
      await dispose();
    });

    it('bounds statements by statementTimeoutMs (a transaction holding the log lock) and connections by poolSize', async () => {
      const fresh = server!.freshSchema();
      const app = `pool_${randomUUID().slice(0, 8)}`;
      const store = await openStore(
        `${fresh.url}&statementTimeoutMs=300&poolSize=2&application_name=${app}`,
      );
      const admin = new pg.Client({ connectionString: server!.url });
      await admin.connect();
      try {
        await Promise.all(Array.from({ length: 30 }, (_, i) => store.readStream(`process-${i}`)));
        const { rows } = await admin.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
          [app],
        );
        expect(rows[0]!.n).toBeGreaterThan(0);
        expect(rows[0]!.n).toBeLessThanOrEqual(2);
        // someone else's long transaction holds the log head: the append gives up in time
        await admin.query('BEGIN');
        await admin.query(`SELECT * FROM "${fresh.schema}".log_head FOR UPDATE`);
        await expectRegistryError(
          store.appendToStream('process-t', [event()], { expectedRevision: 'no_stream' }),
          'unavailable',
          /did not finish appending within the statement timeout of 300 ms/,
        );
        await admin.query('ROLLBACK');
        // nothing was stored, and the store works again
        expect(await store.streamRevision('process-t')).toBe(-1);
        await store.appendToStream('process-t', [event()], { expectedRevision: 'no_stream' });
        expect(await store.streamRevision('process-t')).toBe(0);
      } finally {
        await admin.end();
        await store.close();
        await fresh.drop();
      }
    });

    it('opens every connection with READ COMMITTED and JIT off, whatever the database defaults to', async () => {
      const admin = new pg.Client({ connectionString: server!.url });
      await admin.connect();
      // a database of its own whose defaults procreg must not inherit
      const database = `t_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
      await admin.query(`CREATE DATABASE ${database}`);
      await admin.query(
        `ALTER DATABASE ${database} SET default_transaction_isolation = 'serializable'`,
      );
      await admin.query(`ALTER DATABASE ${database} SET jit = on`);
      const url = new URL(server!.url);
      url.pathname = `/${database}`;
      const store = await openPostgresStore(url.toString(), { poolSize: 3 });
      try {
        // the store's own pool (no public way to run SQL on it), all three connections
        const { pool } = store as unknown as { pool: pg.Pool };
        const clients = await Promise.all([1, 2, 3].map(() => pool.connect()));
        const settings = await Promise.all(
          clients.map(async (client) => {
            const { rows } = await client.query(
              "SELECT current_setting('default_transaction_isolation') AS isolation, current_setting('jit') AS jit",
            );
            client.release();
            return rows[0];
          }),
        );
        expect(settings).toEqual(Array(3).fill({ isolation: 'read committed', jit: 'off' }));
      } finally {
        await store.close();
        await admin.query(`DROP DATABASE ${database}`);
        await admin.end();
      }
    });

    it('keeps JSON text exactly, also \\u0000 and key order', async () => {
      const { store, dispose } = await freshStore();
      const e: NewEvent = {
        id: randomUUID(),
        type: 'T',
        data: { z: 'a\u0000b', a: [1e21, -0.5, '\u{1F600}'] },
        metadata: null,
      };
      await store.appendToStream('process-j', [e], { expectedRevision: 'no_stream' });
      const [read] = await store.readStream('process-j');
      expect(JSON.stringify(read!.data)).toBe(JSON.stringify(e.data));
      expect(read!.metadata).toBeNull();
      await store.close();
      await dispose();
    });
  });

  describe('live feed by LISTEN/NOTIFY', () => {
    // no safety poll within the test: only a NOTIFY (or the catch-up after a reconnect) can deliver
    const noPoll = { safetyPollMs: 3_600_000, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } };

    const listenerPids = async (admin: pg.Client, schema: string): Promise<number[]> =>
      (
        await admin.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE query = $1 AND state = 'idle'`,
          [`LISTEN "procreg_${schema}"`],
        )
      ).rows.map((r) => r.pid);

    const until = async <T>(probe: () => Promise<T | undefined>, what: string): Promise<T> => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const value = await probe();
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    it('wakes another instance by NOTIFY, and re-listens and catches up after its connection is killed', async () => {
      const { store: writer, fresh, dispose } = await freshStore();
      const { connectionString, options } = parsePostgresUrl(fresh.url);
      const watcher = await openPostgresStore(connectionString, { ...options, ...noPoll });
      const admin = new pg.Client({ connectionString: server!.url });
      await admin.connect();
      const seen: StoredEvent[] = [];
      const sub = watcher.subscribeToAll().subscribe((e) => seen.push(e));
      try {
        const [first] = await until(async () => {
          const pids = await listenerPids(admin, fresh.schema);
          return pids.length === 1 ? pids : undefined;
        }, 'the LISTEN connection');
        await writer.appendToStream('process-n', [event({ n: 0 })], {
          expectedRevision: 'no_stream',
        });
        await waitUntil(() => seen.length === 1, 'the NOTIFY');
        await admin.query('SELECT pg_terminate_backend($1)', [first]);
        // appended while nobody listens: found by the catch-up after re-listening
        await writer.appendToStream('process-n', [event({ n: 1 })], { expectedRevision: 0 });
        await until(async () => {
          const pids = await listenerPids(admin, fresh.schema);
          return pids.length === 1 && pids[0] !== first ? pids : undefined;
        }, 'a new LISTEN connection');
        await waitUntil(() => seen.length === 2, 'the catch-up');
        await writer.appendToStream('process-n', [event({ n: 2 })], { expectedRevision: 1 });
        await waitUntil(() => seen.length === 3, 'the NOTIFY on the new connection');
        expect(seen.map((e) => e.data)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
        expect(seen.map((e) => e.position)).toEqual([1n, 2n, 3n]);
      } finally {
        sub.unsubscribe();
        await admin.end();
        await watcher.close();
        await writer.close();
        await dispose();
      }
    });

    it('closes its LISTEN connection when the last subscriber leaves, and on close', async () => {
      const { store, fresh, dispose } = await freshStore();
      const admin = new pg.Client({ connectionString: server!.url });
      await admin.connect();
      try {
        const sub = store.subscribeToAll().subscribe();
        await until(
          async () => ((await listenerPids(admin, fresh.schema)).length === 1 ? true : undefined),
          'LISTEN',
        );
        sub.unsubscribe();
        await until(
          async () => ((await listenerPids(admin, fresh.schema)).length === 0 ? true : undefined),
          'UNLISTEN',
        );
        store.subscribeToAll().subscribe();
        await until(
          async () => ((await listenerPids(admin, fresh.schema)).length === 1 ? true : undefined),
          'LISTEN',
        );
        await store.close();
        await until(
          async () => ((await listenerPids(admin, fresh.schema)).length === 0 ? true : undefined),
          'close',
        );
        await expectRegistryError(store.streamRevision('x'), 'unavailable', /closed/);
      } finally {
        await admin.end();
        await dispose();
      }
    });
  });

  describe('global order', () => {
    it('a follower sees every event of many concurrent writers exactly once, in order', async () => {
      // 8 stores (8 pools, up to 8 connections each) × 8 streams, 40 appends per stream;
      // one follower on another store, and a reader polling readAll from its last position.
      // (With positions from a plain sequence and no log lock, the poller misses hundreds.)
      const fresh = server!.freshSchema();
      const storeOn = () => openStore(fresh.url);
      const writers = await Promise.all(Array.from({ length: 8 }, storeOn));
      const follower = await storeOn();
      const followed: StoredEvent[] = [];
      const sub = follower.subscribeToAll().subscribe((e) => followed.push(e));
      const polled: StoredEvent[] = [];
      let writing = true;
      const poll = async () => {
        for await (const e of follower.readAll({ fromPosition: polled.at(-1)?.position ?? 0n })) {
          polled.push(e);
        }
      };
      const poller = (async () => {
        while (writing) {
          await poll();
          await new Promise((r) => setImmediate(r));
        }
        // every append has been acknowledged: one more read finds whatever is left
        await poll();
      })();
      await Promise.all(
        writers.flatMap((store, w) =>
          Array.from({ length: 8 }, async (_, s) => {
            const stream = `process-w${w}-s${s}`;
            for (let r = 0; r < perStream; r++) {
              await store.appendToStream(stream, [event({ w, s, r })], {
                expectedRevision: r === 0 ? 'no_stream' : r - 1,
              });
            }
          }),
        ),
      );
      writing = false;
      await poller;
      const log = await collect(follower.readAll());
      const head = log.at(-1)!.position;
      await waitUntil(() => (followed.at(-1)?.position ?? 0n) >= head, 'the follower');
      sub.unsubscribe();
      expect(log).toHaveLength(total);
      // both readers saw exactly the log, in order: neither skipped an event that committed
      // after a higher position was already visible
      expect(polled.map((e) => e.id)).toEqual(log.map((e) => e.id));
      expect(followed.map((e) => e.id)).toEqual(log.map((e) => e.id));
      // and positions are dense (the log-head row hands them out)
      expect(log.map((e) => e.position)).toEqual(
        Array.from({ length: total }, (_, i) => BigInt(i + 1)),
      );
      for (const store of [...writers, follower]) await store.close();
      await fresh.drop();
    }, 120_000);

    const perStream = 40;
    const total = 8 * 8 * perStream;
  });
});
