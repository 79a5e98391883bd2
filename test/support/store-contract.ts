import { randomUUID } from 'node:crypto';
import { firstValueFrom, take, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { metadataFor } from '../../src/commands/encode.ts';
import { encodePrune, PRUNE_COMMAND, RETENTION_STREAM } from '../../src/domain/retention.ts';
import type { EventStore, NewEvent, StoredEvent, StreamWrite } from '../../src/store/port.ts';
import { WrongExpectedRevisionError } from '../../src/store/port.ts';

/** Makes a fresh, empty store; `dispose` removes whatever it created. */
export type StoreFactory = () => Promise<{ store: EventStore; dispose?: () => Promise<void> }>;

const event = (type: string, data: Record<string, number | string> = {}): NewEvent => ({
  id: randomUUID(),
  type,
  data,
  metadata: { command: 'test' },
});

/**
 * The prune record naming `removed` streams (as registry/prune.ts writes it: EventStoreDB
 * reads it to hide the removed events from `$all`).
 */
export const pruneRecord = (removed: readonly StoredEvent[]): StreamWrite => {
  const pruneId = randomUUID();
  const processes = removed.map((last, i) => ({
    processId: last.stream.slice('process-'.length),
    stream: last.stream,
    lastRevision: last.revision,
    lastPosition: last.position.toString(),
    file: `${i}.ndjson`,
    sha256: '0'.repeat(64),
    events: last.revision + 1,
  }));
  const data = { pruneId, terminalBeforeMs: 0, archive: '/tmp', manifestSha256: '0'.repeat(64) };
  return {
    stream: RETENTION_STREAM,
    expectedRevision: 'any',
    events: [
      encodePrune(
        randomUUID(),
        { type: 'ProcessesPruned', data: { ...data, processes, atMs: 0 } },
        metadataFor(PRUNE_COMMAND, undefined, pruneId, 0),
      ),
    ],
  };
};

/** Drains an async iterable (a `readAll`) into an array. */
export const collect = async (iterable: AsyncIterable<StoredEvent>): Promise<StoredEvent[]> => {
  const out: StoredEvent[] = [];
  for await (const e of iterable) out.push(e);
  return out;
};

/**
 * The store contract: what every EventStore adapter must do. Each adapter's test file calls
 * this with a factory; the registry's own behaviour is covered by the conformance suite.
 */
export const describeStoreContract = (
  name: string,
  factory: StoreFactory,
  traits: { atomicMultiStream: boolean } = { atomicMultiStream: true },
): void => {
  describe(`store contract: ${name}`, () => {
    let store: EventStore;
    let dispose: (() => Promise<void>) | undefined;
    const stream = () => `process-${randomUUID()}`;

    beforeEach(async () => {
      ({ store, dispose } = await factory());
    });
    afterEach(async () => {
      await store.close();
      await dispose?.();
    });

    it('deletes whole streams with a record, only at the revision given, all or nothing (stores that can)', async (t) => {
      if (!store.deleteStreams) {
        t.skip();
        return;
      }
      const [a, b, keep] = [stream(), stream(), stream()];
      await store.appendToStream(a, [event('A'), event('B')], { expectedRevision: 'no_stream' });
      await store.appendToStream(b, [event('C')], { expectedRevision: 'no_stream' });
      await store.appendToStream(keep, [event('D')], { expectedRevision: 'no_stream' });
      const [lastA] = await store.readStream(a, { direction: 'backwards', maxCount: 1 });
      const [lastB] = await store.readStream(b, { direction: 'backwards', maxCount: 1 });
      const record = () => pruneRecord([lastA!, lastB!]);
      // b moved on: nothing is removed, nothing recorded
      await expect(
        store.deleteStreams(
          [
            { stream: a, lastRevision: 1 },
            { stream: b, lastRevision: 5 },
          ],
          record(),
        ),
      ).rejects.toBeInstanceOf(WrongExpectedRevisionError);
      expect(await store.streamRevision(a)).toBe(1);
      expect(await store.readStream(RETENTION_STREAM)).toEqual([]);
      const before = await collect(store.readAll());
      const result = await store.deleteStreams(
        [
          { stream: a, lastRevision: 1 },
          { stream: b, lastRevision: 0 },
        ],
        record(),
      );
      expect(result!.position > before.at(-1)!.position).toBe(true);
      for (const gone of [a, b]) {
        expect(await store.readStream(gone)).toEqual([]);
        expect(await store.streamRevision(gone)).toBe(-1);
      }
      const after = await collect(store.readAll());
      expect(after.map((e) => e.stream).filter((s) => s !== RETENTION_STREAM)).toEqual(
        before.map((e) => e.stream).filter((s) => s !== a && s !== b),
      );
      expect(after.at(-1)!.type).toBe('ProcessesPruned');
      // a removed stream may begin again from revision 0
      const again = await store.appendToStream(a, [event('E')], { expectedRevision: 'no_stream' });
      expect(again.nextRevision).toBe(0);
      expect((await store.readStream(a)).map((e) => [e.type, e.revision])).toEqual([['E', 0]]);
      expect(await store.streamRevision(a)).toBe(0);
      const next = await store.appendToStream(a, [event('F')], { expectedRevision: 0 });
      expect(next.nextRevision).toBe(1);
      expect(await store.readStream(a, { fromRevision: 1 })).toMatchObject([{ type: 'F' }]);
      // the global log holds the new incarnation only, at its own revisions
      const again2 = (await collect(store.readAll())).filter((e) => e.stream === a);
      expect(again2.map((e) => [e.type, e.revision])).toEqual([
        ['E', 0],
        ['F', 1],
      ]);
      expect(await store.streamRevision(keep)).toBe(0);
    });

    it('reads an unknown stream as empty with revision -1', async () => {
      const s = stream();
      expect(await store.readStream(s)).toEqual([]);
      expect(await store.streamRevision(s)).toBe(-1);
    });

    it('appends with no_stream, then with the expected revision, giving dense revisions', async () => {
      const s = stream();
      const first = await store.appendToStream(s, [event('A'), event('B')], {
        expectedRevision: 'no_stream',
      });
      expect(first.nextRevision).toBe(1);
      const second = await store.appendToStream(s, [event('C')], { expectedRevision: 1 });
      expect(second.nextRevision).toBe(2);
      expect(second.position > first.position).toBe(true);
      const read = await store.readStream(s);
      expect(read.map((e) => [e.type, e.revision, e.stream])).toEqual([
        ['A', 0, s],
        ['B', 1, s],
        ['C', 2, s],
      ]);
      expect(await store.streamRevision(s)).toBe(2);
    });

    it('round-trips data, metadata and ids exactly', async () => {
      const s = stream();
      const e: NewEvent = {
        id: randomUUID(),
        type: 'T',
        data: { n: 1.5, big: 2 ** 52, text: 'ü€', nested: { list: [null, true, 'x'] } },
        metadata: { actor: 'alice', recordedAtMs: 1700000000000 },
      };
      await store.appendToStream(s, [e], { expectedRevision: 'no_stream' });
      const [read] = await store.readStream(s);
      expect(read).toMatchObject({ id: e.id, type: 'T', data: e.data, metadata: e.metadata });
    });

    it('rejects a wrong expected revision with a typed error and stores nothing', async () => {
      const s = stream();
      await store.appendToStream(s, [event('A')], { expectedRevision: 'no_stream' });
      await expect(
        store.appendToStream(s, [event('B'), event('C')], { expectedRevision: 5 }),
      ).rejects.toBeInstanceOf(WrongExpectedRevisionError);
      await expect(
        store.appendToStream(s, [event('B')], { expectedRevision: 'no_stream' }),
      ).rejects.toMatchObject({ name: 'WrongExpectedRevisionError', actual: 0 });
      expect((await store.readStream(s)).map((e) => e.type)).toEqual(['A']);
    });

    it('treats a retried append (same ids, same expected revision) as already done', async () => {
      const s = stream();
      const events = [event('A'), event('B')];
      const first = await store.appendToStream(s, events, { expectedRevision: 'no_stream' });
      const again = await store.appendToStream(s, events, { expectedRevision: 'no_stream' });
      expect(again).toEqual(first);
      expect(await store.readStream(s)).toHaveLength(2);
    });

    it('appends "any" without a check', async () => {
      const s = stream();
      await store.appendToStream(s, [event('A')], { expectedRevision: 'any' });
      await store.appendToStream(s, [event('B')], { expectedRevision: 'any' });
      expect(await store.streamRevision(s)).toBe(1);
    });

    it('reads a stream from a revision, with a max count, and backwards', async () => {
      const s = stream();
      await store.appendToStream(
        s,
        ['A', 'B', 'C', 'D', 'E'].map((t) => event(t)),
        { expectedRevision: 'no_stream' },
      );
      const types = (events: StoredEvent[]) => events.map((e) => e.type).join('');
      expect(types(await store.readStream(s, { fromRevision: 2 }))).toBe('CDE');
      expect(types(await store.readStream(s, { fromRevision: 1, maxCount: 2 }))).toBe('BC');
      expect(types(await store.readStream(s, { direction: 'backwards', maxCount: 2 }))).toBe('ED');
      expect(types(await store.readStream(s, { fromRevision: 9 }))).toBe('');
    });

    it('reads the global log in position order from an exclusive position', async () => {
      const a = stream();
      const b = stream();
      await store.appendToStream(a, [event('A1')], { expectedRevision: 'no_stream' });
      await store.appendToStream(b, [event('B1')], { expectedRevision: 'no_stream' });
      await store.appendToStream(a, [event('A2')], { expectedRevision: 0 });
      const mine = (events: StoredEvent[]) =>
        events.filter((e) => e.stream === a || e.stream === b);
      const all = mine(await collect(store.readAll()));
      expect(all.map((e) => e.type)).toEqual(['A1', 'B1', 'A2']);
      for (let i = 1; i < all.length; i++) {
        expect(all[i]!.position > all[i - 1]!.position).toBe(true);
      }
      const after = mine(await collect(store.readAll({ fromPosition: all[0]!.position })));
      expect(after.map((e) => e.type)).toEqual(['B1', 'A2']);
      const limited = await collect(store.readAll({ fromPosition: all[0]!.position, maxCount: 1 }));
      expect(limited.map((e) => e.type)).toEqual(['B1']);
    });

    it('filters the global log by stream prefix', async () => {
      const p = `process-${randomUUID()}`;
      await store.appendToStream(p, [event('P')], { expectedRevision: 'no_stream' });
      await store.appendToStream(`other-${randomUUID()}`, [event('O')], {
        expectedRevision: 'no_stream',
      });
      const read = await collect(store.readAll({ streamPrefix: 'process-' }));
      expect(read.every((e) => e.stream.startsWith('process-'))).toBe(true);
      expect(read.some((e) => e.stream === p)).toBe(true);
    });

    it('pages through a global log larger than one page', async () => {
      const s = stream();
      const events = Array.from({ length: 1200 }, (_, i) => event('N', { i }));
      for (let i = 0; i < events.length; i += 200) {
        await store.appendToStream(s, events.slice(i, i + 200), {
          expectedRevision: i === 0 ? 'no_stream' : i - 1,
        });
      }
      const read = (await collect(store.readAll())).filter((e) => e.stream === s);
      expect(read.map((e) => e.revision)).toEqual(events.map((_, i) => i));
    });

    it('appends to several streams at once', async () => {
      const a = stream();
      const b = stream();
      const results = await store.appendToStreams([
        { stream: a, events: [event('A')], expectedRevision: 'no_stream' },
        { stream: b, events: [event('B')], expectedRevision: 'no_stream' },
      ]);
      expect(results.map((r) => r.nextRevision)).toEqual([0, 0]);
      expect(await store.streamRevision(b)).toBe(0);
    });

    it.runIf(traits.atomicMultiStream)('appends to several streams all or nothing', async () => {
      const a = stream();
      const b = stream();
      await store.appendToStream(b, [event('B0')], { expectedRevision: 'no_stream' });
      await expect(
        store.appendToStreams([
          { stream: a, events: [event('A')], expectedRevision: 'no_stream' },
          { stream: b, events: [event('B')], expectedRevision: 'no_stream' },
        ]),
      ).rejects.toBeInstanceOf(WrongExpectedRevisionError);
      expect(await store.streamRevision(a)).toBe(-1);
      expect(await store.streamRevision(b)).toBe(0);
    });

    it('subscribes: catch-up after a position, then live, each event once in order', async () => {
      const s = stream();
      await store.appendToStream(s, [event('A')], { expectedRevision: 'no_stream' });
      const [start] = await store.readStream(s);
      await store.appendToStream(s, [event('B')], { expectedRevision: 0 });
      const received = firstValueFrom(
        store
          .subscribeToAll({ fromPosition: start!.position, streamPrefix: 'process-' })
          .pipe(take(3), toArray()),
      );
      await store.appendToStream(s, [event('C')], { expectedRevision: 1 });
      await store.appendToStream(s, [event('D')], { expectedRevision: 2 });
      const events = await received;
      expect(events.map((e) => e.type)).toEqual(['B', 'C', 'D']);
    });

    it('delivers concurrent appends to a subscriber exactly once', async () => {
      const streams = Array.from({ length: 5 }, stream);
      const seen: StoredEvent[] = [];
      const sub = store.subscribeToAll({ streamPrefix: 'process-' }).subscribe((e) => {
        if (streams.includes(e.stream)) seen.push(e);
      });
      await Promise.all(
        streams.map(async (s) => {
          for (let r = 0; r < 10; r++) {
            await store.appendToStream(s, [event('X', { r })], {
              expectedRevision: r === 0 ? 'no_stream' : r - 1,
            });
          }
        }),
      );
      const deadline = Date.now() + 10_000;
      while (seen.length < 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      sub.unsubscribe();
      expect(seen).toHaveLength(50);
      expect(new Set(seen.map((e) => e.id)).size).toBe(50);
      for (let i = 1; i < seen.length; i++) {
        expect(seen[i]!.position > seen[i - 1]!.position).toBe(true);
      }
    });

    it('rejects a concurrent append race with exactly one winner', async () => {
      const s = stream();
      await store.appendToStream(s, [event('A')], { expectedRevision: 'no_stream' });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, () =>
          store.appendToStream(s, [event('B')], { expectedRevision: 0 }),
        ),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      for (const o of outcomes) {
        if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(WrongExpectedRevisionError);
      }
      expect(await store.readStream(s)).toHaveLength(2);
    });
  });
};
