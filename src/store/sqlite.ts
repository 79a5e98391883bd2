/*
 * Over 300 lines: the SQLite EventStore adapter in one class: opening, the group commit of
 * appends (a savepoint per append, the inline projection inside it), reads, the feed, and
 * busy/crash handling. Each part with a name of its own has its own file: sqlite-events,
 * -feed, -file, -tables, -versions, -listing, -log-index, -wake, -journal, -options.
 */
import type Database from 'better-sqlite3';
import type { Observable } from 'rxjs';
import { isRegistryError, RegistryError } from '../domain/errors.ts';
import { parseInput } from '../domain/validation.ts';
import {
  type EventRow,
  PAGE_SIZE,
  type SerializedEvent,
  serializeEvent,
  toEventRow,
  toEventText,
  toStoredEvent,
} from './event-rows.ts';
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
  type StoredEventText,
  type StreamRemoval,
  type StreamRevision,
  type StreamWrite,
  type SubscribeOptions,
  WrongExpectedRevisionError,
} from './port.ts';
import type { InlineModels, InlineProjection } from './read-model-tables.ts';
import { appendOneVia, replayedAppend, revisionMatches } from './shared.ts';
import { type EventStatements, prepareEventStatements, readPage } from './sqlite-events.ts';
import { type SqliteOperation, sqliteCode, sqliteFailure } from './sqlite-failures.ts';
import { type FeedPolling, SqliteFeed } from './sqlite-feed.ts';
import { openDatabase } from './sqlite-file.ts';
import { SqliteOptionsSchema, type SqliteStoreOptions } from './sqlite-options.ts';

export type { SqliteStoreOptions } from './sqlite-options.ts';

import { SqliteJournal } from './sqlite-journal.ts';
import { SqliteTables } from './sqlite-tables.ts';
import { SqliteWake } from './sqlite-wake.ts';

/** How many events one transaction of a catch-up or rebuild projects. */
export const CATCH_UP_CHUNK = 10_000;

/** Head polls without wake-ups, and with them (a safety net), when not configured. */
export const DEFAULT_POLL_MS = 30;
export const DEFAULT_WATCHED_POLL_MS = 1_000;

/**
 * Opens the embedded, durable event store on a SQLite file, creating it when new. Several
 * stores (in this or other OS processes) may share one file: every append checks its
 * expected revision under the file's write lock.
 */
export const openSqliteStore = async (
  path: string,
  options: SqliteStoreOptions = {},
): Promise<EventStore> => {
  const parsed = parseInput(SqliteOptionsSchema, options, 'SQLite store options');
  const settings = {
    ...parsed,
    pollIntervalMs: parsed.pollIntervalMs ?? DEFAULT_POLL_MS,
    catchUpChunk: parsed.catchUpChunk ?? CATCH_UP_CHUNK,
  };
  const polling = {
    polling: settings.pollIntervalMs,
    watching: parsed.pollIntervalMs ?? DEFAULT_WATCHED_POLL_MS,
  };
  const { busyTimeoutMs } = settings;
  const db = openDatabase(path, settings);
  const wake =
    parsed.watchFile !== false && path !== ':memory:' && path !== ''
      ? new SqliteWake(path)
      : undefined;
  const store = new SqliteEventStore(path, db, settings, polling, wake);
  if (parsed.journal !== false) store.journal = new SqliteJournal(db, { path, busyTimeoutMs });
  return store;
};

interface PendingWrite {
  stream: string;
  expectedRevision: ExpectedRevision;
  events: SerializedEvent[];
  /** the caller's write, for the replay check every adapter shares (shared.ts) */
  original: StreamWrite;
}

/** One appendToStreams call waiting for the next group commit. */
interface PendingAppend {
  writes: PendingWrite[];
  /** streams removed whole in the same savepoint (retention), checked first */
  remove?: readonly StreamRemoval[];
  resolve: (results: AppendResult[]) => void;
  reject: (error: unknown) => void;
}

interface AppendOutcome {
  results: AppendResult[];
  rows: EventRow[];
  /** the same events as the projection reads them (data not re-parsed) */
  stored: StoredEvent[];
}

