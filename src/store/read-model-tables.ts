import type { LogDigest } from '../domain/integrity.ts';
import type { Json } from '../domain/json.ts';
import type { ProcessQuery } from '../domain/process-list.ts';
import type {
  ProcessEvent,
  ProcessHandleGrant,
  ProcessLease,
  ProcessRecord,
} from '../domain/schemas.ts';
import type { Position, StoredEvent } from './port.ts';

/**
 * The read-model storage port: the tables every read model lives in, whatever keeps them
 * (maps in memory, tables in the SQLite file next to the events). Every row belongs to
 * exactly one process, so the row changes an event causes depend only on that process's
 * rows, never on another's.
 *
 * Reads are synchronous: both implementations answer from memory or from a local file, and
 * a query that reads several tables sees one state (nothing is applied between them).
 * Values handed out are frozen, and callers must not keep references they expect to change.
 */
export interface ReadModelReader {
  process(processId: string): ProcessRecord | undefined;
  /** every process record (or only the running ones), by processId in code-unit order */
  processes(which: 'all' | 'running'): ProcessRecord[];
  /**
   * Up to `query.limit` records matching the filter, after `query.after`, in list order
   * (createdAtMs, then id by code point: see domain/process-list.ts).
   */
  listProcesses(query: ProcessQuery): ProcessRecord[];
  /**
   * Up to `limit` processes whose record changed (a put or a touch) after `after`, each once,
   * at its latest state, ascending by the position of its last change.
   */
  changedSince(after: Position, limit: number): { position: Position; record: ProcessRecord }[];
  grantsOfScope(scopeId: string): ProcessHandleGrant[];
  grantsOfProcess(processId: string): ProcessHandleGrant[];
  hasGrant(scopeId: string, processId: string): boolean;
  /** ids of the processes with a grant to any scope of the session */
  processesOfSession(sessionId: string): string[];
  lease(processId: string): ProcessLease | undefined;
  /** every stored lease (possibly expired), by process id */
  leases(): ProcessLease[];
  /** sequences after `afterSequence` whose wake is not acked, ascending */
  unackedWakes(processId: string, afterSequence: number): number[];
  /** process events after `afterSequence`, ascending; `sequences` picks some instead */
  eventsAfter(processId: string, afterSequence: number): ProcessEvent[];
  eventsAt(processId: string, sequences: readonly number[]): ProcessEvent[];
  /** the last `limit` process events, ascending; an index range, never the whole stream */
  recentEvents(processId: string, limit: number): ProcessEvent[];
  /**
   * How many process events (of `eventType` only, when given) have a sequence up to
   * `upToSequence`: an index lookup, whatever the stream's length or the count.
   */
  countEvents(processId: string, eventType: string | undefined, upToSequence: number): number;
  /** the event a replay key first stored, and the hash it was stored under */
  replay(processId: string, key: string): { sequence: number; payloadHash: string } | undefined;
  /** position of the last event applied to these tables */
  checkpoint(): Position;
}

/** One change to one row. `event` rows point at the stored event that carries them. */
export type RowChange =
  /** registered, status or external ref changed: a new version of the record */
  | { table: 'processes'; put: ProcessRecord }
  /** a process event that only moves the record's `updatedAtMs` */
  | { table: 'processes'; touch: { processId: string; updatedAtMs: number } }
  | { table: 'grants'; put: ProcessHandleGrant }
  | { table: 'grants'; delete: { scopeId: string; processId: string } }
  | { table: 'leases'; put: ProcessLease }
  | { table: 'leases'; delete: { processId: string } }
  | { table: 'wakes'; put: { processId: string; sequence: number } }
  | { table: 'wakes'; delete: { processId: string; sequence: number } }
  | { table: 'events'; put: { event: ProcessEvent; position: Position } }
  | {
      table: 'replays';
      put: { processId: string; key: string; sequence: number; payloadHash: string };
    }
  /** retention: every row of the process, in every table, its versions and snapshot too */
  | { table: 'all'; purge: { processId: string } };

/** A value now, or (from a server's tables) later. */
export type Awaitable<T> = T | Promise<T>;

/**
 * The global views: the live tables answer them synchronously (a `ReadModelReader` is
 * one), versioned tables of the past by index, on PostgreSQL with promises (a server
 * round trip). A reader of the past is immutable: the log up to its point never changes.
 */
