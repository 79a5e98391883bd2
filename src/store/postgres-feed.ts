import { Observable, type Subscriber } from 'rxjs';
import { RegistryError } from '../domain/errors.ts';
import { type EventRow, PAGE_SIZE, toStoredEvent } from './event-rows.ts';
import { type Position, START, type StoredEvent, type SubscribeOptions } from './port.ts';

/** A page of the log read in one snapshot, with that snapshot's head. */
export interface LogPage {
  rows: EventRow[];
  /** every event at or below it is committed and visible in the snapshot the rows came from */
  head: Position;
}

/** An open LISTEN connection. */
export interface Listener {
  close(): Promise<void>;
}

/** What the feed needs from the store: reads, a LISTEN connection, error translation. */
export interface FeedSource {
  page(after: Position, prefix: string | undefined, limit: number): Promise<LogPage>;
  /**
   * Opens a dedicated connection that LISTENs; `onWake` gets each NOTIFY's head (0 when
   * unknown); `onLost` is called once if the connection drops.
   */
  listen(onWake: (head: Position) => void, onLost: (error: unknown) => void): Promise<Listener>;
  isTransient(error: unknown): boolean;
  failure(error: unknown): unknown;
  closedError(): Error;
  /** `host:port/database`, for messages */
  server: string;
}

export interface ReconnectPolicy {
  /** consecutive failed reconnects before subscriptions error `unavailable` */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export interface FeedSettings {
  /** how often subscriptions read the log anyway: the safety net for a missed NOTIFY */
  safetyPollMs: number;
  reconnect: ReconnectPolicy;
}

/**
 * One subscriber's progress. Invariant: every event at or below `last` has been delivered
 * or filtered out, and none above it has.
 */
interface Follower {
  readonly subscriber: Subscriber<StoredEvent>;
  readonly prefix: string | undefined;
  last: Position;
  reading: boolean;
  /** woken while reading: read again once done, so no wake-up is lost */
  again: boolean;
}

/**
 * The live feed behind `subscribeToAll`, pushed by LISTEN/NOTIFY: every append transaction
 * NOTIFYs on commit, which wakes every instance's followers to read the log after their
 * `last`. This store's own appends are handed over directly after they commit (`publish`).
 * A dropped LISTEN connection is re-established with backoff, then every follower reads
 * from its `last`, so nothing committed meanwhile is missed; a slow safety poll covers a
 * NOTIFY lost in between. Positions are assigned in commit order, so reading "after `last`"
 * can never skip an event that commits later.
 */
export class PostgresFeed {
  private readonly followers = new Set<Follower>();
  private listener: Listener | undefined;
  private connecting = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private pollTimer: NodeJS.Timeout | undefined;
  private connectAttempt: Promise<void> | undefined;
  private readonly closing = new Set<Promise<void>>();
  private closed = false;
  /**
   * This store's commits in flight (`ownCommit`). A NOTIFY that arrives meanwhile may be
   * theirs, coming back before the commit's reply: its head waits in `deferredHead` until
   * they settle, when `publish` has handed their events over and only what others committed
   * is left to read (else a follower would read the log for events about to be published,
   * and read again when they are).
   */
  private ownInFlight = 0;
  private deferredHead: Position | undefined;

  constructor(
    private readonly source: FeedSource,
    private readonly settings: FeedSettings,
  ) {}

  subscribe(options: SubscribeOptions): Observable<StoredEvent> {
    return new Observable<StoredEvent>((subscriber) => {
      if (this.closed) {
        subscriber.error(this.source.closedError());
        return;
      }
      const follower: Follower = {
        subscriber,
        prefix: options.streamPrefix || undefined,
        last: options.fromPosition ?? START,
        reading: false,
        again: false,
      };
      this.followers.add(follower);
      this.startListening();
      // unref: a subscription alone must not keep the process alive
      this.pollTimer ??= setInterval(() => this.wakeAll(), this.settings.safetyPollMs).unref();
      void this.read(follower);
      return () => {
        this.followers.delete(follower);
        if (this.followers.size === 0) this.stopListening();
      };
    });
  }

  /**
   * Hands over events this store just committed (`headBefore` was the head when its
   * transaction took the log lock, so they directly follow it). A follower that had read
   * up to there takes them as they are; any other reads the log.
   */
  publish(rows: readonly EventRow[], headBefore: Position): void {
    const lastRow = rows.at(-1);
    if (!lastRow) return;
    for (const follower of this.followers) {
      if (follower.reading || follower.last < headBefore) {
        void this.read(follower);
        continue;
      }
      for (const row of rows) {
        if (follower.subscriber.closed) break;
        if (row.position <= follower.last) continue;
        if (follower.prefix && !row.stream.startsWith(follower.prefix)) continue;
        follower.subscriber.next(toStoredEvent(row));
      }
      if (lastRow.position > follower.last) follower.last = lastRow.position;
    }
  }

