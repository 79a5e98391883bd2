import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openRegistry, type ProcessRegistry } from '../src/index.ts';
import { openEventStoreDbStore } from '../src/store/eventstoredb.ts';
import { registration } from './conformance/fixtures.ts';
import { type EsdbStandIn, startEsdbStandIn } from './support/esdb-standin.ts';

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
