import { NEVER, type Observable } from 'rxjs';
import { RegistryError } from '../../src/domain/errors.ts';
import type {
  AppendResult,
  EventStore,
  ExpectedRevision,
  NewEvent,
  ReadAllOptions,
  StoredEvent,
  StreamWrite,
  SubscribeOptions,
} from '../../src/store/port.ts';

/**
 * An EventStore that passes every call to `inner`, except for the faults a test arms:
 * - `failReads(n)`: the next n `readAll` calls fail `unavailable` (a transient outage);
 * - `loseReplies(n)`: the next n appends are stored, then fail as a lost reply would;
 * - `failAppends(n)`: the next n appends fail before storing anything;
 * - `beforeNextAppend(hook)`: runs `hook` (e.g. another instance's command) first;
 * - `liveFeed: false`: the live subscription never delivers, so the registry's read models
 *   advance only by reading (`readAll`), as on a store whose feed lags.
 * `closeInner: false` leaves `inner` open on close (a shared memory store).
 */
export class FaultyStore implements EventStore {
  readonly durabilityTier;
  private readsToFail = 0;
  private repliesToLose = 0;
  private appendsToFail = 0;
  private hook: (() => Promise<void>) | undefined;
  appendCalls = 0;

  constructor(
    private readonly inner: EventStore,
    private readonly options: { liveFeed?: boolean; closeInner?: boolean } = {},
  ) {
    this.durabilityTier = inner.durabilityTier;
  }

  failReads(n: number): void {
    this.readsToFail = n;
  }
  loseReplies(n: number): void {
    this.repliesToLose = n;
  }
  failAppends(n: number): void {
    this.appendsToFail = n;
  }
  beforeNextAppend(hook: () => Promise<void>): void {
    this.hook = hook;
  }

  appendToStream(
    stream: string,
    events: readonly NewEvent[],
    options: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    return this.faulty(() => this.inner.appendToStream(stream, events, options));
  }

  appendToStreams(writes: readonly StreamWrite[]): Promise<AppendResult[]> {
    return this.faulty(() => this.inner.appendToStreams(writes));
  }

  deleteStreams: EventStore['deleteStreams'] = (remove, record) =>
    this.faulty(async () => {
      if (!this.inner.deleteStreams) throw new Error('the inner store cannot delete streams');
      return this.inner.deleteStreams(remove, record);
    });

  readStream: EventStore['readStream'] = (...args) => this.inner.readStream(...args);
  streamRevision: EventStore['streamRevision'] = (...args) => this.inner.streamRevision(...args);

  async *readAll(options?: ReadAllOptions): AsyncIterable<StoredEvent> {
    if (this.readsToFail > 0) {
      this.readsToFail--;
      throw new RegistryError('unavailable', 'injected: the store is unreachable');
    }
    yield* this.inner.readAll(options);
  }

  subscribeToAll(options?: SubscribeOptions): Observable<StoredEvent> {
    return this.options.liveFeed === false ? NEVER : this.inner.subscribeToAll(options);
  }

  async close(): Promise<void> {
    if (this.options.closeInner !== false) await this.inner.close();
  }

  private async faulty<T>(append: () => Promise<T>): Promise<T> {
    this.appendCalls++;
    const hook = this.hook;
    this.hook = undefined;
    await hook?.();
    if (this.appendsToFail > 0) {
      this.appendsToFail--;
      throw new Error('injected: connection refused before the write');
    }
    const result = await append();
    if (this.repliesToLose > 0) {
      this.repliesToLose--;
      throw new Error('injected: connection reset after the write (the reply was lost)');
    }
    return result;
  }
}