  /** Completes every subscription; resolves once the LISTEN connection is closed. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopListening();
    for (const { subscriber } of [...this.followers]) subscriber.complete();
    this.followers.clear();
    // a connection still being opened is closed as soon as it is (see startListening)
    await this.connectAttempt;
    await Promise.all(this.closing);
  }

  /**
   * Runs one of this store's commits (which publishes its events when it succeeds), holding
   * back NOTIFY wake-ups until it settles (see `ownInFlight`).
   */
  async ownCommit<T>(commit: () => Promise<T>): Promise<T> {
    this.ownInFlight += 1;
    try {
      return await commit();
    } finally {
      this.ownInFlight -= 1;
      const head = this.deferredHead;
      if (this.ownInFlight === 0 && head !== undefined) {
        this.deferredHead = undefined;
        this.wakeAll(head);
      }
    }
  }

  /** Followers that have not seen `head` read the log (all of them when it is unknown). */
  private wakeAll(head: Position = 0n): void {
    if (head !== 0n && this.ownInFlight > 0) {
      if (this.deferredHead === undefined || head > this.deferredHead) this.deferredHead = head;
      return;
    }
    for (const follower of this.followers) {
      // an own append's NOTIFY comes back to us after `publish` delivered its events
      if (head === 0n || follower.last < head) void this.read(follower);
    }
  }

  /** Reads the log after the follower's `last` until it has seen the head. */
  private async read(follower: Follower): Promise<void> {
    if (follower.reading) {
      follower.again = true;
      return;
    }
    follower.reading = true;
    const { subscriber, prefix } = follower;
    try {
      do {
        follower.again = false;
        for (;;) {
          const { rows, head } = await this.source.page(follower.last, prefix, PAGE_SIZE);
          if (subscriber.closed || this.closed) return;
          for (const row of rows) {
            if (row.position <= follower.last) continue;
            follower.last = row.position;
            subscriber.next(toStoredEvent(row));
            if (subscriber.closed) return;
          }
          if (rows.length < PAGE_SIZE) {
            // the rows and the head come from one snapshot: nothing else is at or below it
            if (head > follower.last) follower.last = head;
            break;
          }
        }
      } while (follower.again);
    } catch (error) {
      // a dropped connection: the reconnect (or the safety poll) reads again from `last`
      if (this.source.isTransient(error)) return;
      this.followers.delete(follower);
      subscriber.error(this.source.failure(error));
    } finally {
      follower.reading = false;
    }
  }

  private startListening(): void {
    if (this.listener || this.connecting || this.reconnectTimer || this.closed) return;
    this.connecting = true;
    let lost = false;
    this.connectAttempt = this.source
      .listen(
        (head) => this.wakeAll(head),
        (error) => {
          lost = true;
          this.listener = undefined;
          this.retryListening(error);
        },
      )
      .then(
        async (listener) => {
          this.connecting = false;
          if (this.closed || this.followers.size === 0 || lost) {
            await listener.close();
            return;
          }
          this.listener = listener;
          this.failures = 0;
          // whatever committed while no one was listening
          this.wakeAll();
        },
        (error: unknown) => {
          this.connecting = false;
          this.retryListening(error);
        },
      );
  }

  private retryListening(error: unknown): void {
    if (this.closed || this.followers.size === 0 || this.connecting || this.reconnectTimer) return;
    this.failures += 1;
    const { maxAttempts, initialDelayMs, maxDelayMs } = this.settings.reconnect;
    if (this.failures > maxAttempts) {
      this.failures = 0;
      const failure = new RegistryError(
        'unavailable',
        `lost the LISTEN connection to PostgreSQL at ${this.source.server} and could not re-establish it after ${maxAttempts} attempts (${
          error instanceof Error ? error.message : String(error)
        }); check that the server is up and reachable, then subscribe again from the last checkpoint`,
        { cause: error },
      );
      for (const { subscriber } of [...this.followers]) subscriber.error(failure);
      this.followers.clear();
      this.stopListening();
      return;
    }
    const delay = Math.min(maxDelayMs, initialDelayMs * 2 ** (this.failures - 1));
    this.reconnectTimer = setTimeout(
      () => {
        this.reconnectTimer = undefined;
        this.startListening();
      },
      delay * (0.8 + Math.random() * 0.4),
    ).unref();
  }

  private stopListening(): void {
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.failures = 0;
    const listener = this.listener;
    this.listener = undefined;
    if (!listener) return;
    const closing = listener.close().catch(() => {});
    this.closing.add(closing);
    void closing.finally(() => this.closing.delete(closing));
  }
}
