/*
 * Over 300 lines: the PostgreSQL adapter's class (open, appends, reads, the feed, models,
 * versions, retention, journal wiring); the SQL and each part with a name of its own are
 * in postgres-*.ts.
 */
import pg from 'pg';
import type { Observable } from 'rxjs';
import { RegistryError } from '../domain/errors.ts';
import {
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type Position,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RefusalJournal,
  type StoredEvent,
  type StoredEventText,
  type StreamRemoval,
  type StreamRevision,
  type StreamWrite,
  type SubscribeOptions,
  WrongExpectedRevisionError,
} from './port.ts';
import { commitBatch, type PendingAppend, serializeWrite } from './postgres-append.ts';
import { deleteStreams } from './postgres-delete.ts';
import { catchUpDigests, PostgresDigests } from './postgres-digests.ts';
import {
  isConnectionFailure,
  type PostgresOperation,
  postgresFailure,
} from './postgres-failures.ts';
import { type Listener, PostgresFeed } from './postgres-feed.ts';
import { PostgresJournal } from './postgres-journal.ts';
import { PostgresProjection } from './postgres-projection.ts';
import { PostgresReads } from './postgres-reads.ts';
import { channelOf, ensureSchema } from './postgres-schema.ts';
import {
  describeServer,
  MAX_BATCH,
  type PostgresSettings,
  type PostgresStoreOptions,
  postgresSettings,
} from './postgres-settings.ts';
import { PostgresVersions } from './postgres-versions.ts';
import type { InlineProjection } from './read-model-tables.ts';
import { appendOneVia } from './shared.ts';

/**
 * Opens the PostgreSQL store (node-postgres, a pool of `poolSize` connections) on a
 * `postgres://` or `postgresql://` URL, creating its schema on first use. TLS, credentials
 * and socket directories come from the URL as node-postgres reads it (`sslmode=verify-full`,
 * `host=/var/run/postgresql`). Fails `unavailable` when the server cannot be reached.
 */
export const openPostgresStore = async (
  connectionString: string,
  options: PostgresStoreOptions = {},
): Promise<EventStore> => {
  const settings = postgresSettings(options);
  let server: string;
  try {
    server = describeServer(connectionString);
  } catch (error) {
    throw new RegistryError(
      'invalid',
      `invalid PostgreSQL connection string (${(error as Error).message}); expected e.g. postgres://user:password@localhost:5432/app`,
    );
  }
  const config: pg.PoolConfig = {
    connectionString,
    application_name: 'procreg',
    statement_timeout: settings.statementTimeoutMs,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    keepAlive: true,
  };
  // Connections open on demand up to poolSize and stay open (no idle timeout): a registry
  // is a long-lived client, and an idle timer per released connection would be a timer
  // outliving every call.
  const pool = new pg.Pool({
    ...config,
    max: settings.poolSize,
    idleTimeoutMillis: 0,
    // Appends rely on READ COMMITTED (each statement sees the commits it waited for),
    // whatever the database's default isolation is; awaited before the pool hands it out.
    // JIT off: every procreg statement is a short keyed read or write, and the planner's
    // guesses for small tables (960 rows for the one-row log_head) pushed the log page read
    // past jit_above_cost once the log held ~10 000 events, compiling it at every call:
    // 2-4 ms per read, which a waiter in another process waited on (bench/postgres.ts);
    // append_batch, whose sequential scans are off (their inflated cost), needs it too.
    onConnect: async (client: pg.ClientBase) => {
      await client.query("SET default_transaction_isolation TO 'read committed'; SET jit = off");
    },
  } as pg.PoolConfig);
  // An idle connection the server dropped (a restart, a failover) reports here; the pool
  // discards it and the next query connects afresh, so there is nothing else to do.
  pool.on('error', () => {});
  const store = new PostgresEventStore(pool, config, settings, server);
  if (settings.journal) {
    store.journal = new PostgresJournal(pool, settings.schema, (error, operation) =>
      postgresFailure(error, server, operation, settings.statementTimeoutMs),
    );
  }
  try {
    const client = await pool.connect();
    try {
      await ensureSchema(client, settings.schema);
    } finally {
      client.release();
    }
    // a schema upgraded from version 2 gets the digests of the log it already holds
    await catchUpDigests(pool, settings.schema);
  } catch (error) {
    await pool.end().catch(() => {});
    throw postgresFailure(error, server, 'connecting', settings.statementTimeoutMs);
  }
  return store;
};

