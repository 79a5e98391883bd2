import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { streamOf } from '../src/domain/events.ts';
import { openRegistry, type ProcessRegistry } from '../src/index.ts';
import { openEventStoreDbStore } from '../src/store/eventstoredb.ts';
import { ORDINAL_TABLES } from '../src/store/sqlite-ordinals.ts';
import { VERSIONED_TABLES } from '../src/store/sqlite-versions.ts';
import { registration } from './conformance/fixtures.ts';
import { type EsdbStandIn, startEsdbStandIn } from './support/esdb-standin.ts';
import { pruneRecord } from './support/store-contract.ts';

const fast = {
  operationTimeoutMs: 5_000,
  resubscribe: { maxAttempts: 8, initialDelayMs: 25, maxDelayMs: 200 },
};

describe('registry on EventStoreDB (stand-in): dropped connections', () => {
  let server: EsdbStandIn;
  let watcher: ProcessRegistry;
  let writer: ProcessRegistry;
  beforeEach(async () => {
    server = await startEsdbStandIn();
    watcher = await openRegistry(await openEventStoreDbStore(server.connectionString, fast));
    writer = await openRegistry(await openEventStoreDbStore(server.connectionString, fast));
  });
  afterEach(async () => {
    await watcher.close();
    await writer.close();
    await server.stop();
  });

  it('applies every event exactly once to the live read models across connection drops', async () => {
    await writer.registerProcess(registration('p1'));
    const applied: bigint[] = [];
    const feed = watcher.applied$.subscribe((e) => applied.push(e.position));
    const line = (i: number) =>
      writer.appendEvent('p1', { eventType: 'producer.line', payload: { text: `${i}` } });
    const last = watcher.waitEventAfter('p1', 'producer.line', 14, { timeoutMs: 15_000 });
    for (let i = 0; i < 5; i++) await line(i);
    await server.dropConnections();
    for (let i = 5; i < 10; i++) await line(i);
    await server.dropConnections({ downForMs: 100 });
    for (let i = 10; i < 15; i++) await line(i);
    // the watcher never queried in between: only its live subscription fed it
    expect((await last).sequence).toBe(15);
    feed.unsubscribe();
    expect(new Set(applied).size).toBe(applied.length);
    expect(applied.length).toBeGreaterThanOrEqual(15);
    expect((await watcher.eventsAfter('p1', 0)).map((e) => e.sequence)).toEqual(
      Array.from({ length: 15 }, (_, i) => i + 1),
    );
    expect(await watcher.verifyProjections()).toEqual([]);
  }, 30_000);

  it('re-establishes the live feed after the store was gone longer than the adapter retries', async () => {
    await writer.registerProcess(registration('p2'));
    const waiting = watcher.waitEventAfter('p2', 'producer.line', 0, { timeoutMs: 40_000 });
    // far longer than the adapter's resubscribe policy above (8 attempts, ≤ 200 ms apart)
    await server.dropConnections({ downForMs: 5_000 });
    const until = async (done: () => boolean | Promise<boolean>, what: string) => {
      const deadline = Date.now() + 20_000;
      while (!(await done())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await until(() => watcher.diagnostics().liveFeedError !== undefined, 'the feed to give up');
    // append as soon as the server is back (appends fail `unavailable` while it is down)
    await until(
      () =>
        writer
          .appendEvent('p2', { eventType: 'producer.line', payload: { text: 'after' } })
          .then(() => true)
          .catch((e: { code?: string }) => {
            if (e.code !== 'unavailable') throw e;
            return false;
          }),
      'the server to come back',
    );
    expect((await waiting).payload).toEqual({ text: 'after' });
  }, 60_000);
});

describe('registry on EventStoreDB (stand-in) with its read models in a SQLite file', () => {
  let server: EsdbStandIn;
  let dir: string;
  beforeEach(async () => {
    server = await startEsdbStandIn();
    dir = mkdtempSync(join(tmpdir(), 'procreg-esdb-models-'));
  });
  afterEach(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a restart reads only the events after the file’s checkpoint, and answers the same', async () => {
    const url = `${server.connectionString}&readModels=sqlite:${join(dir, 'models.db')}`;
    const first = await openRegistry(url);
    await first.registerProcess(registration('p'));
    for (let i = 0; i < 30; i++) {
      await first.appendEvent('p', { eventType: 'producer.line', payload: { text: `${i}` } });
    }
    await first.close();
    // written while the models file was closed
    const other = await openRegistry(server.connectionString);
    await other.appendEvent('p', { eventType: 'producer.line', payload: { text: 'late' } });
    await other.close();

    const before = server.stats().allEventsServed;
    const second = await openRegistry(url);
    expect((await second.eventsAfter('p', 0)).map((e) => e.sequence)).toEqual(
      Array.from({ length: 31 }, (_, i) => i + 1),
    );
    // $all reads from a position re-send the event at it (the adapter drops it), so the
    // restart costs the new event and the checkpoint's, for the catch-up read and for the
    // live subscription's start: 4, whatever the length of the log
    const withFile = server.stats().allEventsServed - before;
    expect(withFile).toBeLessThanOrEqual(4);
    // without the file, the same open folds the whole log: 32 events and the feed's start
    const base = server.stats().allEventsServed;
    const inMemory = await openRegistry(server.connectionString);
    expect(server.stats().allEventsServed - base).toBeGreaterThanOrEqual(32);
    await inMemory.close();
    expect(await second.verifyProjections()).toEqual([]);
    await second.close();
  });

  it('answers asOf listings from the file’s versions, without reading the log up to the point', async () => {
    const url = `${server.connectionString}&readModels=sqlite:${join(dir, 'models.db')}`;
    let now = 1_000;
    const registry = await openRegistry(url, { clock: () => now });
    await registry.registerProcess(registration('p1'));
    await registry.registerProcess(registration('p2'));
    await registry.grantHandle({ sessionId: 's' }, 'p1', { label: 'mine' });
    now = 2_000;
    await registry.completeProcess('p1', { type: 'success', value: 'done' });
    for (let i = 0; i < 20; i++) {
      await registry.appendEvent('p2', { eventType: 'producer.line', payload: { text: `${i}` } });
    }
    const [, lastLine] = (await registry.history('p2')).slice(-2);
    now = 3_000;
    await registry.registerProcess(registration('p3'));
    await registry.revokeHandle({ sessionId: 's' }, 'p1');

    const ids = (records: readonly { id: string }[]) => records.map((r) => r.id);
    const served = async (read: () => Promise<unknown>) => {
      const before = server.stats().allEventsServed;
      await read();
      return server.stats().allEventsServed - before;
    };
    // what a live query costs the feed (making sure the models are current)
    const live = await served(() => registry.listProcesses());
    const at1 = registry.asOf(1_000);
    const past = await served(async () => {
      expect(ids((await at1.listProcesses()).records)).toEqual(['p1', 'p2']);
      expect(ids(await at1.listNonTerminal())).toEqual(['p1', 'p2']);
      expect((await at1.listHandleGrants({ sessionId: 's' })).length).toBe(1);
    });
    // the view checks the models are current twice (resolving the time, then listing), as a
    // live query does once; folding the log up to the point would read its 25 events
    expect(past).toBeLessThanOrEqual(2 * live);
    const at2 = registry.asOf(2_000);
    expect(ids(await at2.listNonTerminal())).toEqual(['p2']);
    expect((await at2.listProcesses({ status: 'completed' })).records.map((r) => r.id)).toEqual([
      'p1',
    ]);
    // updatedAtMs as of a position: the last process event at or before it
    const byPosition = registry.asOf({ position: lastLine!.position });
    const p2 = (await byPosition.listProcesses()).records.find((r) => r.id === 'p2');
    expect(p2?.updatedAtMs).toBe(2_000);
    expect(ids((await registry.asOf(3_000).listProcesses()).records)).toEqual(['p1', 'p2', 'p3']);
    expect(await registry.asOf(3_000).listHandleGrants({ sessionId: 's' })).toEqual([]);
    expect(ids((await registry.asOf(999).listProcesses()).records)).toEqual([]);
    await registry.close();
  });

  it('rebuilds a models file made before versions, and then answers asOf from them', async () => {
    const path = join(dir, 'models.db');
    const url = `${server.connectionString}&readModels=sqlite:${path}`;
    let now = 1_000;
    const first = await openRegistry(url, { clock: () => now });
    await first.registerProcess(registration('p1'));
    now = 2_000;
    await first.completeProcess('p1', { type: 'success', value: 'done' });
    await first.close();
    // as an older release left it: no versions, no ordinals
    const db = new Database(path);
    for (const table of [...VERSIONED_TABLES, ...ORDINAL_TABLES]) db.exec(`DROP TABLE ${table}`);
    db.close();

    const second = await openRegistry(url, { clock: () => now });
    expect(await second.verifyProjections()).toEqual([]);
    expect((await second.asOf(1_000).listNonTerminal()).map((r) => r.id)).toEqual(['p1']);
    expect(await second.asOf(2_000).listNonTerminal()).toEqual([]);
    await second.close();
    const versions = new Database(path, { readonly: true });
    expect(versions.prepare('SELECT count(*) FROM rm_record_versions').pluck().get()).toBe(2);
    versions.close();
  });

  it('refuses a models file that follows another store, and bad readModels values', async () => {
    const path = join(dir, 'models.db');
    const first = await openRegistry(`${server.connectionString}&readModels=sqlite:${path}`);
    await first.close();
    // the same server under another name: the file cannot know it is the same log
    const elsewhere = server.connectionString.replace('127.0.0.1', 'localhost');
    await expect(openRegistry(`${elsewhere}&readModels=sqlite:${path}`)).rejects.toMatchObject({
      code: 'invalid',
      message: expect.stringMatching(/follows esdb:\/\/127\.0\.0\.1:\d+, not esdb:\/\/localhost/),
    });
    await expect(
      openRegistry(`${server.connectionString}&readModels=${path}`),
    ).rejects.toMatchObject({ code: 'invalid' });
    await expect(openRegistry(`sqlite:${path}?readModels=sqlite:x.db`)).rejects.toMatchObject({
      code: 'invalid',
    });
  });
});

describe('registry on EventStoreDB (stand-in): prune stream by stream', () => {
  let server: EsdbStandIn;
  let dir: string;
  beforeEach(async () => {
    server = await startEsdbStandIn();
    dir = mkdtempSync(join(tmpdir(), 'procreg-esdb-prune-'));
  });
  afterEach(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finishes a prune interrupted after its record, and a watcher follows the re-registered id from sequence 1', async () => {
    const store = await openEventStoreDbStore(server.connectionString, fast);
    const registry = await openRegistry(store);
    const watcher = await openRegistry(await openEventStoreDbStore(server.connectionString, fast));
    try {
      await registry.registerProcess(registration('gone'));
      await registry.appendEvent('gone', { eventType: 'producer.line', payload: { text: 'a' } });
      await registry.completeProcess('gone', { type: 'success', value: 1 });
      // as if a prune died between its record and the deletes: the record names the stream
      const [last] = await store.readStream(streamOf('gone'), {
        direction: 'backwards',
        maxCount: 1,
      });
      const record = pruneRecord([last!]);
      await store.appendToStream(record.stream, record.events, { expectedRevision: 'any' });
      expect((await store.readStream(streamOf('gone'))).length).toBe(3);
      const next = await registry.pruneTerminalProcesses({ terminalBeforeMs: 0, archiveTo: dir });
      expect(next).toMatchObject({ finished: 1, processes: [] });
      expect(await store.readStream(streamOf('gone'))).toEqual([]);
      expect(await registry.getProcess('gone')).toBeUndefined();
      // registered again: both instances see it from revision 0, sequence 1
      await registry.registerProcess(registration('gone'));
      const seen = watcher.waitEventAfter('gone', 'producer.line', 0, { timeoutMs: 10_000 });
      await registry.appendEvent('gone', { eventType: 'producer.line', payload: { text: 'b' } });
      expect(await seen).toMatchObject({ sequence: 1, payload: { text: 'b' } });
      expect((await store.readStream(streamOf('gone'))).map((e) => e.revision)).toEqual([0, 1]);
      expect(await watcher.verifyProjections()).toEqual([]);
      expect(await registry.verifyIntegrity()).toMatchObject({ ok: true });
    } finally {
      await watcher.close();
      await registry.close();
    }
  });
});

