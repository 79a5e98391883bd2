import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openRegistry } from '../src/index.ts';
import { MemoryEventStore } from '../src/store/memory.ts';
import { openStore } from '../src/store/open.ts';
import type { EventStore } from '../src/store/port.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { registration, sessionReport } from './conformance/fixtures.ts';
import { FaultyStore } from './support/faulty-store.ts';
import { readWholeLog, TestClock } from './support/harness.ts';
import { testPostgres } from './support/postgres-server.ts';

const found = await testPostgres('reliability');
const server = 'server' in found ? found.server : undefined;
afterAll(() => server?.stop());

/**
 * Issue #10, items 2 and 3: a stored write is never reported as failed, lost replies are
 * retried without storing twice, session deletion sees grants committed while it runs, and
 * one transient error does not poison an asOf view. Each runs on memory, SQLite and
 * PostgreSQL (skipped, and said so, when no server can be started).
 */
interface Backend {
  name: string;
  skip?: boolean;
  /** a new connection to one shared log per call */
  open(): Promise<{ connect: () => Promise<EventStore>; dispose: () => Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'memory',
    open: async () => {
      const shared = new MemoryEventStore();
      return {
        connect: async () => new FaultyStore(shared, { closeInner: false }),
        dispose: () => shared.close(),
      };
    },
  },
  {
    name: 'sqlite',
    open: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'procreg-rel-'));
      return {
        connect: () => openSqliteStore(join(dir, 'r.db')),
        dispose: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'postgres',
    skip: !server,
    open: async () => {
      const fresh = server!.freshSchema();
      return { connect: () => openStore(fresh.url), dispose: fresh.drop };
    },
  },
];

const line = (text: string) => ({ eventType: 'producer.line', payload: { text } });

