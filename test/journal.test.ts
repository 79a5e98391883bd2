import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventStoreDBClient } from '@eventstore/db-client';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RefusedCommand } from '../src/domain/refusal.ts';
import { openRegistry, type ProcessRegistry } from '../src/index.ts';
import { historyOf } from '../src/queries/history.ts';
import { StreamJournal } from '../src/store/eventstoredb-journal.ts';
import { MemoryEventStore } from '../src/store/memory.ts';
import { MemoryJournal } from '../src/store/memory-journal.ts';
import { openStore } from '../src/store/open.ts';
import type { EventStore, RefusalJournal } from '../src/store/port.ts';
import { SqliteJournal } from '../src/store/sqlite-journal.ts';
import { registration } from './conformance/fixtures.ts';
import { type EsdbStandIn, startEsdbStandIn } from './support/esdb-standin.ts';
import { expectRegistryError } from './support/registry-errors.ts';

/** Every row of every table but the journal's, as SQLite stores it (rows sorted). */
const dumpFile = (path: string): Record<string, unknown[]> => {
  const db = new Database(path, { readonly: true });
  try {
    const tables = db
      .prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name <> 'journal_refusals' ORDER BY name",
      )
      .pluck()
      .all() as string[];
    return Object.fromEntries(
      tables.map((table) => {
        const rows = (db.prepare(`SELECT * FROM "${table}"`).raw().all() as unknown[][])
          // the journal's own AUTOINCREMENT counter is the journal's, not the log's
          .filter((row) => table !== 'sqlite_sequence' || row[0] !== 'journal_refusals')
          .map((row) => JSON.stringify(row, (_, v) => (Buffer.isBuffer(v) ? v.toString('hex') : v)))
          .sort();
        return [table, rows];
      }),
    );
  } finally {
    db.close();
  }
};

/** A stale lease holder's completion, an ungranted transfer and a conflicting completion. */
const refuseThree = async (r: ProcessRegistry, staleToken: string): Promise<void> => {
  const w1 = r.withContext({ actor: 'w1' });
  await w1.completeProcessLease({ processId: 'p1', leaseToken: staleToken });
  await expectRegistryError(
    r
      .withContext({ actor: 'mallory' })
      .transferHandleGrants({ sessionId: 'm' }, { sessionId: 'x' }, ['p2']),
    'not_granted',
  );
  await expectRegistryError(w1.completeProcess('p3', { type: 'success', value: 2 }), 'conflict');
};

const seed = async (r: ProcessRegistry, clock: { now: number }): Promise<string> => {
  for (const id of ['p1', 'p2', 'p3']) await r.registerProcess(registration(id));
  await r.grantHandle({ sessionId: 'alice' }, 'p2', {});
  await r.appendEvent('p2', {
    eventType: 'producer.wake',
    payload: { text: 'w' },
    wakeTargetScope: { sessionId: 'alice' },
  });
  const stale = await r.claimProcessLease('p1', 'w1', 1000);
  clock.now += 1001;
  await r.claimProcessLease('p1', 'w2', 60_000);
  await r.completeProcess('p3', { type: 'success', value: 1 });
  return stale.leaseToken;
};

describe('the journal of refused commands on SQLite', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'procreg-journal-'));
    path = join(dir, 'registry.db');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves the events, every read-model table and the versions byte for byte unchanged', async () => {
    const clock = { now: 1_000 };
    const r = await openRegistry(`sqlite:${path}`, { clock: () => clock.now });
    const stale = await seed(r, clock);
    const before = dumpFile(path);
    expect(before.events!.length).toBeGreaterThan(0);
    await refuseThree(r, stale);
    expect(dumpFile(path)).toEqual(before);
    await r.close();

    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT process_id, entry FROM journal_refusals ORDER BY id').all() as {
      process_id: string;
      entry: string;
    }[];
    db.close();
    expect(
      rows.map((row) => [row.process_id, JSON.parse(row.entry) as RefusedCommand]),
    ).toMatchObject([
      ['p1', { command: 'completeProcessLease', code: 'lease_lost', actor: 'w1' }],
      ['p2', { command: 'transferHandleGrants', code: 'not_granted', actor: 'mallory' }],
      ['p3', { command: 'completeProcess', code: 'conflict', actor: 'w1' }],
    ]);
    // another instance reads the same journal
    const again = await openRegistry(`sqlite:${path}`);
    const history = await again.history('p3', { includeRefused: true });
    expect(history.at(-1)).toMatchObject({ refused: true, code: 'conflict' });
    await again.close();
  });

  it('keeps no journal with journal=off, and creates no table for it', async () => {
    const clock = { now: 1_000 };
    const r = await openRegistry(`sqlite:${path}?journal=off`, { clock: () => clock.now });
    await refuseThree(r, await seed(r, clock));
    expect((await r.history('p3', { includeRefused: true })).some((e) => 'refused' in e)).toBe(
      false,
    );
    await r.close();
    const db = new Database(path, { readonly: true });
    const table = db
      .prepare("SELECT name FROM sqlite_schema WHERE name = 'journal_refusals'")
      .get();
    db.close();
    expect(table).toBeUndefined();
  });
});

