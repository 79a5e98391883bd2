import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { Subscription } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import {
  type EventStore,
  type NewEvent,
  type StoredEvent,
  WrongExpectedRevisionError,
} from '../src/store/port.ts';
import { openSqliteStore, type SqliteStoreOptions } from '../src/store/sqlite.ts';
import { APPLICATION_ID, openDatabase, SCHEMA_VERSION } from '../src/store/sqlite-file.ts';
import { expectRegistryError } from './support/registry-errors.ts';
import { collect, describeStoreContract } from './support/store-contract.ts';

const makeTempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'procreg-sqlite-'));

describeStoreContract('sqlite', async () => {
  const dir = makeTempDir();
  const store = await openSqliteStore(path.join(dir, 'events.db'));
  return { store, dispose: async () => fs.rmSync(dir, { recursive: true, force: true }) };
});

const event = (data: Record<string, string | number> = {}): NewEvent => ({
  id: randomUUID(),
  type: 'T',
  data,
  metadata: { command: 'test' },
});

const waitUntil = async (done: () => boolean, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(5);
  }
};

/**
 * Commit records in the WAL (frames whose "database size after commit" field is set, and
 * whose salts match the header): one per transaction since the WAL was last reset.
 */
const walCommits = (file: string): number => {
  const wal = fs.readFileSync(`${file}-wal`);
  const pageSize = wal.readUInt32BE(8);
  const salts = [wal.readUInt32BE(16), wal.readUInt32BE(20)];
  let commits = 0;
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    if (wal.readUInt32BE(at + 8) !== salts[0] || wal.readUInt32BE(at + 12) !== salts[1]) break;
    if (wal.readUInt32BE(at + 4) !== 0) commits += 1;
  }
  return commits;
};

const root = fileURLToPath(new URL('..', import.meta.url));
const support = (script: string) => fileURLToPath(new URL(`./support/${script}`, import.meta.url));

/** Runs a support script in a child Node process, optionally behind a wrapper command. */
const spawnScript = (
  script: string,
  args: string[],
  wrapper: string[] = [],
  stdin: 'ignore' | 'pipe' = 'ignore',
): ChildProcess => {
  const command = [...wrapper, process.execPath, '--import', 'tsx', support(script), ...args];
  return spawn(command[0]!, command.slice(1), { cwd: root, stdio: [stdin, 'pipe', 'pipe'] });
};