class PostgresEventStore implements EventStore {
  readonly durabilityTier = 'durable' as const;
  /** set once by openPostgresStore unless the journal is off */
  journal: RefusalJournal | undefined;
  /** What this log is, for a read-models file (readModels=) to check it follows it. */
  get source(): string {
    return `postgres://${this.server}?schema=${this.settings.schema}`;
  }
  private readonly reads: PostgresReads;
  private readonly feed: PostgresFeed;
  private queue: PendingAppend[] = [];
  private scheduled = false;
  private inFlight: Promise<void> | undefined;
  private projection: PostgresProjection | undefined;
  private closed = false;
  /** the version tables in the schema, for the registry's `asOf` (see postgres-versions.ts) */
  readonly versions: PostgresVersions;
  /** the digest after every process event, written by `append_batch` (postgres-digests.ts) */
  readonly logDigests: PostgresDigests;

  constructor(
    private readonly pool: pg.Pool,
    private readonly config: pg.ClientConfig,
    private readonly settings: PostgresSettings,
    private readonly server: string,
  ) {
    this.reads = new PostgresReads(pool, settings.schema, (error, operation) =>
      this.failure(error, operation),
    );
    this.versions = new PostgresVersions(this.reads, settings.schema, async () => {
      this.ensureOpen();
      await this.projection?.current();
    });
    this.logDigests = new PostgresDigests(
      pool,
      settings.schema,
      (error, operation) => this.failure(error, operation),
      () => this.ensureOpen(),
    );
    this.feed = new PostgresFeed(
      {
        page: (after, prefix, limit) => this.reads.page(after, prefix, limit),
        listen: (onWake, onLost) => this.listen(onWake, onLost),
        // reads hand back RegistryErrors: whether it was the connection is in the cause
        isTransient: (error) =>
          isConnectionFailure(error) || isConnectionFailure((error as Error | undefined)?.cause),
        failure: (error) => this.failure(error, 'reading'),
        closedError: () => this.closedError(),
        server,
      },
      { safetyPollMs: settings.safetyPollMs, reconnect: settings.reconnect },
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
   * Group commit: appends made while a commit is in flight join the next one, which is one
   * transaction and one round trip (see `append_batch`), each append still checked against
   * its own expected revisions and applied all or nothing.
   */
  async appendToStreams(writes: readonly StreamWrite[]): Promise<AppendResult[]> {
    this.ensureOpen();
    if (writes.length === 0) return [];
    const serialized = writes.map(serializeWrite);
    return new Promise<AppendResult[]>((resolve, reject) => {
      this.queue.push({ writes: serialized, resolve, reject });
      this.schedule();
    });
  }

  /** On the next turn, so every caller of this turn joins the batch; one commit at a time. */
  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.queue.length > 0) this.inFlight = this.flush();
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0, MAX_BATCH);
    try {
      await this.feed.ownCommit(() => this.commit(batch));
    } finally {
      this.inFlight = undefined;
      if (this.queue.length > 0) this.schedule();
    }
  }

  /**
   * A batch the server refused as a whole (not for a lost connection) is tried append by
   * append, so that one append's problem fails that append only.
   */
  private async commit(batch: readonly PendingAppend[]): Promise<void> {
    let included = batch;
    try {
      for (let attempt = 1; ; attempt++) {
        if (this.projection) included = await this.projection.project(included);
        if (included.length === 0) return;
        const outcome = await commitBatch(
          this.pool,
          this.settings.schema,
          included,
          (rows, headBefore) => this.feed.publish(rows, headBefore),
          this.projection !== undefined,
          (pending, results, replayed) => this.projection?.settled(pending, results, replayed),
        );
        if (outcome === 'done') return;
        // events were stored without their read-model rows: those come first
        if (attempt > 3) throw new Error('the read models kept falling behind the log');
        await this.projection!.catchUp();
      }
    } catch (error) {
      if (included.length > 1 && !isConnectionFailure(error)) {
        for (const pending of included) await this.commit([pending]);
        return;
      }
      const failure = this.failure(error, 'appending');
      for (const pending of included) pending.reject(failure);
    }
  }

  /** The registry's projection: from now on every append carries its read-model rows. */
  attachProjection(projection: InlineProjection): void {
    this.projection = new PostgresProjection(this.pool, this.settings.schema, projection);
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    this.ensureOpen();
    return this.reads.stream(stream, options);
  }

  async streamRevision(stream: string): Promise<StreamRevision> {
    this.ensureOpen();
    return this.reads.revision(stream);
  }

  readAll(options: ReadAllOptions = {}): AsyncIterable<StoredEvent> {
    // checked when iterated, like every other adapter's
    return this.reads.all(options, () => this.ensureOpen());
  }

  readAllText(options: ReadAllOptions = {}): AsyncIterable<readonly StoredEventText[]> {
    return this.reads.allText(options, () => this.ensureOpen());
  }

  subscribeToAll(options: SubscribeOptions = {}): Observable<StoredEvent> {
    return this.feed.subscribe(options);
  }

  /** One transaction of its own (see postgres-delete.ts), the log lock serializing it. */
  async deleteStreams(
    remove: readonly StreamRemoval[],
    record?: StreamWrite,
  ): Promise<AppendResult | undefined> {
    this.ensureOpen();
    const { pool, projection } = this;
    try {
      return await deleteStreams(pool, this.settings.schema, projection, remove, record);
    } catch (error) {
      if (error instanceof WrongExpectedRevisionError) throw error;
      throw this.failure(error, 'appending');
    }
  }

  /** Appends already accepted are committed first; subscriptions complete; the pool ends. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.inFlight || this.queue.length > 0 || this.scheduled) {
      if (this.inFlight) await this.inFlight;
      else if (this.queue.length > 0) this.inFlight = this.flush();
      else await new Promise((resolve) => setImmediate(resolve));
    }
    await this.feed.close();
    await this.pool.end().catch(() => {});
  }

  /** A dedicated connection outside the pool: LISTEN holds its session. */
  private async listen(
    onWake: (head: Position) => void,
    onLost: (error: unknown) => void,
  ): Promise<Listener> {
    const client = new pg.Client(this.config);
    let lost = false;
    const drop = (error: unknown) => {
      if (lost) return;
      lost = true;
      onLost(error);
    };
    client.on('error', drop);
    client.on('end', () => drop(new Error('the LISTEN connection ended')));
    client.on('notification', (message) => onWake(BigInt(message.payload ?? '0')));
    try {
      await client.connect();
      await client.query(`LISTEN "${channelOf(this.settings.schema)}"`);
    } catch (error) {
      lost = true;
      await client.end().catch(() => {});
      throw error;
    }
    return {
      close: async () => {
        lost = true;
        await client.end().catch(() => {});
      },
    };
  }

  private failure(error: unknown, operation: PostgresOperation): unknown {
    return postgresFailure(error, this.server, operation, this.settings.statementTimeoutMs);
  }

  private ensureOpen(): void {
    if (this.closed) throw this.closedError();
  }

  private closedError(): RegistryError {
    return new RegistryError(
      'unavailable',
      `the PostgreSQL store for ${this.server} (schema ${this.settings.schema}) is closed; open it again`,
    );
  }
}

export type { PostgresStoreOptions } from './postgres-settings.ts';
