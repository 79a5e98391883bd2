import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import {
  EventStoreDBClient,
  jsonEvent,
  NO_STREAM,
  StreamNotFoundError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { filter, firstValueFrom, take, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRegistryError } from '../src/domain/errors.ts';
import { openEventStoreDbStore } from '../src/store/eventstoredb.ts';
import { decodePosition, encodePosition, toRevision } from '../src/store/eventstoredb-position.ts';
import type { EventStore, NewEvent, StoredEvent } from '../src/store/port.ts';
import {
  type EsdbStandIn,
  type EsdbStandInOptions,
  startEsdbStandIn,
} from './support/esdb-standin.ts';
import { collect, describeStoreContract } from './support/store-contract.ts';

const realServer = process.env.EVENTSTORE_URL;
const fast = {
  operationTimeoutMs: 5_000,
  resubscribe: { maxAttempts: 6, initialDelayMs: 25, maxDelayMs: 200 },
};

const event = (type: string, data: Record<string, number | string> = {}): NewEvent => ({
  id: randomUUID(),
  type,
  data,
  metadata: { command: 'test' },
});

const waitFor = async (condition: () => boolean, what: string, ms = 5_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** What a command handler does after `unavailable`: retry the same append (same ids). */
const retrying = async <T>(attempt: () => Promise<T>): Promise<T> => {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (!isRegistryError(error, 'unavailable') || i >= 20) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
};

const collectRaw = async <T>(read: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const item of read) out.push(item);
  return out;
};

/** A port nothing listens on. */
const closedPort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
};

const standInStore = (options: EsdbStandInOptions) => async () => {
  const standIn = await startEsdbStandIn(options);
  const store = await openEventStoreDbStore(standIn.connectionString, fast);
  return { store, dispose: () => standIn.stop() };
};

describeStoreContract('eventstoredb via stand-in (BatchAppend)', standInStore({}), {
  atomicMultiStream: false,
});
describeStoreContract(
  'eventstoredb via stand-in (Append: a server without BatchAppend)',
  standInStore({ batchAppend: false }),
  { atomicMultiStream: false },
);
describeStoreContract(
  'eventstoredb via stand-in (explicit-transaction log layout)',
  standInStore({ layout: 'explicit-transactions' }),
  { atomicMultiStream: false },
);

/** Adapter behaviour that must hold on the stand-in and on a real server alike. */
const describeAdapter = (name: string, open: () => Promise<EventStore>): void => {
  describe(`eventstoredb adapter (${name})`, () => {
    let store: EventStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    it('answers a retried append (same ids) from the server’s idempotency check', async () => {
      const s = `process-${randomUUID()}`;
      const first = [event('A'), event('B')];
      const r1 = await store.appendToStream(s, first, { expectedRevision: 'no_stream' });
      expect(await store.appendToStream(s, first, { expectedRevision: 'no_stream' })).toEqual(r1);
      const second = [event('C')];
      const r2 = await store.appendToStream(s, second, { expectedRevision: 1 });
      expect(await store.appendToStream(s, second, { expectedRevision: 1 })).toEqual(r2);
      const third = [event('D')];
      const r3 = await store.appendToStream(s, third, { expectedRevision: 'any' });
      expect(await store.appendToStream(s, third, { expectedRevision: 'any' })).toEqual(r3);
      expect((await store.readStream(s)).map((e) => e.type)).toEqual(['A', 'B', 'C', 'D']);
    });

    it('gives positions that agree across append, readStream, readAll and subscribe', async () => {
      const a = `process-${randomUUID()}`;
      const b = `process-${randomUUID()}`;
      const results = [
        await store.appendToStream(a, [event('A0'), event('A1'), event('A2')], {
          expectedRevision: 'no_stream',
        }),
        await store.appendToStream(b, [event('B0')], { expectedRevision: 'no_stream' }),
        await store.appendToStream(a, [event('A3'), event('A4')], { expectedRevision: 2 }),
      ];
      const mine = (e: StoredEvent) => e.stream === a || e.stream === b;
      const all = (await collect(store.readAll({ streamPrefix: 'process-' }))).filter(mine);
      expect(all.map((e) => e.type)).toEqual(['A0', 'A1', 'A2', 'B0', 'A3', 'A4']);
      for (let i = 1; i < all.length; i++) {
        expect(all[i]!.position > all[i - 1]!.position).toBe(true);
      }
      const positionById = new Map(all.map((e) => [e.id, e.position]));
      for (const e of [...(await store.readStream(a)), ...(await store.readStream(b))]) {
        expect(e.position).toBe(positionById.get(e.id));
      }
      // an append reports the position of its last event
      expect(results.map((r) => r.position)).toEqual([2, 3, 5].map((i) => all[i]!.position));

      // from inside a multi-event append: exclusive of that event, nothing lost after it
      const after = all[1]!.position;
      const rest = (await collect(store.readAll({ fromPosition: after }))).filter(mine);
      expect(rest.map((e) => e.type)).toEqual(['A2', 'B0', 'A3', 'A4']);
      const subscribed = await firstValueFrom(
        store
          .subscribeToAll({ fromPosition: after, streamPrefix: 'process-' })
          .pipe(filter(mine), take(4), toArray()),
      );
      expect(subscribed.map((e) => e.position)).toEqual(rest.map((e) => e.position));
    });

    it('never yields system events ($-streams, $-types) from readAll', async () => {
      const s = `process-${randomUUID()}`;
      await store.appendToStream(s, [event('P')], { expectedRevision: 'no_stream' });
      const all = await collect(store.readAll());
      expect(all.some((e) => e.stream === s)).toBe(true);
      expect(all.filter((e) => e.stream.startsWith('$') || e.type.startsWith('$'))).toEqual([]);
    });
  });
};