export interface GlobalReader {
  process(processId: string): Awaitable<ProcessRecord | undefined>;
  /** every process record (or only the running ones), by processId in code-unit order */
  processes(which: 'all' | 'running'): Awaitable<ProcessRecord[]>;
  /** a page of the records matching `query.filter`, in list order (domain/process-list.ts) */
  listProcesses(query: ProcessQuery): Awaitable<ProcessRecord[]>;
  grantsOfScope(scopeId: string): Awaitable<ProcessHandleGrant[]>;
  /** every stored lease (possibly expired), by process id */
  leases(): Awaitable<ProcessLease[]>;
}

/**
 * Every version of the process records, grants and leases, with the log range in which it
 * held (see sqlite-versions.ts, memory-versions.ts, postgres-versions.ts).
 */
export interface VersionedTables {
  /** The tables as they were after the event at `position`. */
  at(position: Position): GlobalReader;
  /** End of the longest log prefix recorded at or before `timeMs` (undefined: all of it). */
  prefixAt(timeMs: number): Awaitable<Position | undefined>;
}

/** The log digest after each process event, by position (see store/sqlite-digests.ts). */
export interface DigestIndex {
  /** Notes the digest after the event at `position`. Only inside a write, as `write`. */
  record(position: Position, digest: string): void;
  /** The digests noted for positions in (after, upTo], ascending. */
  between(after: Position, upTo: Position): { position: Position; digest: string }[];
}

export interface ReadModelTables extends ReadModelReader {
  /**
   * Applies one change made by the event at `position`. Only inside `transaction` (or
   * `project` on the inline path).
   */
  write(change: RowChange, position: Position): void;
  /** Notes the registry-clock time of the event at `position` (for "as of a time"). */
  recordTime(position: Position, recordedAtMs: number): void;
  /**
   * True when the tables store copies of what is written (SQLite serializes every row):
   * the objects written need not be frozen, nothing keeps them. Otherwise (memory) they
   * are kept, so they must be frozen.
   */
  readonly keepsCopies?: boolean;
  /** Present when the tables keep every version of their rows (SQLite store files, memory stores). */
  readonly versions?: VersionedTables;
  setCheckpoint(position: Position): void;
  /**
   * The log digest (domain/integrity.ts) up to the checkpoint, moved with it in the same
   * transactions; null when unknown (tables made before digests, until a rebuild).
   */
  digest(): LogDigest | null;
  setDigest(digest: LogDigest | null): void;
  /** Present when the tables keep the digest after every event (SQLite files). */
  readonly digests?: DigestIndex;
  /** Runs `work` so that its writes and the checkpoint commit together or not at all. */
  transaction<T>(work: () => T): T;
  /**
   * Every row of every table, keyed `table/key`, in a canonical form (verify, tests), with
   * the checkpoint they reflect: one consistent read, even while others append.
   */
  dump(): { checkpoint: Position; rows: Map<string, Json> };
  /** Empties every table and resets the checkpoint and the digest (a rebuild starts here). */
  clear(): void;
  /** The persisted fold of a process stream, or undefined (see the command handler). */
  snapshot(processId: string): { revision: number; state: Json } | undefined;
  saveSnapshot(processId: string, revision: number, state: Json): void;
}

/**
 * Folds stored events into row changes. Supplied by the registry (projections/), run by
 * stores that keep their read models in their own write transactions. Throws to refuse:
 * an event it cannot read must stop the models before it, never be skipped.
 */
export interface InlineProjection {
  project(events: readonly StoredEvent[], tables: ReadModelTables): void;
}

/**
 * A store whose read models commit in the same transaction as its events (memory,
 * SQLite). Invariant: after every committed append, the checkpoint is the head of the log,
 * unless the log holds events written around procreg (an older release's file, a raw
 * insert): `catchUp` projects those, and the next append projects them first.
 */
export interface InlineModels {
  readonly tables: ReadModelTables;
  /** Set once, before the first append. */
  attach(projection: InlineProjection): void;
  /**
   * Whether the tables hold every event of the log (their checkpoint is at its head): one
   * read, asked before every query, which is false only when something wrote events around
   * procreg (an older release, a raw insert).
   */
  current(): boolean;
  /**
   * Projects the events after the checkpoint in chunks, each committed with its checkpoint
   * (so a crash resumes where it stopped). `rebuild: true` empties the tables first.
   */
  catchUp(options?: {
    rebuild?: boolean;
    onProgress?: (done: Position, head: Position) => void;
  }): Promise<void>;
}
