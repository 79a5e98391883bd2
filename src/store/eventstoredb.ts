/*
 * Over 300 lines: the EventStoreDB adapter in one class, mapping each port operation onto
 * @eventstore/db-client (appends, reads, the $all feed, channel tracking, soft deletes and
 * the revisions of re-created streams); errors, positions, the subscription, the journal
 * and the pruned-incarnation maps are in eventstoredb-*.ts.
 */
import {
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  BACKWARDS,
  END,
  START as ESDB_START,
  type EventData,
  EventStoreDBClient,
  FORWARDS,
  type JSONType,
  jsonEvent,
  type ResolvedEvent,
  type StreamingRead,
  StreamNotFoundError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { concatMap, defer, EMPTY, from, type Observable, of, switchMap, throwError } from 'rxjs';
import { RegistryError } from '../domain/errors.ts';
import type { Json } from '../domain/json.ts';
import { RETENTION_STREAM, readRetentionEvent } from '../domain/retention.ts';
import { describeHosts, isTransient, unavailable } from './eventstoredb-errors.ts';
import {
  baseFromTruncateBefore,
  incarnationBase,
  PrunedStreams,
  type StreamBase,
  StreamBases,
} from './eventstoredb-incarnations.ts';
import { StreamJournal } from './eventstoredb-journal.ts';
import {
  decodePosition,
  encodePosition,
  isKnownPosition,
  type LogPosition,
  toRevision,
} from './eventstoredb-position.ts';
import {
  isSystemEvent,
  type ResubscribePolicy,
  resilientAllSubscription,
} from './eventstoredb-subscription.ts';
import {
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type Position,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RefusalJournal,
  START,
  type StoredEvent,
  type StreamRemoval,
  type StreamRevision,
  type StreamWrite,
  type SubscribeOptions,
  WrongExpectedRevisionError,
} from './port.ts';
import { revisionMatches } from './shared.ts';

export interface EventStoreDbOptions {
  /**
   * Upper bound for one append or one read page. The client puts no deadline on streaming
   * calls (reads, batch appends), so without this a half-open connection could hang a caller.
   */
  operationTimeoutMs?: number;
  /** keep the journal of refused commands (default true; `journal=off` in a URL) */
  journal?: boolean;
  /** how `subscribeToAll` resubscribes after a dropped connection */
  resubscribe?: Partial<ResubscribePolicy>;
  /** events per `$all` read page */
  pageSize?: number;
}

/** tries of a call that fails transiently: 1 + 3 retries, 50/100/200 ms apart */
const TRANSIENT_ATTEMPTS = 4;

const defaults = {
  operationTimeoutMs: 30_000,
  pageSize: 512,
  resubscribe: { maxAttempts: 10, initialDelayMs: 100, maxDelayMs: 5_000 },
};

/**
 * Opens the EventStoreDB / KurrentDB adapter (`@eventstore/db-client` 6.x, gRPC) on any
 * connection string the client accepts (`esdb://host:2113?tls=false`, `esdb+discover://…`,
 * TLS options) and checks the server answers before returning.
 *
 * Requires a server newer than 22.6.0 (22.10 LTS or later): older ones do not report
 * `$all` positions on stream reads, which the port needs. Unlike memory and SQLite,
 * `appendToStreams` is not atomic across streams (stream by stream, stopping at the first
 * failure), and `readAll`'s stream prefix is applied client-side (client 6.x cannot filter
 * `$all` reads on the server; subscriptions are filtered server-side).
 */
export const openEventStoreDbStore = async (
  connectionString: string,
  options: EventStoreDbOptions = {},
): Promise<EventStore> => {
  const host = describeHosts(connectionString);
  let client: EventStoreDBClient;
  try {
    client = EventStoreDBClient.connectionString(connectionString);
  } catch (error) {
    throw new RegistryError(
      'invalid',
      `invalid EventStoreDB connection string for ${host} (${error instanceof Error ? error.message : String(error)}); expected e.g. esdb://localhost:2113?tls=false`,
      { cause: error },
    );
  }
  const store = new EventStoreDbStore(client, host, options);
  try {
    await store.probe();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
};

class EventStoreDbStore implements EventStore {
  readonly durabilityTier = 'durable' as const;
  get source(): string {
    return `esdb://${this.host}`;
  }
  readonly journal: RefusalJournal | undefined;
  private readonly timeoutMs: number;
  private readonly pageSize: number;
  private readonly policy: ResubscribePolicy;
  private readonly closers = new Set<() => void>();
  private readonly closeChannels: () => void;
  /** where each stream's current incarnation starts (see eventstoredb-incarnations.ts) */
  private readonly bases = new StreamBases();
  /** `$all` side: where each incarnation of a pruned stream starts (its `$tb` values) */
  private readonly starts = new Map<string, number[]>();
  /** `$all` side: the prune records, shared by every reader of this store */
  private readonly pruned = new PrunedStreams((stream) => this.starts.delete(stream));
  /** the retention stream's revisions read into `pruned` by refreshes: 0..prunedRevision */
  private prunedRevision = -1;
  private closed = false;

  constructor(
    private readonly client: EventStoreDBClient,
    private readonly host: string,
    options: EventStoreDbOptions,
  ) {
    this.timeoutMs = options.operationTimeoutMs ?? defaults.operationTimeoutMs;
    this.pageSize = Math.max(2, options.pageSize ?? defaults.pageSize);
    this.policy = { ...defaults.resubscribe, ...options.resubscribe };
    this.closeChannels = trackChannels(client);
    this.journal =
      options.journal === false
        ? undefined
        : new StreamJournal(this, {
            deleteStream: (stream) =>
              this.retrying(() => this.client.deleteStream(stream)).then(() => {
                this.bases.set(stream, 'deleted');
              }),
            setMaxCount: (stream, maxCount) =>
              this.retrying(() => this.client.setStreamMetadata(stream, { maxCount })).then(
                () => {},
              ),
          });
  }

  /** One cheap round trip, so that a wrong host or a down server fails at open. */
  async probe(): Promise<void> {
    try {
      // no retries here: a wrong host should fail at open, quickly
      await this.collect(
        () => this.client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 1 }),
        'connecting',
        { retry: false },
      );
    } catch (error) {
      throw unavailable(this.host, 'connecting', error);
    }
  }

  async appendToStream(
    stream: string,
    events: readonly NewEvent[],
    options: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    this.ensureOpen();
    if (events.length === 0) return this.appendNothing(stream, options.expectedRevision);
    const doing = `appending to ${stream}`;
    const expected = options.expectedRevision;
    const knownDeleted = this.bases.get(stream) === 'deleted';
    // procreg's revisions count from the current incarnation's start, ESDB's from the first
    // event the stream ever had; "no_stream" needs no base (ESDB accepts it on a
    // soft-deleted stream, which then continues at its old revisions)
    const before: StreamBase | undefined =
      expected === 'no_stream' || (typeof expected === 'number' && expected < 0)
        ? undefined
        : await this.baseOf(stream);
    if (before === 'deleted' && typeof expected === 'number') {
      throw new WrongExpectedRevisionError(stream, expected, -1);
    }
    let result: Awaited<ReturnType<EventStoreDBClient['appendToStream']>>;
    try {
      // Event ids pass through: a retry after a lost reply carries the same ids and the
      // server answers it from its idempotency check instead of writing twice.
      result = await this.retrying(() =>
        this.withTimeout(
          this.client.appendToStream(stream, events.map(toEventData), {
            expectedRevision: toExpected(expected, typeof before === 'number' ? before : 0),
          }),
          doing,
        ),
      );
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        const actual = error.actualVersion;
        // our base may be stale (another instance pruned and re-created the stream)
        this.bases.forget(stream);
        const base = typeof actual === 'bigint' ? await this.baseOf(stream) : 'deleted';
        throw new WrongExpectedRevisionError(
          stream,
          expected,
          typeof actual === 'bigint' && base !== 'deleted' ? toRevision(actual) - base : -1,
        );
      }
      throw unavailable(this.host, doing, error);
    }
    const last = toRevision(result.nextExpectedRevision);
    // a new incarnation starts at the first event written: "no_stream" (also an exact retry
    // of one) or "any" on a soft-deleted stream
    const base = typeof before === 'number' ? before : last - (events.length - 1);
    this.bases.set(stream, base);
    const nextRevision = last - base;
    // A one-event append reports that event's position. For several events servers differ
    // (first vs last), and an idempotent replay reports none, so read the last one back.
    // (and after writing to a stream this adapter soft-deleted, read back: see below)
    const position =
      events.length === 1 && isKnownPosition(result.position) && !knownDeleted
        ? encodePosition(result.position)
        : await this.positionOf(stream, nextRevision).catch(async (error: unknown) => {
            throw (await this.stillDeleted(stream)) ? heldAfterDelete(stream) : error;
          });
    return { nextRevision, position };
  }

  async appendToStreams(writes: readonly StreamWrite[]): Promise<AppendResult[]> {
    const results: AppendResult[] = [];
    for (const write of writes) {
      results.push(
        await this.appendToStream(write.stream, write.events, {
          expectedRevision: write.expectedRevision,
        }),
      );
    }
    return results;
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    this.ensureOpen();
    if (options.maxCount === 0) return [];
    const backwards = options.direction === 'backwards';
    const fromStart = !backwards && (options.fromRevision ?? 0) === 0;
    // a read from the start needs no base: it is the first event's revision (checked below)
    const known: StreamBase = fromStart ? 0 : await this.baseOf(stream);
    if (known === 'deleted') return [];
    const fromRevision =
      options.fromRevision === undefined
        ? backwards
          ? END
          : ESDB_START
        : BigInt(known + options.fromRevision);
    try {
      const resolved = await this.collect(
        () =>
          this.client.readStream(stream, {
            fromRevision,
            direction: backwards ? BACKWARDS : FORWARDS,
            ...(options.maxCount === undefined ? {} : { maxCount: options.maxCount }),
          }),
        `reading ${stream}`,
      );
      const events = resolved.flatMap((r) => (r.event ? [this.toStored(r.event)] : []));
      const base = fromStart ? await this.startOf(stream, events[0]) : known;
      if (base === 'deleted') return [];
      return base === 0 ? events : events.map((e) => ({ ...e, revision: e.revision - base }));
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw unavailable(this.host, `reading ${stream}`, error);
    }
  }

  /**
   * The base of a stream read from its start, whose first event is `first`: 0 when that is
   * revision 0; else the stream's `$tb` (a re-created stream starts there; the metadata
   * tells a truncation of another kind apart, which procreg never sets on its streams).
   */
  private async startOf(stream: string, first: StoredEvent | undefined): Promise<StreamBase> {
    if (!first) return 0;
    if (first.revision === 0) {
      this.bases.set(stream, 0);
      return 0;
    }
    if (this.bases.get(stream) === first.revision) return first.revision;
    this.bases.forget(stream);
    return this.baseOf(stream);
  }

  /**
   * After an acknowledged append that reads back nothing: is the stream still
   * soft-deleted? The server's idempotency check sees the deleted events, so appending
   * their ids again (restoring an archive) "succeeds" without writing.
   */
  private async stillDeleted(stream: string): Promise<boolean> {
    this.bases.forget(stream);
    return (await this.baseOf(stream)) === 'deleted';
  }

  /** Where the stream's current incarnation starts: remembered, else from its metadata. */
  private async baseOf(stream: string): Promise<StreamBase> {
    const known = this.bases.get(stream);
    if (known !== undefined) return known;
    const doing = `reading the metadata of ${stream}`;
    const { metadata } = await this.retrying(() =>
      this.withTimeout(this.client.getStreamMetadata(stream), doing),
    ).catch((error: unknown) => {
      throw unavailable(this.host, doing, error);
    });
    const base = baseFromTruncateBefore(metadata?.truncateBefore);
    this.bases.set(stream, base);
    return base;
  }

  /**
   * Brings the prune records up to date (those after the last one known), so that a `$all`
   * reader starting now hides what any of them took, even one after its start position.
   */
  private async refreshPruned(): Promise<void> {
    const newer = await this.readStream(RETENTION_STREAM, {
      fromRevision: this.prunedRevision + 1,
    });
    for (const stored of newer) {
      this.pruned.add(readRetentionEvent(stored));
      this.prunedRevision = stored.revision;
    }
  }

  /** A `$all` event as procreg sees it: undefined when a prune took it. */
  private fromAll(event: StoredEvent): StoredEvent | undefined | Promise<StoredEvent> {
    const kind = this.pruned.classify(event);
    if (kind === 'hidden') return undefined;
    if (kind === 'as-is') return event;
    return this.rebased(event);
  }

  private async rebased(event: StoredEvent): Promise<StoredEvent> {
    let starts = this.starts.get(event.stream);
    if (!starts) {
      starts = await this.truncations(event.stream);
      this.starts.set(event.stream, starts);
    }
    const base = incarnationBase(starts, event.revision);
    return base === 0 ? event : { ...event, revision: event.revision - base };
  }

  /** Every `$tb` below DeletedStream the stream's metadata has held, in order. */
  private async truncations(stream: string): Promise<number[]> {
    const doing = `reading the metadata history of ${stream}`;
    try {
      const history = await this.collect(
        () =>
          this.client.readStream(`$$${stream}`, { fromRevision: ESDB_START, direction: FORWARDS }),
        doing,
      );
      return history.flatMap(({ event }) => {
        const data = event?.isJson ? (event.data as { $tb?: unknown } | null) : null;
        const base = baseFromTruncateBefore(data?.$tb);
        return typeof base === 'number' && base > 0 ? [base] : [];
      });
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw unavailable(this.host, doing, error);
    }
  }

  async streamRevision(stream: string): Promise<StreamRevision> {
    const [last] = await this.readStream(stream, { direction: 'backwards', maxCount: 1 });
    return last ? last.revision : -1;
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<StoredEvent> {
    this.ensureOpen();
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    // the records are read beside the first page (one round trip, not two)
    let refreshing: Promise<void> | undefined = this.refreshPruned();
    refreshing.catch(() => {});
    // `after` is exclusive (the port); ESDB reads `$all` from a position inclusively, so
    // every page after the first starts with the event the previous one ended on.
    let after = options.fromPosition ?? START;
    while (remaining > 0) {
      this.ensureOpen();
      const page = await this.collect(
        () =>
          this.client.readAll({
            fromPosition: after === START ? ESDB_START : decodePosition(after),
            direction: FORWARDS,
            maxCount: this.pageSize,
          }),
        'reading $all',
      ).catch((error: unknown) => {
        throw unavailable(this.host, 'reading $all', error);
      });
      if (refreshing) await refreshing;
      refreshing = undefined;
      for (const { event } of page) {
        if (!event) continue;
        const position = encodePosition(event.position);
        if (position <= after) continue;
        after = position;
        if (isSystemEvent(event)) continue;
        // every event goes by the index, so a prune record read on the way applies
        const stored = await this.fromAll(this.toStored(event));
        if (!stored) continue;
        if (options.streamPrefix !== undefined && !stored.stream.startsWith(options.streamPrefix)) {
          continue;
        }
        yield stored;
        remaining -= 1;
        if (remaining <= 0) return;
      }
      if (page.length < this.pageSize) return;
    }
  }

  subscribeToAll(options: SubscribeOptions = {}): Observable<StoredEvent> {
    if (this.closed) return throwError(() => this.closedError());
    // the prunes recorded so far, then each one the feed delivers (a feed filtered to a
    // prefix that excludes the retention stream learns of none after it starts)
    return defer(() => this.refreshPruned()).pipe(
      switchMap(() =>
        resilientAllSubscription({
          client: this.client,
          host: this.host,
          policy: this.policy,
          fromPosition: options.fromPosition ?? START,
          ...(options.streamPrefix === undefined ? {} : { streamPrefix: options.streamPrefix }),
          toStored: (event) => this.toStored(event),
          onClose: (complete) => {
            this.closers.add(complete);
            return () => this.closers.delete(complete);
          },
        }).pipe(
          // in order, one at a time: a record applies before the events after it
          concatMap((event) => {
            const mapped = this.fromAll(event);
            return mapped instanceof Promise ? from(mapped) : mapped ? of(mapped) : EMPTY;
          }),
        ),
      ),
    );
  }

  /**
   * Soft deletes (`deleteStream`): ESDB keeps the events in `$all` and continues the
   * revisions of a stream written again; `readAll`, `subscribeToAll` and the stream reads
   * hide both (see eventstoredb-incarnations.ts), from the record this writes first. No
   * tombstones: a tombstoned stream can never be written again, and a pruned id may be
   * registered again. Not atomic (ESDB has no multi-stream transactions): every stream's
   * last revision is checked first (nothing written on a mismatch), then the record is
   * appended, then the streams are deleted one by one, each expecting the revision checked;
   * an interruption leaves streams the record names, which a later call removes.
   */
  async deleteStreams(
    remove: readonly StreamRemoval[],
    record?: StreamWrite,
  ): Promise<AppendResult | undefined> {
    this.ensureOpen();
    const expected: { stream: string; revision: bigint }[] = [];
    for (const { stream, lastRevision } of remove) {
      this.bases.forget(stream);
      const [last] = await this.readStream(stream, { direction: 'backwards', maxCount: 1 });
      const base = this.bases.get(stream);
      if (!last || last.revision !== lastRevision || typeof base !== 'number') {
        throw new WrongExpectedRevisionError(stream, lastRevision, last?.revision ?? -1);
      }
      expected.push({ stream, revision: BigInt(base + lastRevision) });
    }
    const result = record
      ? await this.appendToStream(record.stream, record.events, {
          expectedRevision: record.expectedRevision,
        })
      : undefined;
    const changed: string[] = [];
    for (const { stream, revision } of expected) {
      const doing = `deleting ${stream}`;
      try {
        await this.retrying(() =>
          this.withTimeout(this.client.deleteStream(stream, { expectedRevision: revision }), doing),
        );
        this.bases.set(stream, 'deleted');
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError))
          throw unavailable(this.host, doing, error);
        changed.push(stream);
      }
    }
    if (changed.length > 0) {
      throw new RegistryError(
        'conflict',
        `${changed.join(', ')} changed after the prune checked them and were not removed (the prune record names them; their later events stay); every other stream was removed`,
      );
    }
    return result;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const complete of [...this.closers]) complete();
    this.closers.clear();
    await this.client.dispose();
    this.closeChannels();
  }

  /**
   * Nothing to write, only the expected revision to check, which a read does as well (the
   * client reports a wrong revision for an empty append to a stream that does not exist).
   */
  private async appendNothing(stream: string, expected: ExpectedRevision): Promise<AppendResult> {
    const [last] = await this.readStream(stream, { direction: 'backwards', maxCount: 1 });
    const actual = last ? last.revision : -1;
    if (!revisionMatches(expected, actual)) {
      throw new WrongExpectedRevisionError(stream, expected, actual);
    }
    return { nextRevision: actual, position: last ? last.position : START };
  }

  private async positionOf(stream: string, revision: StreamRevision): Promise<Position> {
    if (revision < 0) return START;
    const [event] = await this.readStream(stream, {
      fromRevision: revision,
      direction: 'backwards',
      maxCount: 1,
    });
    if (!event || event.revision !== revision) {
      throw new RegistryError(
        'unavailable',
        `EventStoreDB at ${this.host} acknowledged ${stream}@${revision} but does not return it; retry the append`,
      );
    }
    return event.position;
  }

  private toStored(event: RecordedEvent): StoredEvent {
    const position: LogPosition | undefined = event.position;
    if (!isKnownPosition(position)) {
      throw new RegistryError(
        'unavailable',
        `EventStoreDB at ${this.host} does not report the $all position of ${event.streamId}@${event.revision}; the registry needs EventStoreDB 22.10 or later, and events not written in explicit transactions`,
      );
    }
    if (!event.isJson || event.metadata instanceof Uint8Array) {
      throw new RegistryError(
        'unavailable',
        `event ${event.id} in ${event.streamId} is not JSON; the registry only reads events it wrote`,
      );
    }
    return {
      id: event.id,
      stream: event.streamId,
      revision: toRevision(event.revision),
      position: encodePosition(position),
      type: event.type,
      // JSON.parse output, so JSON by construction
      data: event.data as Json,
      metadata: (event.metadata ?? null) as Json,
    };
  }

  /**
   * Drains a read, bounded by the operation timeout (a timed-out read is cancelled), and
   * opens it again after a transient failure (see `retrying`).
   */
  private collect<T>(
    open: () => StreamingRead<T>,
    doing: string,
    { retry = true }: { retry?: boolean } = {},
  ): Promise<T[]> {
    const once = () => {
      const read = open();
      const drained = (async () => {
        const items: T[] = [];
        for await (const item of read) items.push(item as T);
        return items;
      })();
      return this.withTimeout(drained, doing, () => {
        read.cancel().catch(() => {});
      });
    };
    return retry ? this.retrying(once) : once();
  }

  /**
   * Runs a call again after errors a reconnect can cure (a dropped connection, a restarting
   * node), a few times with backoff. Safe for appends: the retry carries the same event
   * ids, so a write whose reply was lost is answered by the server's idempotency check.
   * Timeouts are not retried (they already waited), nor is anything after close.
   */
  private async retrying<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        const retry =
          attempt < TRANSIENT_ATTEMPTS &&
          !this.closed &&
          !(error instanceof WrongExpectedVersionError) &&
          isTransient(error);
        if (!retry) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** (attempt - 1)));
      }
    }
  }

  private withTimeout<T>(work: Promise<T>, doing: string, onTimeout?: () => void): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout?.();
        reject(
          new RegistryError(
            'unavailable',
            `EventStoreDB at ${this.host} did not answer within ${this.timeoutMs} ms while ${doing}; check the server and the network, then retry`,
          ),
        );
      }, this.timeoutMs);
    });
    // the loser of the race must not surface as an unhandled rejection
    work.catch(() => {});
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }

  private ensureOpen(): void {
    if (this.closed) throw this.closedError();
  }

  private closedError(): RegistryError {
    return new RegistryError('unavailable', `the EventStoreDB store for ${this.host} is closed`);
  }
}