describe('journal options', () => {
  it('memory keeps a journal unless memory:?journal=off', async () => {
    for (const [url, kept] of [
      ['memory:', 1],
      ['memory:?journal=on', 1],
      ['memory:?journal=off', 0],
    ] as const) {
      const r = await openRegistry(url);
      await r.registerProcess(registration('p'));
      await r.completeProcess('p', { type: 'success', value: 1 });
      await expectRegistryError(
        r.completeProcess('p', { type: 'cancelled', message: 'x' }),
        'already_terminal',
      );
      const refused = (await r.history('p', { includeRefused: true })).filter(
        (e) => 'refused' in e,
      );
      expect(refused.length, url).toBe(kept);
      await r.close();
    }
    expect((await openRegistry({ kind: 'memory', journal: 'off' })).durabilityTier).toBe('inline');
  });

  it('EventStoreDB keeps a journal unless journal=off (in the URL or the options)', async () => {
    const server = await startEsdbStandIn();
    try {
      const url = server.connectionString;
      const sep = url.includes('?') ? '&' : '?';
      for (const [store, kept] of [
        [url, 1],
        [`${url}${sep}journal=off`, 0],
        [{ kind: 'esdb', connectionString: url, journal: 'off' }, 0],
        [{ kind: 'esdb', connectionString: `${url}${sep}journal=off`, journal: 'on' }, 1],
      ] as const) {
        const r = await openRegistry(store);
        const id = `p-${Math.random()}`;
        await r.registerProcess(registration(id));
        await r.completeProcess(id, { type: 'success', value: 1 });
        await expectRegistryError(
          r.completeProcess(id, { type: 'cancelled', message: 'x' }),
          'already_terminal',
        );
        const refused = (await r.history(id, { includeRefused: true })).filter(
          (e) => 'refused' in e,
        );
        expect(refused.length, JSON.stringify(store)).toBe(kept);
        await r.close();
      }
    } finally {
      await server.stop();
    }
  });

  it('refuses another journal value as invalid', async () => {
    await expectRegistryError(openRegistry('memory:?journal=maybe'), 'invalid', /journal=off/);
    await expectRegistryError(
      openRegistry('sqlite:./never.db?journal=1'),
      'invalid',
      /journal=off/,
    );
  });
});

const entry = (processId: string, n: number): RefusedCommand => ({
  processId,
  command: 'claimProcessLease',
  commandId: `c${n}`,
  code: 'lease_held',
  message: `refusal ${n}`,
  actor: null,
  correlationId: null,
  causationId: null,
  recordedAtMs: n,
  processCreatedAtMs: 1,
  afterRevision: 0,
});

describe('refusals of an earlier incarnation of an id', () => {
  it('are not interleaved into the history of the process registered again under it', async () => {
    const store = new MemoryEventStore();
    const r = await openRegistry(store, { clock: () => 5_000 });
    await r.registerProcess(registration('p'));
    const current = { ...entry('p', 1), processCreatedAtMs: 5_000 };
    const earlier = { ...entry('p', 2), processCreatedAtMs: 1_000 };
    const history = await historyOf(store, 'process-p', { includeRefused: true }, [
      current,
      earlier,
    ]);
    expect(history.filter((e) => 'refused' in e).map((e) => e.recordedAtMs)).toEqual([1]);
    await r.close();
  });
});

describe('journal retention', () => {
  let dir: string;
  let esdb: { server: EsdbStandIn; store: EventStore; client: EventStoreDBClient } | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'procreg-journal-keep-'));
  });
  afterEach(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (esdb) {
      await esdb.store.close();
      await esdb.client.dispose();
      await esdb.server.stop();
      esdb = undefined;
    }
  });
  const journals: [string, () => RefusalJournal | Promise<RefusalJournal>][] = [
    ['memory', () => new MemoryJournal(3)],
    [
      'sqlite',
      () =>
        new SqliteJournal(new Database(join(dir, 'journal.db')), {
          path: 'x',
          busyTimeoutMs: 100,
          keep: 3,
        }),
    ],
    [
      // the adapter's stream journal against the stand-in, through the real client: the
      // latest entries are read back, and drop deletes the process's refused- stream
      'eventstoredb',
      async () => {
        const server = await startEsdbStandIn();
        const store = await openStore(server.connectionString);
        const client = EventStoreDBClient.connectionString(server.connectionString);
        esdb = { server, store, client };
        return new StreamJournal(
          store,
          {
            deleteStream: async (stream) => {
              await client.deleteStream(stream);
            },
            setMaxCount: async (stream, maxCount) => {
              await client.setStreamMetadata(stream, { maxCount });
            },
          },
          3,
        );
      },
    ],
  ];
  for (const [name, make] of journals) {
    it(`${name}: keeps each process's latest entries, and drop forgets a process`, async () => {
      const journal = await make();
      expect(await journal.read('a')).toEqual([]);
      for (let n = 1; n <= 5; n++) await journal.record([entry('a', n)]);
      await journal.record([entry('b', 6), entry('a', 7)]);
      expect((await journal.read('a')).map((e) => e.recordedAtMs)).toEqual([4, 5, 7]);
      expect((await journal.read('b')).map((e) => e.recordedAtMs)).toEqual([6]);
      await journal.drop(['a']);
      expect(await journal.read('a')).toEqual([]);
      expect((await journal.read('b')).map((e) => e.recordedAtMs)).toEqual([6]);
    });
  }
});
