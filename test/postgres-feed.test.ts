import { describe, expect, it } from 'vitest';
import type { EventRow } from '../src/store/event-rows.ts';
import type { Position, StoredEvent } from '../src/store/port.ts';
import { type FeedSource, PostgresFeed } from '../src/store/postgres-feed.ts';

/**
 * The PostgreSQL feed against an in-memory log (no server): which NOTIFY wake-ups make a
 * follower read the log while this store's own commit is in flight.
 */
const row = (position: number): EventRow => ({
  position: BigInt(position),
  stream: 'process-p',
  revision: BigInt(position - 1),
  type: 'ProcessEventAppended',
  data: '{}',
  metadata: '{}',
  event_id: `e${position}`,
});

const feedOver = () => {
  const log: EventRow[] = [];
  let notify: (head: Position) => void = () => {};
  const reads: Position[] = [];
  const source: FeedSource = {
    async page(after, _prefix, limit) {
      reads.push(after);
      const rows = log.filter((r) => r.position > after).slice(0, limit);
      return { rows, head: log.at(-1)?.position ?? 0n };
    },
    async listen(onWake) {
      notify = onWake;
      return { close: async () => {} };
    },
    isTransient: () => false,
    failure: (error) => error,
    closedError: () => new Error('closed'),
    server: 'test',
  };
  const feed = new PostgresFeed(source, {
    safetyPollMs: 3_600_000,
    reconnect: { maxAttempts: 1, initialDelayMs: 1, maxDelayMs: 1 },
  });
  const seen: Position[] = [];
  const subscription = feed.subscribe({}).subscribe((e: StoredEvent) => seen.push(e.position));
  return { feed, log, reads, seen, notify: (head: number) => notify(BigInt(head)), subscription };
};

/** Lets pending promise callbacks and the feed's reads run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('PostgreSQL feed: own commits and NOTIFY', () => {
  it('reads nothing for its own commit whose NOTIFY comes back before the reply', async () => {
    const { feed, log, reads, seen, notify, subscription } = feedOver();
    await settle();
    const readsBefore = reads.length;
    await feed.ownCommit(async () => {
      log.push(row(1));
      notify(1); // the NOTIFY, before the commit's reply
      await settle();
      feed.publish([row(1)], 0n); // the reply: its events handed over
    });
    await settle();
    expect(seen).toEqual([1n]);
    expect(reads.length).toBe(readsBefore);
    subscription.unsubscribe();
  });

  it('reads what another instance committed meanwhile, once the own commit settles', async () => {
    const { feed, log, reads, seen, notify, subscription } = feedOver();
    await settle();
    const readsBefore = reads.length;
    await expect(
      feed.ownCommit(async () => {
        log.push(row(1)); // another instance's commit
        notify(1);
        await settle();
        expect(reads.length).toBe(readsBefore); // held back while the own commit is in flight
        throw new Error('the own commit failed');
      }),
    ).rejects.toThrow('failed');
    await settle();
    expect(seen).toEqual([1n]);
    expect(reads.length).toBe(readsBefore + 1);
    subscription.unsubscribe();
  });

  it('delivers every event once when others commit before and after its own', async () => {
    const { feed, log, seen, notify, subscription } = feedOver();
    await settle();
    await feed.ownCommit(async () => {
      log.push(row(1)); // another instance
      notify(1);
      log.push(row(2)); // its own, after the other's
      notify(2);
      await settle();
      feed.publish([row(2)], 1n); // behind the head it had seen: the follower reads
      log.push(row(3)); // another instance again, before the own commit settles
      notify(3);
    });
    await settle();
    expect(seen).toEqual([1n, 2n, 3n]);
    subscription.unsubscribe();
  });

  it('without its own commit in flight, a NOTIFY is read at once', async () => {
    const { log, reads, seen, notify, subscription } = feedOver();
    await settle();
    const readsBefore = reads.length;
    log.push(row(1));
    notify(1);
    await settle();
    expect(seen).toEqual([1n]);
    expect(reads.length).toBe(readsBefore + 1);
    subscription.unsubscribe();
  });
});