/** An append's fate within a batch: stored, or refused on its own. */
type Outcome = AppendOutcome | Error;

class SqliteEventStore implements EventStore {
  readonly durabilityTier = 'durable' as const;
  readonly models: InlineModels;
  /** set once by openSqliteStore unless the journal is off */
  journal: RefusalJournal | undefined;
  private readonly tables: SqliteTables;
  private projection: InlineProjection | undefined;
  private readonly statements: EventStatements;
  private readonly commitBatch: Database.Transaction<
    (batch: readonly PendingAppend[], outcomes: Outcome[]) => Position
  >;
  private readonly feed: SqliteFeed;
  private queue: PendingAppend[] = [];
  /** cancels the scheduled flush: the next turn, or a retry while another process writes */
  private cancelFlush: (() => void) | undefined;
  /** when this store began waiting for another connection's write lock */
  private lockedSince: number | undefined;
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly db: Database.Database,
    private readonly settings: {
      busyTimeoutMs: number;
      pollIntervalMs: number;
      catchUpChunk: number;
    },
    polling: FeedPolling,
    /** rings other processes' feeds after each commit; undefined for `:memory:` or when off */
    private readonly wake: SqliteWake | undefined,
  ) {
    this.statements = prepareEventStatements(db);
    this.tables = new SqliteTables(db, true);
    this.models = {
      tables: this.tables,
      attach: (projection) => {
        this.projection = projection;
      },
      current: () => this.use('read', () => this.statements.modelsCurrent.get() === 1),
      catchUp: (options) => this.catchUpModels(options),
    };
    // Called inside the batch's transaction, better-sqlite3 runs it as a SAVEPOINT: a
    // refused append is rolled back alone (its events and its model rows) and the rest of
    // the batch commits.
    const appendOne = db.transaction((pending: PendingAppend) => {
      if (pending.remove) this.removeStreams(pending.remove);
      const outcome = this.applyWrites(pending.writes);
      const { projection } = this;
      if (projection)
        this.tables.projectAppend(() => projection.project(outcome.stored, this.tables));
      return outcome;
    });
    // Invariant: the batch's events, their model rows and the checkpoint commit together,
    // so the models are never ahead of or behind the log. The checkpoint's row (with the
    // log digest) is held for the batch: read once, written once (sqlite-checkpoint.ts).
    const { checkpointRow } = this.tables;
    this.commitBatch = db.transaction((batch: readonly PendingAppend[], outcomes: Outcome[]) =>
      checkpointRow.hold(() => {
        const headBefore = this.statements.head.get()!;
        // events written around procreg (an older release, a raw insert) are projected first
        if (this.projection) this.projectAfterCheckpoint(headBefore, Number.POSITIVE_INFINITY);
        let head = headBefore;
        for (const pending of batch) {
          try {
            const outcome = appendOne(pending);
            outcomes.push(outcome);
            for (const result of outcome.results)
              if (result.position > head) head = result.position;
          } catch (error) {
            const refused =
              error instanceof WrongExpectedRevisionError || isRegistryError(error, 'conflict');
            if (!refused) throw error;
            outcomes.push(error);
          }
        }
        if (this.projection && head > headBefore) this.tables.setCheckpoint(head);
        return headBefore;
      }),
    );
    this.feed = new SqliteFeed(
      {
        head: () => this.statements.head.get()!,
        page: (after, upTo, prefix, limit) => readPage(this.statements, after, upTo, prefix, limit),
        isTransient: (error) => sqliteCode(error)?.startsWith('SQLITE_BUSY') === true,
        failure: (error) => sqliteFailure(error, path, 'read', settings.busyTimeoutMs),
        closedError: () => this.closedError(),
        ...(wake ? { watch: (onChange, onFailure) => wake.watch(onChange, onFailure) } : {}),
      },
      polling,
    );
  }

  appendToStream(
    stream: string,
    events: readonly NewEvent[],
    options: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    return appendOneVia(this, { stream, events, expectedRevision: options.expectedRevision });
  }

  /**
   * Group commit: appends made while a commit is pending join it. The batch is one
   * BEGIN IMMEDIATE transaction (one fsync), each append in its own savepoint checked
   * against its own expected revision, so a stale append fails alone.
   */
  async appendToStreams(writes: readonly StreamWrite[]): Promise<AppendResult[]> {
    this.ensureOpen();
    if (writes.length === 0) return [];
    const pending = writes.map((write) => ({
      stream: write.stream,
      expectedRevision: write.expectedRevision,
      events: write.events.map(serializeEvent),
      original: write,
    }));
    return new Promise<AppendResult[]>((resolve, reject) => {
      this.queue.push({ writes: pending, resolve, reject });
      this.scheduleFlush();
    });
  }

  /**
   * Joins the group commit like an append: the removals and the record (whose projection
   * purges the streams' rows) commit in one savepoint, or none of them do.
   */
  async deleteStreams(
    remove: readonly StreamRemoval[],
    record?: StreamWrite,
  ): Promise<AppendResult | undefined> {
    this.ensureOpen();
    const writes = (record ? [record] : []).map((write) => ({
      stream: write.stream,
      expectedRevision: write.expectedRevision,
      events: write.events.map(serializeEvent),
      original: write,
    }));
    const results = await new Promise<AppendResult[]>((resolve, reject) => {
      this.queue.push({ writes, remove, resolve, reject });
      this.scheduleFlush();
    });
    return results[0];
  }

  /** Under the write lock: each stream must still end at the revision the caller archived. */
  private removeStreams(remove: readonly StreamRemoval[]): void {
    for (const { stream, lastRevision } of remove) {
      const tail = this.statements.tail.get(stream);
      const actual = tail ? Number(tail.revision) : -1;
      if (actual !== lastRevision)
        throw new WrongExpectedRevisionError(stream, lastRevision, actual);
      this.statements.deleteStream.run(stream);
    }
  }

  /**
   * By default on the next turn (setImmediate, not a microtask: every caller that gets to
   * run in this turn of the event loop joins the batch), or after `delayMs`.
   */
  private scheduleFlush(delayMs?: number): void {
    if (this.cancelFlush) return;
    if (delayMs === undefined) {
      const handle = setImmediate(() => this.flush());
      this.cancelFlush = () => clearImmediate(handle);
    } else {
      const handle = setTimeout(() => this.flush(), delayMs);
      this.cancelFlush = () => clearTimeout(handle);
    }
  }

  private flush(): void {
    this.cancelFlush = undefined;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    if (this.closed) {
      for (const pending of batch) pending.reject(this.closedError());
      return;
    }
    const outcomes: Outcome[] = [];
    let headBefore: Position;
    try {
      headBefore = this.withoutBusyHandler(() => this.commitBatch.immediate(batch, outcomes));
    } catch (error) {
      if (this.retryWhenLocked(error, batch)) return;
      this.lockedSince = undefined;
      // Nothing of the batch is stored; an append already refused keeps its own reason.
      const failure = sqliteFailure(error, this.path, 'append', this.settings.busyTimeoutMs);
      batch.forEach((pending, i) => {
        const outcome = outcomes[i];
        pending.reject(outcome instanceof Error ? outcome : failure);
      });
      return;
    }
    this.lockedSince = undefined;
    const rows = outcomes.flatMap((outcome) => (outcome instanceof Error ? [] : outcome.rows));
    if (rows.length > 0) this.wake?.ring();
    this.feed.publish(rows, headBefore);
    batch.forEach((pending, i) => {
      const outcome = outcomes[i]!;
      if (outcome instanceof Error) pending.reject(outcome);
      else pending.resolve(outcome.results);
    });
  }

  /**
   * SQLite's busy handler would wait for the write lock inside BEGIN IMMEDIATE, blocking
   * this process's event loop, and retry at ever longer intervals (up to 100 ms), so that
   * a process writing steadily could starve this one. Writes fail at once instead, and
   * `retryWhenLocked` waits off the event loop.
   */
  private withoutBusyHandler<T>(run: () => T): T {
    this.db.pragma('busy_timeout = 0');
    try {
      return run();
    } finally {
      this.db.pragma(`busy_timeout = ${this.settings.busyTimeoutMs}`);
    }
  }

  /**
   * Another connection holds the write lock: the batch goes back to the front of the queue
   * (later appends join it) and is retried every millisecond or two, until the lock has been
   * held for busyTimeoutMs. Nothing of a batch that met a busy lock was stored.
   */
  private retryWhenLocked(error: unknown, batch: PendingAppend[]): boolean {
    if (sqliteCode(error)?.startsWith('SQLITE_BUSY') !== true) return false;
    const now = Date.now();
    this.lockedSince ??= now;
    if (now - this.lockedSince >= this.settings.busyTimeoutMs) return false;
    this.queue = [...batch, ...this.queue];
    this.scheduleFlush(1 + Math.random() * 2);
    return true;
  }

  /** Runs under the write lock, so the revisions read here cannot change before the insert. */
  private applyWrites(writes: readonly PendingWrite[]): AppendOutcome {
    const results: AppendResult[] = [];
    const rows: EventRow[] = [];
    const stored: StoredEvent[] = [];
    const recordedAt = Date.now();
    for (const write of writes) {
      const tail = this.statements.tail.get(write.stream);
      const actual = tail ? Number(tail.revision) : -1;
      if (!revisionMatches(write.expectedRevision, actual)) {
        const replayed = this.replayed(write.original);
        if (replayed) {
          results.push(replayed);
          continue;
        }
        throw new WrongExpectedRevisionError(write.stream, write.expectedRevision, actual);
      }
      let revision = actual;
      let position = tail?.position ?? START;
      write.events.forEach((event, i) => {
        revision += 1;
        position = this.insert(write.stream, revision, event, recordedAt);
        rows.push(toEventRow(event, write.stream, revision, position));
        const { type, data, metadata } = write.original.events[i]!;
        stored.push({
          id: event.id,
          stream: write.stream,
          revision,
          position,
          type,
          data,
          metadata,
        });
      });
      results.push({ nextRevision: revision, position });
    }
    return { results, rows, stored };
  }

  /**
   * Projects the stored events after the models' checkpoint, up to `upTo` and at most
   * `limit` of them, and moves the checkpoint. Runs inside a write transaction.
   */
  private projectAfterCheckpoint(upTo: Position, limit: number): Position {
    let checkpoint = this.tables.checkpoint();
    while (checkpoint < upTo && limit > 0) {
      const size = Math.min(PAGE_SIZE, limit);
      const rows = readPage(this.statements, checkpoint, upTo, undefined, size);
      if (rows.length === 0) break;
      const page = rows.map(toStoredEvent);
      this.tables.batch(() => this.projection!.project(page, this.tables));
      checkpoint = rows.at(-1)!.position;
      this.tables.setCheckpoint(checkpoint);
      limit -= rows.length;
      if (rows.length < size) break;
    }
    return checkpoint;
  }

  /**
   * Brings the models up to the head of the log in chunks, one transaction each, so that a
   * crash keeps what was done and the next open resumes there. Appends of other processes
   * wait between chunks, never for the whole catch-up.
   */
  private async catchUpModels(
    options: { rebuild?: boolean; onProgress?: (done: Position, head: Position) => void } = {},
  ): Promise<void> {
    if (!this.projection) throw new Error('catchUp needs an attached projection');
    if (options.rebuild) this.use('append', () => this.tables.clear());
    for (;;) {
      const head = this.use('read', () => this.statements.head.get()!);
      const done = this.use('append', () =>
        this.tables.transaction(() =>
          this.projectAfterCheckpoint(head, this.settings.catchUpChunk),
        ),
      );
      options.onProgress?.(done, head);
      if (done >= head) return;
      // let other work (and other processes' appends) in between chunks
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private insert(stream: string, revision: number, event: SerializedEvent, at: number): Position {
    const { insert, locate } = this.statements;
    try {
      const row = [stream, revision, event.type, event.data, event.metadata, at, event.id] as const;
      return BigInt(insert.run(...row).lastInsertRowid);
    } catch (error) {
      const where = sqliteCode(error) === 'SQLITE_CONSTRAINT_UNIQUE' && locate.get(event.id);
      if (!where) throw error;
      throw new RegistryError(
        'conflict',
        `event id ${event.id} is already stored (stream ${where.stream}, revision ${where.revision}); a retried append must use the same expected revision, and new events need new ids`,
      );
    }
  }

  /** Only a mismatch can be a replay: after a match, no events follow the expected revision. */
  private replayed(write: StreamWrite): AppendResult | undefined {
    const { expectedRevision } = write;
    if (expectedRevision === 'any' || write.events.length === 0) return undefined;
    const from = expectedRevision === 'no_stream' ? 0 : expectedRevision + 1;
    // replayedAppend indexes the stream by revision: a sparse array holds just the window
    const existing: StoredEvent[] = [];
    for (const row of this.statements.forwards.all(write.stream, from, write.events.length)) {
      const event = toStoredEvent(row);
      existing[event.revision] = event;
    }
    return replayedAppend(existing, write);
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    const { fromRevision, maxCount = -1, direction = 'forwards' } = options;
    const { forwards, backwards } = this.statements;
    const rows = this.use('read', () =>
      direction === 'backwards'
        ? backwards.all(stream, fromRevision ?? Number.MAX_SAFE_INTEGER, maxCount)
        : forwards.all(stream, fromRevision ?? 0, maxCount),
    );
    return rows.map(toStoredEvent);
  }

  async streamRevision(stream: string): Promise<StreamRevision> {
    const tail = this.use('read', () => this.statements.tail.get(stream));
    return tail ? Number(tail.revision) : -1;
  }

  /** The log as it was when iteration started, one query per page. */
  async *readAll(options: ReadAllOptions = {}): AsyncIterable<StoredEvent> {
    for (const rows of this.pages(options)) for (const row of rows) yield toStoredEvent(row);
  }

  /** `readAll`'s pages with the JSON left as stored. */
  async *readAllText(options: ReadAllOptions = {}): AsyncIterable<readonly StoredEventText[]> {
    for (const rows of this.pages(options)) yield rows.map(toEventText);
  }

  /** The log's rows up to the head when iteration started, a query per page. */
  private *pages(options: ReadAllOptions): Iterable<EventRow[]> {
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    let after = options.fromPosition ?? START;
    const head = this.use('read', () => this.statements.head.get()!);
    while (remaining > 0 && after < head) {
      const limit = Math.min(PAGE_SIZE, remaining);
      const rows = this.use('read', () =>
        readPage(this.statements, after, head, options.streamPrefix, limit),
      );
      yield rows;
      if (rows.length < limit) return;
      remaining -= rows.length;
      after = rows.at(-1)!.position;
    }
  }

  subscribeToAll(options: SubscribeOptions = {}): Observable<StoredEvent> {
    return this.feed.subscribe(options);
  }

  /**
   * Appends already accepted get one last attempt; subscriptions complete; the file is
   * released. Appends still waiting for another process's lock, or made by a subscriber
   * while the last batch was published, are refused as closed.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flushNow();
    this.closed = true;
    this.flushNow();
    this.feed.close();
    this.wake?.close();
    this.db.close();
  }

  private flushNow(): void {
    if (!this.cancelFlush) return;
    this.cancelFlush();
    this.flush();
  }

  private use<T>(operation: SqliteOperation, run: () => T): T {
    this.ensureOpen();
    try {
      return run();
    } catch (error) {
      throw sqliteFailure(error, this.path, operation, this.settings.busyTimeoutMs);
    }
  }

  private ensureOpen(): void {
    if (this.closed) throw this.closedError();
  }

  private closedError(): RegistryError {
    return new RegistryError(
      'unavailable',
      `the SQLite store ${this.path} is closed; open it again with openSqliteStore`,
    );
  }
}