/**
 * `dispose()` cancels the client's calls but leaves its gRPC channel (an idle HTTP/2
 * connection) open, and client 6.x has no public way to close it. So we note each channel
 * the client creates, through its `createChannel` (private in the typings, an own property
 * at runtime), and close them on `close()`. Should a client version lack it, we close
 * nothing rather than fail.
 */
const trackChannels = (client: EventStoreDBClient): (() => void) => {
  const internals = client as unknown as {
    createChannel?: () => Promise<{ close(): void }>;
  };
  const create = internals.createChannel;
  if (typeof create !== 'function') return () => {};
  const channels = new Set<{ close(): void }>();
  internals.createChannel = async () => {
    const channel = await create();
    channels.add(channel);
    return channel;
  };
  return () => {
    for (const channel of channels) channel.close();
    channels.clear();
  };
};

type RecordedEvent = NonNullable<ResolvedEvent['event'] | AllStreamResolvedEvent['event']>;

const heldAfterDelete = (stream: string): RegistryError =>
  new RegistryError(
    'conflict',
    `EventStoreDB still holds these events (the same ids) in the soft-deleted ${stream}, so it takes them as written already and the stream stays deleted: nothing was written. Restore a pruned process into the store it was pruned from after a scavenge, or import its archive into another store`,
  );

/** `base`: the ESDB revision of the stream's current incarnation's first event. */
const toExpected = (expected: ExpectedRevision, base: number): AppendExpectedRevision =>
  expected === 'any' || expected === 'no_stream'
    ? expected
    : expected < 0
      ? 'no_stream'
      : BigInt(base + expected);

/**
 * Data and metadata go as JSON. Metadata is sent as the bytes of its JSON text, so that
 * every JSON value (also `null`, `0`, `false`, which the client would drop) reads back as
 * itself: the client JSON-parses custom metadata on read.
 */
const toEventData = (event: NewEvent): EventData =>
  jsonEvent({
    id: event.id,
    type: event.type,
    // the client JSON.stringify()s data; every Json value (also numbers, null) survives that
    data: event.data as JSONType,
    metadata: new TextEncoder().encode(event.text?.metadata ?? JSON.stringify(event.metadata)),
  });