/** Complete stdout lines of a child, and its exit. */
const watch = (child: ChildProcess) => {
  const lines: string[] = [];
  let buffered = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exit = new Promise<{ code: number | null; signal: string | null; stderr: string }>(
    (resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { lines, exit };
};

const runScript = async (script: string, args: string[], wrapper: string[] = []) => {
  const { lines, exit } = watch(spawnScript(script, args, wrapper));
  const result = await exit;
  expect(result.code, result.stderr).toBe(0);
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
};

/** Whether a wrapper command exists and is allowed here (containers may forbid it). */
const works = (command: string[]) => {
  try {
    execFileSync(command[0]!, [...command.slice(1), 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

const isRoot = process.getuid?.() === 0;
/**
 * Root ignores file permissions through CAP_DAC_OVERRIDE; dropping it from the bounding set
 * makes a root child obey them like any other user.
 */
const asUnprivileged = isRoot
  ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search,-fowner']
  : [];
const canDropPrivileges = !isRoot || works(asUnprivileged);
const fileSizeLimit = ['prlimit', '--fsize=400000'];

describe('sqlite store', () => {
  let dir: string;
  let file: string;
  const stores: EventStore[] = [];
  const subscriptions: Subscription[] = [];

  const open = async (options?: SqliteStoreOptions, at = file) => {
    const store = await openSqliteStore(at, options);
    stores.push(store);
    return store;
  };

  beforeEach(() => {
    dir = makeTempDir();
    file = path.join(dir, 'events.db');
  });

  afterEach(async () => {
    for (const s of subscriptions.splice(0)) s.unsubscribe();
    for (const store of stores.splice(0)) await store.close();
    // restore write permissions a test may have taken away, so the directory can go
    execFileSync('chmod', ['-R', 'u+rwX', dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('file format and durability', () => {
    it('creates a WAL-mode procreg file: synchronous FULL by default, NORMAL on request', () => {
      const full = openDatabase(file, { synchronous: 'full', busyTimeoutMs: 1000 });
      expect(full.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
      expect(full.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(full.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(full.pragma('synchronous', { simple: true })).toBe(2);
      const normal = openDatabase(file, { synchronous: 'normal', busyTimeoutMs: 1000 });
      expect(normal.pragma('synchronous', { simple: true })).toBe(1);
      full.close();
      normal.close();
    });

    it('works with synchronous=normal, and the events survive a reopen', async () => {
      const store = await open({ synchronous: 'normal' });
      expect(store.durabilityTier).toBe('durable');
      await store.appendToStream('process-n', [event({ n: 1 })], { expectedRevision: 'no_stream' });
      await store.close();
      const again = await open();
      expect((await again.readStream('process-n')).map((e) => e.data)).toEqual([{ n: 1 }]);
    });

    it('keeps every event, revision and position across a reopen, and continues after them', async () => {
      const first = await open();
      for (let i = 0; i < 5; i++) {
        await first.appendToStream('process-a', [event({ i }), event({ i })], {
          expectedRevision: i === 0 ? 'no_stream' : 2 * i - 1,
        });
        await first.appendToStream(`process-b${i}`, [event({ i })], {
          expectedRevision: 'no_stream',
        });
      }
      const before = await collect(first.readAll());
      await first.close();

      const second = await open();
      expect(await collect(second.readAll())).toEqual(before);
      expect(await second.streamRevision('process-a')).toBe(9);
      const next = await second.appendToStream('process-a', [event()], { expectedRevision: 9 });
      expect(next.nextRevision).toBe(10);
      expect(next.position > before.at(-1)!.position).toBe(true);
    });

    it('rejects event data that is not JSON, storing nothing', async () => {
      const store = await open();
      const bad = { ...event(), data: { n: 1n } as unknown as NewEvent['data'] };
      await expectRegistryError(
        store.appendToStream('process-x', [event(), bad], { expectedRevision: 'no_stream' }),
        'invalid',
        /not JSON/,
      );
      expect(await store.streamRevision('process-x')).toBe(-1);
    });

    it('refuses an event id stored elsewhere with `conflict`, naming where it is', async () => {
      const store = await open();
      const e = event();
      await store.appendToStream('process-a', [e], { expectedRevision: 'no_stream' });
      await expectRegistryError(
        store.appendToStream('process-b', [event(), e], { expectedRevision: 'no_stream' }),
        'conflict',
        /already stored \(stream process-a, revision 0\)/,
      );
      expect(await store.streamRevision('process-b')).toBe(-1);
    });
  });

  describe('group commit', () => {
    it('commits 50 concurrent appends to different streams in one transaction', async () => {
      const store = await open();
      await store.appendToStream('warm-up', [event()], { expectedRevision: 'no_stream' });
      const start = walCommits(file);
      for (let i = 0; i < 3; i++) {
        await store.appendToStream('warm-up', [event()], { expectedRevision: i });
      }
      // the counter sees one commit per sequential append
      expect(walCommits(file) - start).toBe(3);

      const streams = Array.from({ length: 50 }, (_, i) => `process-g${i}`);
      const results = await Promise.all(
        streams.map((s, i) =>
          store.appendToStream(s, [event({ i }), event({ i })], { expectedRevision: 'no_stream' }),
        ),
      );
      expect(walCommits(file) - start).toBe(4);
      expect(results.every((r) => r.nextRevision === 1)).toBe(true);
      expect(new Set(results.map((r) => r.position)).size).toBe(50);
      for (const [i, s] of streams.entries()) {
        const read = await store.readStream(s);
        expect(read.map((e) => [e.revision, e.data])).toEqual([
          [0, { i }],
          [1, { i }],
        ]);
        expect(read[1]!.position).toBe(results[i]!.position);
      }
    });

    it('gives exactly one winner per expected revision among concurrent appends to one stream', async () => {
      const store = await open();
      const s = 'process-contended';
      await store.appendToStream(s, [event()], { expectedRevision: 'no_stream' });
      const racers = Array.from({ length: 50 }, (_, i) => ({ expected: 1 + (i % 10), i }));
      const outcomes = await Promise.allSettled(
        [{ expected: 0, i: -1 }, ...racers].map(({ expected, i }) =>
          store.appendToStream(s, [event({ i })], { expectedRevision: expected }),
        ),
      );
      // batched in call order: for each expected revision the first caller wins
      const winners = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      expect(winners.map((w) => w.nextRevision)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      for (const o of outcomes) {
        if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(WrongExpectedRevisionError);
      }
      const read = await store.readStream(s);
      expect(read.map((e) => e.revision)).toEqual([...Array(12).keys()]);
      expect(read.slice(1).map((e) => e.data)).toEqual(
        [-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => ({ i })),
      );
    });

    it('lets a refused or replayed append in a batch leave the others committed', async () => {
      const store = await open();
      const retried = [event(), event()];
      const original = await store.appendToStream('process-r', retried, {
        expectedRevision: 'no_stream',
      });
      const [replay, refused, atomicRefused, ok] = await Promise.allSettled([
        store.appendToStream('process-r', retried, { expectedRevision: 'no_stream' }),
        store.appendToStream('process-r', [event()], { expectedRevision: 'no_stream' }),
        store.appendToStreams([
          { stream: 'process-fresh', events: [event()], expectedRevision: 'no_stream' },
          { stream: 'process-r', events: [event()], expectedRevision: 7 },
        ]),
        store.appendToStream('process-ok', [event()], { expectedRevision: 'no_stream' }),
      ]);
      expect(replay).toEqual({ status: 'fulfilled', value: original });
      expect(refused).toMatchObject({ status: 'rejected', reason: { actual: 1 } });
      expect(atomicRefused).toMatchObject({ status: 'rejected', reason: { expected: 7 } });
      expect(ok.status).toBe('fulfilled');
      expect(await store.streamRevision('process-fresh')).toBe(-1);
      expect(await store.streamRevision('process-r')).toBe(1);
      expect(await store.streamRevision('process-ok')).toBe(0);
    });
  });

  describe('several stores on one file', () => {
    it("sees another store's appends in reads and, by polling, in subscriptions", async () => {
      const a = await open({ pollIntervalMs: 10 });
      const b = await open({ pollIntervalMs: 10 });
      const seen = { a: [] as StoredEvent[], b: [] as StoredEvent[] };
      subscriptions.push(a.subscribeToAll().subscribe((e) => seen.a.push(e)));
      subscriptions.push(b.subscribeToAll().subscribe((e) => seen.b.push(e)));

      const writer = async (store: EventStore, name: string) => {
        for (let i = 0; i < 20; i++) {
          await store.appendToStream(`process-${name}`, [event({ i })], {
            expectedRevision: i === 0 ? 'no_stream' : i - 1,
          });
          for (;;) {
            const revision = await store.streamRevision('process-shared');
            try {
              await store.appendToStream('process-shared', [event({ name, i })], {
                expectedRevision: revision === -1 ? 'no_stream' : revision,
              });
              break;
            } catch (error) {
              if (!(error instanceof WrongExpectedRevisionError)) throw error;
            }
          }
          await sleep(Math.random() * 3);
        }
      };
      await Promise.all([writer(a, 'a'), writer(b, 'b')]);

      expect(await b.readStream('process-a')).toEqual(await a.readStream('process-a'));
      expect(await a.readStream('process-b')).toEqual(await b.readStream('process-b'));
      const shared = await a.readStream('process-shared');
      expect(shared.map((e) => e.revision)).toEqual([...Array(40).keys()]);

      const all = await collect(a.readAll());
      expect(all).toHaveLength(80);
      await waitUntil(() => seen.a.length >= 80 && seen.b.length >= 80);
      await sleep(50); // nothing arrives twice, late
      const key = (events: StoredEvent[]) => events.map((e) => `${e.position}:${e.id}`);
      expect(key(seen.a)).toEqual(key(all));
      expect(key(seen.b)).toEqual(key(all));
    });

    it("is woken by another store's commit, with no poll due before the test's timeout", async () => {
      const a = await open();
      // the poll is an hour away: only the wake-up bell can deliver in time
      const b = await open({ pollIntervalMs: 3_600_000 });
      const seen: StoredEvent[] = [];
      subscriptions.push(b.subscribeToAll().subscribe((e) => seen.push(e)));
      await waitUntil(() => fs.existsSync(`${file}-wake`));
      for (let i = 0; i < 3; i++) {
        await a.appendToStream('process-rung', [event({ i })], {
          expectedRevision: i === 0 ? 'no_stream' : i - 1,
        });
        await waitUntil(() => seen.length === i + 1);
      }
      expect(seen.map((e) => e.data)).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
    });

    it('catches up over several pages while both stores keep appending: each event once, in order', async () => {
      const a = await open({ pollIntervalMs: 10 });
      const b = await open({ pollIntervalMs: 10 });
      for (let i = 0; i < 1300; i += 100) {
        const batch = Array.from({ length: 100 }, (_, j) => event({ n: i + j }));
        await a.appendToStream('process-log', batch, {
          expectedRevision: i === 0 ? 'no_stream' : i - 1,
        });
      }
      const seen = { a: [] as StoredEvent[], b: [] as StoredEvent[] };
      subscriptions.push(
        a.subscribeToAll({ streamPrefix: 'process-' }).subscribe((e) => seen.a.push(e)),
        b.subscribeToAll({ streamPrefix: 'process-' }).subscribe((e) => seen.b.push(e)),
      );
      await Promise.all(
        [a, b].map(async (store, k) => {
          for (let i = 0; i < 40; i++) {
            await store.appendToStream(`process-live${k}`, [event({ i })], {
              expectedRevision: i === 0 ? 'no_stream' : i - 1,
            });
            await store.appendToStream(`other-${k}`, [event({ i })], { expectedRevision: 'any' });
          }
        }),
      );
      const all = await collect(a.readAll({ streamPrefix: 'process-' }));
      expect(all).toHaveLength(1380);
      await waitUntil(() => seen.a.length >= 1380 && seen.b.length >= 1380);
      await sleep(50);
      const key = (events: StoredEvent[]) => events.map((e) => `${e.position}:${e.id}`);
      expect(key(seen.a)).toEqual(key(all));
      expect(key(seen.b)).toEqual(key(all));
    });
  });

  describe('failures', () => {
    it('cannot open a path under a file or in a missing directory: `unavailable`', async () => {
      fs.writeFileSync(path.join(dir, 'plain'), 'x');
      await expectRegistryError(
        openSqliteStore(path.join(dir, 'plain', 'events.db')),
        'unavailable',
        /cannot open/,
      );
      await expectRegistryError(
        openSqliteStore(path.join(dir, 'missing', 'events.db')),
        'unavailable',
        /create the directory/,
      );
    });

    it('refuses a file that is not a procreg database with `invalid`, leaving it untouched', async () => {
      const random = path.join(dir, 'random.bin');
      fs.writeFileSync(random, randomBytes(8192));
      const digest = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
      const randomDigest = digest(random);
      await expectRegistryError(openSqliteStore(random), 'invalid', /not a SQLite database/);
      expect(digest(random)).toBe(randomDigest);

      const foreign = path.join(dir, 'foreign.db');
      const raw = new Database(foreign);
      raw.exec('CREATE TABLE people (name TEXT)');
      raw.close();
      const foreignDigest = digest(foreign);
      await expectRegistryError(openSqliteStore(foreign), 'invalid', /not a procreg one/);
      expect(digest(foreign)).toBe(foreignDigest);
      expect(fs.existsSync(`${foreign}-wal`)).toBe(false);

      await (await openSqliteStore(file)).close();
      const newer = new Database(file);
      newer.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
      newer.close();
      await expectRegistryError(openSqliteStore(file), 'invalid', /newer than this procreg/);
    });

    it('fails `unavailable` when another connection holds the write lock past busyTimeoutMs', async () => {
      const store = await open({ busyTimeoutMs: 100 });
      await store.appendToStream('process-l', [event()], { expectedRevision: 'no_stream' });
      const holder = new Database(file);
      holder.exec('BEGIN EXCLUSIVE');
      holder
        .prepare(
          "INSERT INTO events (stream, revision, type, data, metadata, recorded_at, event_id) VALUES ('x', 0, 'T', '{}', '{}', 0, 'held')",
        )
        .run();
      try {
        const started = Date.now();
        const attempts = [1, 2, 3].map(() =>
          store.appendToStream('process-l', [event()], { expectedRevision: 0 }),
        );
        for (const attempt of attempts) {
          await expectRegistryError(attempt, 'unavailable', /locked .* more than 100 ms/);
        }
        expect(Date.now() - started).toBeGreaterThanOrEqual(95);
        expect(Date.now() - started).toBeLessThan(3000);
        // readers are not blocked by a writer in WAL mode
        expect(await store.streamRevision('process-l')).toBe(0);
      } finally {
        holder.exec('ROLLBACK');
        holder.close();
      }
      const after = await store.appendToStream('process-l', [event()], { expectedRevision: 0 });
      expect(after.nextRevision).toBe(1);
      expect(await store.streamRevision('x')).toBe(-1);
    });

    it('waits for a write lock held briefly elsewhere without blocking the event loop', async () => {
      const store = await open({ busyTimeoutMs: 5000 });
      const holder = new Database(file);
      holder.exec('BEGIN IMMEDIATE');
      const append = store.appendToStream('process-w', [event()], {
        expectedRevision: 'no_stream',
      });
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 5);
      await sleep(150);
      holder.exec('ROLLBACK');
      holder.close();
      expect((await append).nextRevision).toBe(0);
      clearInterval(ticker);
      expect(ticks).toBeGreaterThan(10);
    });

    it.runIf(canDropPrivileges)(
      'fails `unavailable` on a read-only file (even as root), writing nothing',
      async () => {
        const store = await openSqliteStore(file);
        await store.appendToStream('probe', [event()], { expectedRevision: 'no_stream' });
        await store.close();
        fs.chmodSync(file, 0o444);
        const report = await runScript('sqlite-probe.ts', ['append-once', file], asUnprivileged);
        expect(report).toMatchObject([
          { step: 'open', ok: true },
          { step: 'read', ok: true, value: 1 },
          { step: 'append', ok: false, error: { code: 'unavailable' } },
        ]);
        expect(JSON.stringify(report[2])).toMatch(/read-only/);
        fs.chmodSync(file, 0o644);
        const check = await open();
        expect(await check.streamRevision('probe')).toBe(0);
      },
    );

    it.runIf(canDropPrivileges)(
      'fails `unavailable` to create a store in a directory it may not write to',
      async () => {
        const locked = path.join(dir, 'locked');
        fs.mkdirSync(locked, { mode: 0o555 });
        const report = await runScript(
          'sqlite-probe.ts',
          ['append-once', path.join(locked, 'events.db')],
          asUnprivileged,
        );
        expect(report).toMatchObject([
          {
            step: 'open',
            ok: false,
            error: { code: 'unavailable', message: expect.stringMatching(/cannot open/) },
          },
        ]);
      },
    );

    it.runIf(works(fileSizeLimit))(
      'fails `unavailable` when the disk is full (file size limit), keeping every acknowledged append whole',
      async () => {
        await (await openSqliteStore(file)).close();
        const report = await runScript('sqlite-probe.ts', ['fill', file], fileSizeLimit);
        const acks = report.filter((line) => line.step === 'ack');
        expect(acks.length).toBeGreaterThan(3);
        expect(report.at(-1)).toMatchObject({
          step: 'append',
          ok: false,
          error: { code: 'unavailable' },
        });
        expect(JSON.stringify(report.at(-1))).toMatch(/disk|I\/O/);

        const store = await open();
        const stored = await store.readStream('fill');
        expect(stored.map((e) => e.revision)).toEqual([...stored.keys()]);
        expect(stored.length % 3).toBe(0);
        const ids = new Set(stored.map((e) => e.id));
        for (const ack of acks)
          for (const id of ack.ids as string[]) expect(ids.has(id)).toBe(true);
        await store.appendToStream('fill', [event()], { expectedRevision: stored.length - 1 });
      },
    );

    it('refuses every use of a closed store with `unavailable`; closing twice is fine', async () => {
      const store = await open();
      const pending = store.appendToStream('process-c', [event()], {
        expectedRevision: 'no_stream',
      });
      let completed = false;
      store.subscribeToAll().subscribe({ complete: () => (completed = true) });
      await store.close();
      await store.close();
      // an append accepted before close is committed, not dropped
      expect((await pending).nextRevision).toBe(0);
      expect(completed).toBe(true);
      const closed = /closed; open it again/;
      await expectRegistryError(
        store.appendToStream('process-c', [event()], { expectedRevision: 0 }),
        'unavailable',
        closed,
      );
      await expectRegistryError(store.readStream('process-c'), 'unavailable', closed);
      await expectRegistryError(store.streamRevision('process-c'), 'unavailable', closed);
      await expectRegistryError(collect(store.readAll()), 'unavailable', closed);
      await expectRegistryError(
        new Promise((resolve, reject) =>
          store.subscribeToAll().subscribe({ next: resolve, error: reject }),
        ),
        'unavailable',
        closed,
      );
    });
  });

  describe('real processes', () => {
    it('4 processes x 250 appends to one stream give revisions 0..999 with every event once', async () => {
      // no file yet: the four also race to create it
      const children = [0, 1, 2, 3].map((child) => {
        const proc = spawnScript(
          'sqlite-contender.ts',
          [file, String(child), '250', 'process-shared'],
          [],
          'pipe',
        );
        return { proc, ...watch(proc) };
      });
      await waitUntil(() => children.every((c) => c.lines.includes('ready')), 20_000);
      for (const child of children) child.proc.stdin!.end('go\n');
      const reports = await Promise.all(
        children.map(async ({ lines, exit }) => {
          const { code, stderr } = await exit;
          expect(code, stderr).toBe(0);
          return JSON.parse(lines.at(-1)!) as { appended: number; conflicts: number };
        }),
      );
      expect(reports.map((r) => r.appended)).toEqual([250, 250, 250, 250]);
      // they really contended
      expect(reports.reduce((sum, r) => sum + r.conflicts, 0)).toBeGreaterThan(0);

      const store = await open();
      const read = await store.readStream('process-shared');
      expect(read.map((e) => e.revision)).toEqual([...Array(1000).keys()]);
      expect(new Set(read.map((e) => e.id)).size).toBe(1000);
      for (const child of ['0', '1', '2', '3']) {
        const mine = read.flatMap((e) => {
          const data = e.data as { child: string; i: number };
          return data.child === child ? [data.i] : [];
        });
        expect(mine).toEqual([...Array(250).keys()]);
      }
    });

    it('keeps every acknowledged append, and none partially, across 10 SIGKILLs', async () => {
      let acknowledged = 0;
      const acks: { stream: string; ids: string[]; nextRevision: number }[] = [];
      const spawnCrasher = () => {
        const proc = spawnScript('sqlite-crasher.ts', [file], [], 'pipe');
        return { proc, ...watch(proc) };
      };
      // each child starts up during the previous round and waits for its go
      let next = spawnCrasher();
      onTestFinished(() => {
        next.proc.kill('SIGKILL');
      });
      for (let round = 0; round < 10; round++) {
        const current = next;
        next = spawnCrasher();
        current.proc.stdin!.end('go\n');
        // the first rounds die while opening or creating the file, the others mid-append
        if (round >= 2) await waitUntil(() => current.lines.includes('ready'), 20_000);
        await sleep(Math.random() * (round >= 2 ? 200 : 20));
        current.proc.kill('SIGKILL');
        const { signal, stderr } = await current.exit;
        expect(signal, stderr).toBe('SIGKILL');
        const roundAcks = current.lines
          .filter((l) => l !== 'ready')
          .map((l) => JSON.parse(l) as (typeof acks)[0]);
        acks.push(...roundAcks);
        acknowledged += roundAcks.length;

        const store = await openSqliteStore(file);
        try {
          const all = await collect(store.readAll());
          const byId = new Map(all.map((e) => [e.id, e]));
          expect(byId.size).toBe(all.length);
          for (const ack of acks) {
            const stored = ack.ids.map((id) => byId.get(id));
            expect(stored.every(Boolean), `round ${round}: acknowledged append lost`).toBe(true);
            expect(stored.at(-1)!.revision).toBe(ack.nextRevision);
          }
          const groups = new Map<string, StoredEvent[]>();
          const streams = new Map<string, number[]>();
          for (const e of all) {
            const data = e.data as { group: string; size: number };
            groups.set(data.group, [...(groups.get(data.group) ?? []), e]);
            streams.set(e.stream, [...(streams.get(e.stream) ?? []), e.revision]);
          }
          for (const group of groups.values()) {
            const { size } = group[0]!.data as { size: number };
            expect(group.length, `round ${round}: a ${size}-event append is partial`).toBe(size);
            expect(group.map((e) => e.revision - group[0]!.revision)).toEqual([
              ...Array(size).keys(),
            ]);
          }
          for (const revisions of streams.values()) {
            expect(revisions).toEqual([...revisions.keys()]);
          }
        } finally {
          await store.close();
        }
      }
      expect(acknowledged).toBeGreaterThan(20);
    });
  });
});
