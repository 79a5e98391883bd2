import type { Observable } from 'rxjs';
import type { LogDigest } from '../domain/integrity.ts';
import type { RefusedCommand } from '../domain/refusal.ts';
import type {
  NewEvent,
  Position,
  StoredEvent,
  StoredEventText,
  StreamRevision,
} from '../domain/stored-event.ts';
import type { InlineModels, InlineProjection, VersionedTables } from './read-model-tables.ts';

export type * from '../domain/stored-event.ts';

/**
 * The event-store port. Modelled on EventStoreDB's semantics so that every adapter
 * (memory, SQLite, EventStoreDB) means the same thing; one contract suite
 * (test/support/store-contract.ts) runs against each of them.
 *
 * Invariants every adapter keeps:
 * - a stream's events have revisions 0, 1, 2 ... with no gaps;
 * - every event has a global `position`, unique and strictly increasing in the order the
 *   global log (`readAll`, `subscribeToAll`) delivers events;
 * - an append is atomic: all of its events are stored, or none;
 * - an append whose expected revision does not match the stream's current revision stores
 *   nothing and throws `WrongExpectedRevisionError`;
 * - re-appending the same event ids with the same expected revision (a retry after a lost
 *   reply) stores nothing new and returns the first append's result;
 * - failures to reach or use the store throw `RegistryError` with code `unavailable`. Such an
 *   append may still have been stored (a lost reply, an I/O error during commit): retrying
 *   with the same event ids and expected revision is the safe response;
 * - event ids are unique across the store; an adapter may reject reusing one anywhere but
 *   in an exact retry (SQLite does, with `conflict`).
 */

/** Start of the global log: before the first event. */
export const START: Position = 0n;

export type ExpectedRevision =
  /** the stream must have no events */
  | 'no_stream'
  /** no check */
  | 'any'
  /** the stream's last event must have this revision */
  | StreamRevision;

export interface AppendResult {
  /** revision of the last event now in the stream */
  nextRevision: StreamRevision;
  /** position of the last appended event */
  position: Position;
}

export interface StreamWrite {
  stream: string;
  events: readonly NewEvent[];
  expectedRevision: ExpectedRevision;
}

export interface ReadStreamOptions {
  /** first revision to return (inclusive); default 0 */
  fromRevision?: StreamRevision;
  maxCount?: number;
  direction?: 'forwards' | 'backwards';
}

export interface ReadAllOptions {
  /** return events strictly after this position; default START */
  fromPosition?: Position;
  /** only streams whose name starts with this prefix */
  streamPrefix?: string;
  maxCount?: number;
}

export interface SubscribeOptions {
  /** deliver events strictly after this position (catch-up), then live */
  fromPosition?: Position;
  streamPrefix?: string;
}

/** A stream to remove whole, as long as its last event is still at `lastRevision`. */
export interface StreamRemoval {
  stream: string;
  lastRevision: StreamRevision;
}

export class WrongExpectedRevisionError extends Error {
  override readonly name = 'WrongExpectedRevisionError';
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    readonly actual: StreamRevision,
  ) {
    super(`stream ${stream}: expected revision ${String(expected)}, actual ${actual}`);
  }
}

export type DurabilityTier = 'inline' | 'durable';

/**
 * The journal of refused commands, kept beside the log and never in it: writing it changes
 * no stream, revision, position or read-model row (SQLite and PostgreSQL: a table of its
 * own; EventStoreDB: a `refused-<processId>` stream outside the `process-` prefix the
 * projections read; memory: a map). Bounded: each process keeps its latest
 * JOURNAL_KEEP_PER_PROCESS refusals, and `drop` forgets a process's (retention).
 */
export interface RefusalJournal {
  /** Appends the refusals, each after the ones already journaled for its process. */
  record(entries: readonly RefusedCommand[]): Promise<void>;
  /** The process's retained refusals, oldest first. */
  read(processId: string): Promise<RefusedCommand[]>;
  /** Forgets every refusal of these processes (when their streams are removed). */
  drop(processIds: readonly string[]): Promise<void>;
}