describe.skipIf(!realServer)('real EventStoreDB at EVENTSTORE_URL', () => {
  describeStoreContract(
    'eventstoredb (real server)',
    async () => ({ store: await openEventStoreDbStore(realServer!, fast) }),
    { atomicMultiStream: false },
  );
  describeAdapter('real server', () => openEventStoreDbStore(realServer!, fast));
});

describe('eventstoredb adapter on the stand-in', () => {
  let standIn: EsdbStandIn;
  let store: EventStore | undefined;
  const openStore = async (connectionString = standIn.connectionString) => {
    store = await openEventStoreDbStore(connectionString, fast);
    return store;
  };
  beforeEach(async () => {
    standIn = await startEsdbStandIn();
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await standIn.stop();
  });

  describeAdapter('stand-in', () => openStore());

  it('resubscribes after dropped connections: every event once, in order', async () => {
    const s = `process-${randomUUID()}`;
    const client = await openStore();
    const seen: StoredEvent[] = [];
    let failed: unknown;
    const subscription = client
      .subscribeToAll({ streamPrefix: 'process-' })
      .subscribe({ next: (e) => seen.push(e), error: (e) => (failed = e) });
    let revision = -1;
    const appendSome = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const batch = [event('E', { n: revision + 1 })];
        const expectedRevision = revision < 0 ? 'no_stream' : revision;
        revision = (await retrying(() => client.appendToStream(s, batch, { expectedRevision })))
          .nextRevision;
      }
    };
    // each phase starts once the subscription is live again and has everything so far
    const live = async (count: number) => {
      await waitFor(() => seen.length >= count, `${count} events`);
      await waitFor(() => standIn.stats().openSubscriptions === 1, 'a live subscription');
    };
    await appendSome(5);
    await live(5);
    // dropped mid-subscription; the appends right after land while it is resubscribing
    await standIn.dropConnections();
    await appendSome(5);
    await live(10);
    // down for a while: at least one resubscription attempt fails and backs off
    await standIn.dropConnections({ downForMs: 150 });
    await appendSome(5);
    await live(15);
    // connections torn without a status, as by a network failure
    await standIn.dropConnections({ abrupt: true });
    await appendSome(5);
    standIn.appendDirect(s.replace('process-', '$stats-'), [{ type: '$statsCollected', data: {} }]);
    await live(20);
    await new Promise((r) => setTimeout(r, 100)); // a duplicate would arrive by now
    subscription.unsubscribe();

    expect(failed).toBeUndefined();
    expect(seen.map((e) => e.revision)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(new Set(seen.map((e) => e.id)).size).toBe(20);
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]!.position > seen[i - 1]!.position).toBe(true);
    }
    expect(standIn.stats().subscriptionsStarted).toBeGreaterThanOrEqual(4);
  });

  it('gives up after bounded retries with unavailable, naming the host', async () => {
    const client = await openStore();
    const errored = new Promise<unknown>((resolve) => {
      client.subscribeToAll({ streamPrefix: 'process-' }).subscribe({ error: resolve });
    });
    await waitFor(() => standIn.stats().openSubscriptions === 1, 'the subscription');
    const started = Date.now();
    await standIn.stop();
    const error = await errored;
    expect(error).toMatchObject({ name: 'RegistryError', code: 'unavailable' });
    expect(String((error as Error).message)).toContain(`127.0.0.1:${standIn.port}`);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('releases the server call on unsubscribe, also while waiting to resubscribe', async () => {
    const client = await openStore();
    const first = client.subscribeToAll({ streamPrefix: 'process-' }).subscribe();
    await waitFor(() => standIn.stats().openSubscriptions === 1, 'the subscription');
    first.unsubscribe();
    await waitFor(() => standIn.stats().openSubscriptions === 0, 'the server to see the cancel');

    const second = client.subscribeToAll({ streamPrefix: 'process-' }).subscribe();
    await waitFor(() => standIn.stats().openSubscriptions === 1, 'the second subscription');
    const dropped = standIn.dropConnections({ downForMs: 100 });
    await new Promise((r) => setTimeout(r, 40)); // the server is down: it is retrying
    second.unsubscribe();
    await dropped;
    const started = standIn.stats().subscriptionsStarted;
    await new Promise((r) => setTimeout(r, 400));
    expect(standIn.stats().subscriptionsStarted).toBe(started);
    expect(standIn.stats().openSubscriptions).toBe(0);
  });

  it('completes open subscriptions and releases calls and connection on close()', async () => {
    const sockets = () =>
      process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    const before = sockets();
    const client = await openStore();
    let completed = false;
    client.subscribeToAll().subscribe({ complete: () => (completed = true) });
    await waitFor(() => standIn.stats().openSubscriptions === 1, 'the subscription');
    await client.close();
    expect(completed).toBe(true);
    await waitFor(() => standIn.stats().openSubscriptions === 0, 'the server to see the cancel');
    // both ends of the client's connection are gone (the server's end only closes when the
    // client closes its channel, which client 6.x's dispose() does not do)
    await waitFor(() => sockets() <= before, 'the connection to close');
    await expect(client.readStream('process-x')).rejects.toMatchObject({ code: 'unavailable' });
    let error: unknown;
    client.subscribeToAll().subscribe({ error: (e) => (error = e) });
    expect(error).toMatchObject({ code: 'unavailable' });
  });

  it.each([true, false])(
    'retries an append whose reply was lost; the server deduplicates it (BatchAppend: %s)',
    async (batchAppend) => {
      const server = await startEsdbStandIn({ batchAppend });
      try {
        const client = await openEventStoreDbStore(server.connectionString, fast);
        const s = `process-${randomUUID()}`;
        await client.appendToStream(s, [event('A')], { expectedRevision: 'no_stream' });
        const events = [event('B'), event('C')];
        const appendsBefore = server.stats().appends;
        server.loseNextAppendReply();
        // the first call is stored but its reply lost; the adapter's retry (same ids) is
        // answered from the server's idempotency check
        const result = await client.appendToStream(s, events, { expectedRevision: 0 });
        expect(server.stats().appends - appendsBefore).toBeGreaterThanOrEqual(2);
        const stored = await client.readStream(s);
        expect(stored.map((e) => e.type)).toEqual(['A', 'B', 'C']);
        expect(result).toEqual({ nextRevision: 2, position: stored[2]!.position });
        // and a caller's own retry with the same ids is deduplicated too
        const again = await retrying(() =>
          client.appendToStream(s, events, { expectedRevision: 0 }),
        );
        expect(again).toEqual(result);
        expect(await client.readStream(s)).toHaveLength(3);
        await client.close();
      } finally {
        await server.stop();
      }
    },
  );

  it('skips system events on a live subscription', async () => {
    const client = await openStore();
    const s = `process-${randomUUID()}`;
    const received = firstValueFrom(client.subscribeToAll().pipe(take(2), toArray()));
    await waitFor(() => standIn.stats().openSubscriptions === 1, 'the subscription');
    // a $-type (filtered by the server) and a $-stream with a plain type (by the adapter)
    standIn.appendDirect('$$process-x', [{ type: '$metadata', data: {} }]);
    standIn.appendDirect('$stats-127.0.0.1:2113', [{ type: 'StatsCollected', data: {} }]);
    await client.appendToStream(s, [event('A'), event('B')], { expectedRevision: 'no_stream' });
    expect((await received).map((e) => [e.stream, e.type])).toEqual([
      [s, 'A'],
      [s, 'B'],
    ]);
  });

  it('shares the commit position within an explicit transaction and still orders events', async () => {
    const server = await startEsdbStandIn({ layout: 'explicit-transactions' });
    try {
      const client = await openEventStoreDbStore(server.connectionString, fast);
      const s = `process-${randomUUID()}`;
      await client.appendToStream(s, [event('A'), event('B'), event('C')], {
        expectedRevision: 'no_stream',
      });
      const [a, b, c] = await client.readStream(s);
      const commits = [a!, b!, c!].map((e) => decodePosition(e.position).commit);
      expect(new Set(commits).size).toBe(1);
      expect(a!.position < b!.position && b!.position < c!.position).toBe(true);
      const after = await collect(client.readAll({ fromPosition: a!.position }));
      expect(after.map((e) => e.type)).toEqual(['B', 'C']);
      await client.close();
    } finally {
      await server.stop();
    }
  });

  it('soft-deletes as a server does: the stream reads as not found, $all keeps its events, the old ids are still idempotent, a re-created stream continues its revisions', async () => {
    // the raw client, to see what the adapter translates
    const raw = EventStoreDBClient.connectionString(standIn.connectionString);
    try {
      const s = `process-${randomUUID()}`;
      const original = [jsonEvent({ type: 'A', data: {} }), jsonEvent({ type: 'B', data: {} })];
      await raw.appendToStream(s, original);
      await expect(raw.deleteStream(s, { expectedRevision: 0n })).rejects.toBeInstanceOf(
        WrongExpectedVersionError,
      );
      await raw.deleteStream(s, { expectedRevision: 1n });
      await expect(collectRaw(raw.readStream(s))).rejects.toBeInstanceOf(StreamNotFoundError);
      // the same ids again: the idempotency check still sees them, nothing is written
      const replayed = await raw.appendToStream(s, original, { expectedRevision: NO_STREAM });
      expect(replayed.nextExpectedRevision).toBe(1n);
      await expect(collectRaw(raw.readStream(s))).rejects.toBeInstanceOf(StreamNotFoundError);
      const meta = await raw.getStreamMetadata(s);
      expect(Number(meta.metadata?.truncateBefore)).toBeGreaterThanOrEqual(Number.MAX_SAFE_INTEGER);
      const again = await raw.appendToStream(s, jsonEvent({ type: 'C', data: {} }), {
        expectedRevision: NO_STREAM,
      });
      expect(again.nextExpectedRevision).toBe(2n);
      expect((await raw.getStreamMetadata(s)).metadata?.truncateBefore).toBe(2);
      const read = await collectRaw(raw.readStream(s));
      expect(read.map((r) => [r.event?.type, r.event?.revision])).toEqual([['C', 2n]]);
      const all = (await collectRaw(raw.readAll())).filter((r) => r.event?.streamId === s);
      expect(all.map((r) => r.event?.type)).toEqual(['A', 'B', 'C']);
    } finally {
      await raw.dispose();
    }
  });

  it('connects with esdb+discover:// through gossip', async () => {
    const client = await openStore(`esdb+discover://127.0.0.1:${standIn.port}?tls=false`);
    const s = `process-${randomUUID()}`;
    await client.appendToStream(s, [event('A')], { expectedRevision: 'no_stream' });
    expect(await client.streamRevision(s)).toBe(0);
  });

  it('maps a server that went away to unavailable, naming the host', async () => {
    const client = await openStore();
    await standIn.stop();
    const host = `127.0.0.1:${standIn.port}`;
    await expect(
      client.appendToStream(`process-${randomUUID()}`, [event('A')], { expectedRevision: 'any' }),
    ).rejects.toMatchObject({ code: 'unavailable', message: expect.stringContaining(host) });
    await expect(client.readStream('process-x')).rejects.toMatchObject({
      code: 'unavailable',
      message: expect.stringContaining(host),
    });
  });
});

