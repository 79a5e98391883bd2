import { type Observable, Subject, type Subscription } from 'rxjs';
import { decodeEvent, type RecordedDomainEvent } from '../domain/codec.ts';
import { STREAM_PREFIX } from '../domain/events.ts';
import { deepFreeze } from '../domain/freeze.ts';
import { type EventStore, type Position, START, type StoredEvent } from '../store/port.ts';
import { applyToReadModels, createReadModels, type ReadModels } from './read-models.ts';

const RESUBSCRIBE_AFTER_MS = 1_000;

/** An event this instance is appending, as it holds it before the store assigns a position. */
export type OwnEvent = Pick<RecordedDomainEvent, 'event' | 'metadata' | 'eventId'>;

/**
 * Feeds the read models from the store's global log and publishes each applied event on
 * `applied$` (what waiters listen to).
 *
 * Invariant: every event is applied exactly once, in position order, with no gaps. Events
 * reach the runner along several paths (the live subscription, catch-up reads after our own
 * appends and before queries); each path delivers a contiguous, ordered run of the log from
 * wherever it started, and an event at or below the checkpoint is skipped, so whichever
 * path delivers an event first applies it and the others drop it.
 */
export class ProjectionRunner {
  readonly models: ReadModels = createReadModels();
  private checkpoint: Position = START;
  private readonly applied = new Subject<RecordedDomainEvent>();
  /** events this instance is appending, by event id (see `announce`) */
  private readonly own = new Map<string, OwnEvent>();
  private subscription: Subscription | undefined;
  private failure: Error | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly store: EventStore) {}

  /** Events as they are applied to the read models (after the models changed). */
  get applied$(): Observable<RecordedDomainEvent> {
    return this.applied.asObservable();
  }

  get subscriberCount(): number {
    return this.applied.observers.length;
  }

  get position(): Position {
    return this.checkpoint;
  }

  /** Rebuilds the models from the whole log, then follows it live. */
  async start(): Promise<void> {
    await this.catchUp();
    this.follow();
  }

  /**
   * Subscribes to the log after the checkpoint. When the feed fails for good (the store
   * adapters already retry transient drops), it resubscribes from the checkpoint after a
   * pause, so waiters keep hearing other instances' writes once the store is back;
   * queries never depend on it (they catch up by reading).
   */
  private follow(): void {
    if (this.stopped) return;
    this.subscription = this.store
      .subscribeToAll({ fromPosition: this.checkpoint, streamPrefix: STREAM_PREFIX })
      .subscribe({
        next: (stored) => this.apply(stored),
        error: (error: Error) => {
          this.failure = error;
          this.retry = setTimeout(() => this.follow(), RESUBSCRIBE_AFTER_MS);
          this.retry.unref();
        },
      });
  }

  /**
   * Reads the log from the checkpoint and applies what is new. With `to`, returns as soon as
   * the checkpoint reaches it (usually at once: the live feed got there first).
   */
  async catchUp(to?: Position): Promise<void> {
    if (to !== undefined && this.checkpoint >= to) return;
    for await (const stored of this.store.readAll({
      fromPosition: this.checkpoint,
      streamPrefix: STREAM_PREFIX,
    })) {
      this.apply(stored);
      if (to !== undefined && this.checkpoint >= to) return;
    }
  }

  /** Why the live feed last failed, if it did (it is being re-established). */
  get liveFeedError(): Error | undefined {
    return this.failure;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.subscription?.unsubscribe();
    this.applied.complete();
  }

  /**
   * Announces events this instance is about to append, so that applying them skips decoding
   * what it already holds as domain events. Purely a shortcut: an announced event applied
   * through the store is the same fact, and an unannounced one is decoded. Returns the
   * function that forgets the announcement (after the append, whatever its outcome).
   */
  announce(events: readonly OwnEvent[]): () => void {
    for (const own of events) this.own.set(own.eventId, own);
    return () => {
      for (const own of events) this.own.delete(own.eventId);
    };
  }

  private apply(stored: StoredEvent): void {
    if (stored.position <= this.checkpoint) return;
    const own = this.own.get(stored.id);
    const recorded: RecordedDomainEvent = own
      ? { ...own, stream: stored.stream, revision: stored.revision, position: stored.position }
      : decodeEvent(stored);
    deepFreeze(recorded.event);
    applyToReadModels(this.models, recorded.event);
    this.checkpoint = recorded.position;
    this.applied.next(recorded);
  }
}
