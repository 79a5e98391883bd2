import { Observable, type Subscriber } from 'rxjs';
import { type EventRow, PAGE_SIZE, toStoredEvent } from './event-rows.ts';
import { type Position, START, type StoredEvent, type SubscribeOptions } from './port.ts';
import type { WakeWatch } from './sqlite-wake.ts';

/** What the feed needs from the store: reads of the file and its error translation. */
export interface FeedSource {
  head(): Position;
  page(after: Position, upTo: Position, prefix: string | undefined, limit: number): EventRow[];
  /** true for a failure the next poll may not see again (a busy reader) */
  isTransient(error: unknown): boolean;
  failure(error: unknown): unknown;
  closedError(): Error;
  /**
   * Starts calling `onChange` when another connection may have committed (see
   * sqlite-wake.ts), `onFailure` if that stops working; undefined when it cannot watch.
   */
  watch?(onChange: () => void, onFailure: () => void): WakeWatch | undefined;
}

/** How often the feed reads the head: `watching` while wake-ups work, else `polling`. */
export interface FeedPolling {
  polling: number;
  watching: number;
}

/**
 * One subscriber's progress. Invariant: every event at or below `last` has been delivered
 * or filtered out, and none above it has.
 */
interface Subscription {
  readonly subscriber: Subscriber<StoredEvent>;
  readonly prefix: string | undefined;
  last: Position;
  /** reading from the file; direct delivery waits until it is done */
  pumping: boolean;
}

/**
 * The live feed behind `subscribeToAll`. Catch-up reads the file up to its head; after that
 * this store's own appends are handed over right after they commit (`publish`), and other
 * processes' appends are found when the file wakes the feed (their commit rang the bell),
 * with a slow poll of the head as a safety net, or by a fast poll where the file cannot be
 * watched; only while someone is subscribed. Every path advances the same `last`, which is
 * what makes delivery exactly once and in order.
 */
export class SqliteFeed {
  private readonly subscriptions = new Set<Subscription>();
  private pollTimer: NodeJS.Timeout | undefined;
  private watcher: WakeWatch | undefined;
  /** a wake-up's read of the head, scheduled for the next turn (wake-ups come in bursts) */
  private wakeCheck: NodeJS.Immediate | undefined;
  private closed = false;

  constructor(
    private readonly source: FeedSource,
    private readonly intervals: FeedPolling,
  ) {}

  subscribe(options: SubscribeOptions): Observable<StoredEvent> {
    return new Observable<StoredEvent>((subscriber) => {
      if (this.closed) {
        subscriber.error(this.source.closedError());
        return;
      }
      const subscription: Subscription = {
        subscriber,
        prefix: options.streamPrefix || undefined,
        last: options.fromPosition ?? START,
        pumping: false,
      };
      this.subscriptions.add(subscription);
      this.startFollowing();
      void this.pump(subscription);
      return () => {
        this.subscriptions.delete(subscription);
        if (this.subscriptions.size === 0) this.stopPolling();
      };
    });
  }

  /**
   * Hands over a batch this store just committed. Positions are assigned under the write
   * lock, so a subscription that had seen everything up to the head before the batch can
   * take it directly; any other is behind (catching up, or another process wrote in
   * between) and reads the file instead.
   */
  publish(rows: readonly EventRow[], headBefore: Position): void {
    const last = rows.at(-1);
    if (!last) return;
    for (const subscription of this.subscriptions) {
      if (subscription.pumping || subscription.last < headBefore) {
        void this.pump(subscription);
        continue;
      }
      const { subscriber, prefix } = subscription;
      for (const row of rows) {
        if (subscriber.closed) break;
        // a subscription opened by a subscriber during this loop has already read the batch
        if (row.position <= subscription.last) continue;
        if (prefix && !row.stream.startsWith(prefix)) continue;
        subscriber.next(toStoredEvent(row));
      }
      subscription.last = last.position;
    }
  }

  /** Completes every subscription and stops polling; later subscribers get `closedError`. */
  close(): void {
    this.closed = true;
    this.stopPolling();
    for (const { subscriber } of [...this.subscriptions]) subscriber.complete();
    this.subscriptions.clear();
  }

  /** Reads the file from the subscription's `last` up to the head, one page per turn. */
  private async pump(subscription: Subscription): Promise<void> {
    if (subscription.pumping) return;
    subscription.pumping = true;
    const { subscriber, prefix } = subscription;
    try {
      while (!subscriber.closed && !this.closed) {
        const head = this.source.head();
        if (head <= subscription.last) return;
        const rows = this.source.page(subscription.last, head, prefix, PAGE_SIZE);
        for (const row of rows) {
          if (subscriber.closed) return;
          subscription.last = row.position;
          subscriber.next(toStoredEvent(row));
        }
        if (rows.length < PAGE_SIZE) {
          // Nothing in this process can commit during this synchronous stretch, so the
          // subscription is now exactly at the head.
          subscription.last = head;
          return;
        }
        // a long catch-up yields between pages; appends committed meanwhile are read next
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } catch (error) {
      // the next poll resumes from `last`
      if (this.source.isTransient(error)) return;
      subscriber.error(this.source.failure(error));
    } finally {
      subscription.pumping = false;
    }
  }

  private poll(): void {
    if (this.closed) return;
    let head: Position;
    try {
      head = this.source.head();
    } catch (error) {
      if (this.source.isTransient(error)) return;
      const failure = this.source.failure(error);
      for (const { subscriber } of [...this.subscriptions]) subscriber.error(failure);
      return;
    }
    for (const subscription of this.subscriptions) {
      if (head > subscription.last) void this.pump(subscription);
    }
  }

  private startFollowing(): void {
    if (this.pollTimer) return;
    this.watcher = this.source.watch?.(
      () => this.wake(),
      () => this.fallBackToPolling(),
    );
    this.pollEvery(this.watcher ? this.intervals.watching : this.intervals.polling);
  }

  private pollEvery(intervalMs: number): void {
    clearInterval(this.pollTimer);
    // unref: a subscription alone must not keep the process alive
    this.pollTimer = setInterval(() => this.poll(), intervalMs).unref();
  }

  private wake(): void {
    if (this.wakeCheck || this.closed) return;
    this.wakeCheck = setImmediate(() => {
      this.wakeCheck = undefined;
      this.poll();
    }).unref();
  }

  private fallBackToPolling(): void {
    this.watcher = undefined;
    if (this.pollTimer) this.pollEvery(this.intervals.polling);
  }

  private stopPolling(): void {
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    clearImmediate(this.wakeCheck);
    this.wakeCheck = undefined;
    this.watcher?.close();
    this.watcher = undefined;
  }
}