describe.each(backends)('reliability on $name', (backend) => {
  if (backend.skip) {
    it.skip('needs a PostgreSQL server (see the banner above)');
    return;
  }
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const setUp = async (faults: { liveFeed?: boolean } = {}, retryBudgetMs = 2_000) => {
    const clock = new TestClock();
    const shared = await backend.open();
    cleanups.push(shared.dispose);
    const faulty = new FaultyStore(await shared.connect(), faults);
    const open = async (store: EventStore) => {
      const registry = await openRegistry(store, { clock: clock.read, retryBudgetMs });
      cleanups.push(() => registry.close());
      return registry;
    };
    const registry = await open(faulty);
    const log = async () => {
      const store = await shared.connect();
      try {
        return await readWholeLog(store);
      } finally {
        await store.close();
      }
    };
    return { faulty, registry, log, other: async () => open(await shared.connect()) };
  };

  const appendedCount = async (log: () => Promise<{ type: string }[]>) =>
    (await log()).filter((e) => e.type === 'ProcessEventAppended').length;

  it('returns the outcome of a stored append even when the catch-up after it fails', async () => {
    const { faulty, registry, log } = await setUp({ liveFeed: false });
    await registry.registerProcess(registration('p'));
    faulty.failReads(2);
    const outcome = await registry.appendEvent('p', line('once'));
    expect(outcome.event.sequence).toBe(1);
    // read-your-writes: a query either sees the write or fails; it never answers stale
    await expect(registry.eventsAfter('p', 0)).rejects.toMatchObject({ code: 'unavailable' });
    expect((await registry.eventsAfter('p', 0)).map((e) => e.sequence)).toEqual([1]);
    // the caller had no reason to retry, and the next append follows on
    expect((await registry.appendEvent('p', line('next'))).event.sequence).toBe(2);
    expect(await appendedCount(log)).toBe(2);
  });

  it('completes a process when the catch-up after the terminal event fails', async () => {
    const { faulty, registry } = await setUp({ liveFeed: false });
    await registry.registerProcess(registration('p'));
    faulty.failReads(1);
    const record = await registry.completeProcess('p', { type: 'success', value: 1 });
    expect(record.status).toEqual({
      state: 'completed',
      awaitOutput: { type: 'success', value: 1 },
    });
    expect(await registry.getProcess('p')).toEqual(record);
  });

  it('retries a lost reply with the same event ids: the event is stored once', async () => {
    const { faulty, registry, log } = await setUp();
    await registry.registerProcess(registration('p'));
    faulty.loseReplies(1);
    const calls = faulty.appendCalls;
    const outcome = await registry.appendEvent('p', line('once'));
    expect(outcome.event.sequence).toBe(1);
    expect(faulty.appendCalls - calls).toBe(2);
    expect(await appendedCount(log)).toBe(1);
    expect((await registry.appendEvent('p', line('next'))).event.sequence).toBe(2);
    expect(await appendedCount(log)).toBe(2);
  });

  it('retries a lost reply of a multi-stream write (transfer) without storing twice', async () => {
    const { faulty, registry, log } = await setUp();
    const from = { sessionId: 'a' };
    const to = { sessionId: 'b' };
    for (const id of ['p', 'q']) {
      await registry.registerProcess(registration(id));
      await registry.grantHandle(from, id, { label: id });
    }
    faulty.loseReplies(1);
    await registry.transferHandleGrants(from, to, ['p', 'q']);
    expect((await log()).filter((e) => e.type === 'HandleTransferred')).toHaveLength(2);
    expect((await registry.listHandleGrants(to)).map((e) => e.grant.processId)).toEqual(['p', 'q']);
  });

  it('retries an append that failed before reaching the store', async () => {
    const { faulty, registry, log } = await setUp();
    await registry.registerProcess(registration('p'));
    faulty.failAppends(2);
    expect((await registry.appendEvent('p', line('x'))).event.sequence).toBe(1);
    expect(await appendedCount(log)).toBe(1);
  });

  it('gives up with `unavailable` once the retry budget is spent, writing nothing', async () => {
    const { faulty, registry, log } = await setUp({}, 100);
    await registry.registerProcess(registration('p'));
    faulty.failAppends(Number.MAX_SAFE_INTEGER);
    await expect(registry.appendEvent('p', line('x'))).rejects.toMatchObject({
      name: 'RegistryError',
      code: 'unavailable',
    });
    expect(await appendedCount(log)).toBe(0);
  });

  it('session deletion revokes a grant another instance committed while it ran', async () => {
    const { faulty, registry, other } = await setUp();
    const peer = await other();
    const session = { sessionId: 's' };
    for (const id of ['p1', 'p2']) await registry.registerProcess(registration(id));
    await registry.grantHandle(session, 'p1', {});
    // committed after the deletion chose its processes, before its own append
    faulty.beforeNextAppend(async () => {
      await peer.grantHandle({ sessionId: 's', agentFrameId: 'f' }, 'p2', {});
    });
    const report = await registry.deleteSessionProcessState('s');
    expect(report).toEqual(
      sessionReport('s', { revokedHandleCount: 2, cancelProcessIds: ['p1', 'p2'] }),
    );
    expect(await peer.hasHandleGrant({ sessionId: 's', agentFrameId: 'f' }, 'p2')).toBe(false);
    expect(await registry.listHandleGrants({ sessionId: 's', agentFrameId: 'f' })).toEqual([]);
  });

  it('an asOf view recovers from a transient store error', async () => {
    const { faulty, registry } = await setUp();
    await registry.registerProcess(registration('p'));
    const view = registry.asOf({ position: 1 });
    faulty.failReads(1);
    await expect(view.listNonTerminal()).rejects.toMatchObject({ code: 'unavailable' });
    expect((await view.listNonTerminal()).map((r) => r.id)).toEqual(['p']);
  });

  it('checks every argument before looking the process up: bad input is `invalid`', async () => {
    const { registry } = await setUp();
    await expect(registry.eventsAfter('ghost', -1)).rejects.toMatchObject({ code: 'invalid' });
    await expect(registry.wakeEventsAfter('ghost', 0.5)).rejects.toMatchObject({ code: 'invalid' });
    await expect(registry.history('ghost', { fromMs: 'x' } as never)).rejects.toMatchObject({
      code: 'invalid',
    });
  });

  it('import refuses a repeated event id as `invalid` before writing anything', async () => {
    const { registry } = await setUp();
    await registry.registerProcess(registration('p'));
    await registry.appendEvent('p', line('a'));
    const lines: string[] = [];
    for await (const text of registry.exportEvents()) lines.push(text);
    const [first, second] = lines.map((text) => JSON.parse(text) as { eventId: string });
    const damaged = [lines[0]!, `${JSON.stringify({ ...second, eventId: first!.eventId })}\n`];
    // an empty store of this backend (SQLite would otherwise refuse the id only while writing)
    const fresh = await backend.open();
    cleanups.push(fresh.dispose);
    const target = await openRegistry(await fresh.connect());
    cleanups.push(() => target.close());
    await expect(target.importEvents(() => damaged)).rejects.toMatchObject({
      code: 'invalid',
      message: expect.stringContaining('repeats line 1'),
    });
    const check = await fresh.connect();
    expect(await readWholeLog(check)).toEqual([]);
    await check.close();
  });
});