/** The digests a store keeps per position (see `EventStore.logDigests`). */
export interface LogDigests {
  /** The digest of the log up to its last process event (brought up to the log first). */
  current(): Promise<LogDigest>;
  /** The digests recorded for positions in (after, upTo], ascending. */
  between(after: Position, upTo: Position): Promise<{ position: Position; digest: string }[]>;
}

export interface EventStore {
  readonly durabilityTier: DurabilityTier;

  /**
   * Read models kept by the store itself, committed with the events (memory, SQLite).
   * Absent (EventStoreDB): the registry projects the store's feed into tables of its own.
   */
  readonly models?: InlineModels;

  /**
   * Versioned read models the store keeps in its own tables, committed with the events, for
   * the registry's `asOf` (PostgreSQL: the registry's live models are elsewhere, but the
   * past is read from the server's version tables). Stores with inline models expose theirs
   * as `models.tables.versions` instead.
   */
  readonly versions?: VersionedTables;

  /** The journal of refused commands; absent when it is off (`journal=off`). */
  readonly journal?: RefusalJournal;

  /**
   * The log digest after every process event, kept by the store itself in each append's
   * transaction (PostgreSQL, whose registry's own tables are folded from the log at open and
   * so are no evidence). Stores with inline models keep it in `models.tables.digests`.
   */
  readonly logDigests?: LogDigests;

  /** What this log is (`esdb://host:port`), for a read-models file to check it follows it. */
  readonly source?: string;

  /**
   * For a store that keeps read-model tables of its own, changed in each append's
   * transaction, but answers no queries from them (PostgreSQL: its tables are a server
   * away, and the tables' read interface is synchronous): the registry hands over its
   * projection once, before its first append.
   */
  attachProjection?(projection: InlineProjection): void;

  appendToStream(
    stream: string,
    events: readonly NewEvent[],
    options: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult>;

  /**
   * Appends to several streams in one step; each stream appears at most once per call. Memory and SQLite apply all writes or none;
   * EventStoreDB (no multi-stream transactions in client 6.x) appends stream by stream in
   * the given order and stops at the first failure.
   */
  appendToStreams(writes: readonly StreamWrite[]): Promise<AppendResult[]>;

  /** Events of one stream; an unknown stream reads as empty. */
  readStream(stream: string, options?: ReadStreamOptions): Promise<StoredEvent[]>;

  /** Revision of the stream's last event, -1 when it has none. */
  streamRevision(stream: string): Promise<StreamRevision>;

  /** The global log in position order, paged internally. */
  readAll(options?: ReadAllOptions): AsyncIterable<StoredEvent>;

  /**
   * The same log as `readAll`, a page at a time, each event's JSON as the stored text
   * (unparsed). Present where the store keeps text (SQLite, PostgreSQL): verifying hashes
   * reads it this way.
   */
  readAllText?(options?: ReadAllOptions): AsyncIterable<readonly StoredEventText[]>;

  /**
   * Catch-up then live. Every event after `fromPosition` is delivered exactly once, in
   * position order, including events appended while catching up. The observable errors
   * with `RegistryError` (`unavailable`) only when it cannot recover; adapters resubscribe
   * from the last delivered position after transient failures.
   */
  subscribeToAll(options?: SubscribeOptions): Observable<StoredEvent>;

  /**
   * Retention: removes every event of each stream in `remove` and appends `record` (the
   * reason, on a stream of its own), so the record's position is after every removed event.
   * A stream whose last revision is no longer `lastRevision` (someone appended since the
   * caller archived it) throws `WrongExpectedRevisionError`. Memory, SQLite and PostgreSQL
   * do all of it or nothing, the models' rows included. EventStoreDB cannot: it checks
   * every stream, appends the record, then deletes stream by stream; an interruption leaves
   * streams the record names, which a call without `record` removes later (the caller finds
   * them from the record, see registry/prune.ts). `record` is the prune's
   * `ProcessesPruned` event naming the streams: EventStoreDB hides their events from `$all`
   * by it. A removed stream reads as empty, is gone from `readAll`/`subscribeToAll`, and may
   * be written again from revision 0.
   */
  deleteStreams?(
    remove: readonly StreamRemoval[],
    record?: StreamWrite,
  ): Promise<AppendResult | undefined>;

  close(): Promise<void>;
}