/**
 * docs/SPEC.md "Sessions and grants": on EventStoreDB (no multi-stream transactions in client
 * 6.x) a transfer or session deletion is checked first, then written stream by stream, so a
 * failure in the middle can leave it half done. The stand-in refuses appends to one stream
 * (access denied: nothing stored, nothing a client retry cures).
 */
describe('registry on EventStoreDB (stand-in): a multi-stream write the server fails midway', () => {
  let server: EsdbStandIn;
  const opened: ProcessRegistry[] = [];
  beforeEach(async () => {
    server = await startEsdbStandIn();
  });
  afterEach(async () => {
    for (const registry of opened.splice(0)) await registry.close();
    await server.stop();
  });

  const ids = ['p1', 'p2', 'p3'];
  const a = { sessionId: 'a' };
  const b = { sessionId: 'b' };
  const setUp = async (retryBudgetMs: number) => {
    const store = await openEventStoreDbStore(server.connectionString, fast);
    const registry = await openRegistry(store, { retryBudgetMs });
    opened.push(registry);
    for (const id of ids) {
      await registry.registerProcess(registration(id));
      await registry.grantHandle(a, id, { label: id });
    }
    return registry;
  };
  const holders = async (registry: ProcessRegistry) =>
    Promise.all(
      ids.map(async (id) => (await registry.handleGrantsForProcess(id)).map((g) => g.sessionId)),
    );
  const transfers = async (registry: ProcessRegistry) =>
    (await Promise.all(ids.map((id) => registry.history(id))))
      .flat()
      .filter((h) => h.type === 'HandleTransferred')
      .map((h) => h.data.processId);

  it('is left half done, as documented: the streams before the failure moved, once each', async () => {
    const registry = await setUp(200);
    server.refuseAppends(streamOf('p2'), Number.MAX_SAFE_INTEGER);
    await expect(registry.transferHandleGrants(a, b, ids)).rejects.toMatchObject({
      name: 'RegistryError',
      code: 'unavailable',
      message: expect.stringMatching(/appending to process-p2 \(access-denied/),
    });
    expect(await holders(registry)).toEqual([['b'], ['a'], ['a']]);
    // the retries of the same write answered p1's from the stored events: stored once
    expect(await transfers(registry)).toEqual(['p1']);
    server.refuseAppends(streamOf('p2'), 0);
    // the same call again is refused (p1 is b's now); the rest moves on its own
    await expect(registry.transferHandleGrants(a, b, ids)).rejects.toMatchObject({
      code: 'not_granted',
    });
    await registry.transferHandleGrants(a, b, ['p2', 'p3']);
    expect(await holders(registry)).toEqual([['b'], ['b'], ['b']]);
    expect(await registry.verifyProjections()).toEqual([]);
  });

  it('is completed by the retry of the same write when the failure passes within the retry budget', async () => {
    const registry = await setUp(5_000);
    server.refuseAppends(streamOf('p2'), 2);
    await registry.transferHandleGrants(a, b, ids);
    expect(await holders(registry)).toEqual([['b'], ['b'], ['b']]);
    expect(await transfers(registry)).toEqual(ids);
    expect(await registry.verifyProjections()).toEqual([]);
  });
});