describe('eventstoredb adapter without a server', () => {
  it('fails to open on a closed port, fast, with unavailable naming the host', async () => {
    const port = await closedPort();
    const started = Date.now();
    await expect(
      openEventStoreDbStore(`esdb://admin:secret@127.0.0.1:${port}?tls=false`, fast),
    ).rejects.toSatisfy(
      (error: unknown) =>
        isRegistryError(error, 'unavailable') &&
        error.message.includes(`127.0.0.1:${port}`) &&
        !error.message.includes('secret'),
    );
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('rejects a malformed connection string as invalid', async () => {
    await expect(openEventStoreDbStore('postgres://nope')).rejects.toMatchObject({
      code: 'invalid',
    });
  });
});

describe('eventstoredb positions and revisions', () => {
  it('packs (commit, prepare) into one bigint that keeps their order', () => {
    const pairs = [
      { commit: 0n, prepare: 0n },
      { commit: 10n, prepare: 4n },
      { commit: 10n, prepare: 9n },
      { commit: 11n, prepare: 0n },
      { commit: 2n ** 63n, prepare: 2n ** 64n - 2n },
    ];
    const packed = pairs.map(encodePosition);
    expect(packed.map(decodePosition)).toEqual(pairs);
    expect([...packed].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))).toEqual(packed);
  });

  it('converts revisions exactly or refuses', () => {
    expect(toRevision(2n ** 53n - 1n)).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => toRevision(2n ** 53n)).toThrow(/2\^53/);
  });
});
