import type Database from 'better-sqlite3';
import { deepFreeze } from '../domain/freeze.ts';
import { GENESIS_DIGEST, type LogDigest } from '../domain/integrity.ts';
import type { Json } from '../domain/json.ts';
import { byCodeUnits } from '../domain/order.ts';
import type { ProcessQuery } from '../domain/process-list.ts';
import type {
  ProcessEvent,
  ProcessHandleGrant,
  ProcessLease,
  ProcessRecord,
} from '../domain/schemas.ts';
import { type Position, START } from './port.ts';
import type { ReadModelTables, RowChange, VersionedTables } from './read-model-tables.ts';
import { BulkInsert } from './sqlite-bulk-insert.ts';
import { SqliteCheckpoint } from './sqlite-checkpoint.ts';
import { countOfType, countOn, parseTypeCounts, type TypeCounts } from './sqlite-event-counts.ts';
import { SqliteListing } from './sqlite-listing.ts';
import { SqliteLogIndex } from './sqlite-log-index.ts';
import { ORDINAL_TABLES, SqliteOrdinals } from './sqlite-ordinals.ts';
import {
  bindable,
  json,
  positionOf,
  type RecordRow,
  recordOf,
  sortablePosition,
} from './sqlite-rows.ts';
import { TABLES } from './sqlite-tables-sql.ts';
import { VERSION_LISTING_TABLES } from './sqlite-version-listing.ts';
import { SqliteVersions, VERSIONED_TABLES } from './sqlite-versions.ts';
import { byGrantOrder, tableDump } from './tables-shared.ts';

/**
 * The read-model tables in a SQLite file. In a procreg store file they sit next to
 * `events` and change in the same transactions (`rm_events` then keeps only each process
 * event's position: the event itself is read from `events`); in a models-only file (read
 * models of an EventStoreDB store) `rm_events` keeps the event too.
 *
 * Every table is keyed the way it is queried, so each query is an index lookup or range:
 * its cost depends on the answer, never on the length of the log.
 *
 * Over 300 lines: the one implementation of the tables port over SQLite (some thirty
 * methods, a few lines each) with its prepared statements and the batch that a catch-up
 * chunk runs in; the schema is in sqlite-tables-sql.ts.
 */
type Row<T> = Database.Statement<unknown[], T>;

const parse = <T>(text: string): T => deepFreeze(JSON.parse(text) as T);

export class SqliteTables implements ReadModelTables {
  private readonly s;
  /**
   * While a `batch` runs: the process records and leases it wrote, by process id
   * (undefined: deleted), and each process's last touch since its record was last put,
   * read back from here and written once when the batch ends. A catch-up chunk touches
   * each record many times (every process event updates it), also records put in an
   * earlier chunk (interleaved logs touch mostly those).
   */
  private overlay:
    | {
        records: Map<string, ProcessRecord>;
        /** the position of each overlaid record's put */
        changed: Map<string, Position>;
        touches: Map<string, { updatedAtMs: number; position: Position }>;
        leases: Map<string, ProcessLease | undefined>;
        /** each process's last event put in the batch, with its counts by type */
        counts: Map<string, { sequence: number; counts: TypeCounts }>;
      }
    | undefined;
  private readonly listing: SqliteListing;
  /**
   * Replay keys a batch writes, inserted many rows per statement when it ends: nothing
   * reads them during a batch (the models read only records and leases). Process events
   * are not: each one's counts by type follow on from the process's event before it (the
   * overlay keeps the counts of each process's last event in the batch).
   */
  private readonly bulkReplays: BulkInsert;

  /** `eventsInFile`: the file's `events` table holds the process events (a store file). */
  /**
   * every version of records, grants and leases (see sqlite-versions.ts), spanning log
   * positions in a store file, log ordinals in a models file that keeps them
   * (sqlite-ordinals.ts); none in a models file whose store keeps its own (PostgreSQL)
   */
  private readonly history: SqliteVersions | undefined;
  readonly versions: VersionedTables | undefined;
  /** the digests and change marks of each process event (sqlite-log-index.ts) */
  readonly digests: SqliteLogIndex;
  /** the checkpoint and the running digest, one row a write may hold (sqlite-checkpoint.ts) */
  readonly checkpointRow: SqliteCheckpoint;
  /** every row is stored as JSON text; the overlay's objects never leave a batch */
  readonly keepsCopies = true;

  constructor(
    private readonly db: Database.Database,
    private readonly eventsInFile: boolean,
    /** a models file: keep versions, in log ordinals (its tables hold `ordinalsSchema`) */
    ordinals?: 'ordinals',
  ) {
    this.history = eventsInFile
      ? new SqliteVersions(db)
      : ordinals
        ? new SqliteVersions(db, new SqliteOrdinals(db))
        : undefined;
    this.listing = new SqliteListing(db);
    this.digests = new SqliteLogIndex(db);
    this.checkpointRow = new SqliteCheckpoint(db);
    const history = this.history;
    this.versions = history && {
      at: (position) => {
        const at = history.pointAt(position);
        return {
          process: (id) => history.recordAt(id, at),
          processes: (which) => history.recordsAt(at, which),
          // a page by index (sqlite-version-listing.ts)
          listProcesses: (query) => history.listAt(at, query),
          grantsOfScope: (scopeId) => history.grantsOfScopeAt(scopeId, at),
          leases: () => history.leasesAt(at),
        };
      },
      prefixAt: (timeMs) => history.prefixAt(timeMs),
    };
    const eventColumn = eventsInFile
      ? `(SELECT json_extract(e.data, '$.event') FROM events e WHERE e.position = m.position)`
      : 'm.event';
    const p = <T>(sql: string) => db.prepare(sql) as Row<T>;
    this.bulkReplays = new BulkInsert(
      db,
      'INSERT OR IGNORE INTO rm_replays (process_id, key, sequence, payload_hash)',
      4,
    );
    this.s = {
      process: p<RecordRow>(
        'SELECT record, updated_at AS updatedAt FROM rm_processes WHERE id = ?',
      ),
      allProcesses: p<RecordRow>('SELECT record, updated_at AS updatedAt FROM rm_processes'),
      running: p<RecordRow>(
        'SELECT record, updated_at AS updatedAt FROM rm_processes WHERE running = 1',
      ),
      touchProcess: db.prepare(
        'UPDATE rm_processes SET updated_at = ?, changed_at = ? WHERE id = ?',
      ),
      grantsOfScope: p<string>('SELECT grant_row FROM rm_grants WHERE scope_id = ?').pluck(),
      grantsOfProcess: p<string>('SELECT grant_row FROM rm_grants WHERE process_id = ?').pluck(),
      hasGrant: p<number>('SELECT 1 FROM rm_grants WHERE scope_id = ? AND process_id = ?').pluck(),
      ofSession: p<string>(
        'SELECT DISTINCT process_id FROM rm_grants WHERE session_id = ?',
      ).pluck(),
      lease: p<string>('SELECT lease FROM rm_leases WHERE process_id = ?').pluck(),
      allLeases: p<string>('SELECT lease FROM rm_leases').pluck(),
      wakes: p<number>(
        'SELECT sequence FROM rm_wakes WHERE process_id = ? AND sequence > ? ORDER BY sequence',
      ).pluck(),
      eventsAfter: p<string>(
        `SELECT ${eventColumn} FROM rm_events m WHERE m.process_id = ? AND m.sequence > ? ORDER BY m.sequence`,
      ).pluck(),
      recentEvents: p<string>(
        `SELECT ${eventColumn} FROM rm_events m WHERE m.process_id = ? ORDER BY m.sequence DESC LIMIT ?`,
      ).pluck(),
      lastSequence: p<number | null>(
        'SELECT max(sequence) FROM rm_events WHERE process_id = ?',
      ).pluck(),
      // the process's event at or before a sequence: its counts by type (sqlite-event-counts.ts)
      countsUpTo: p<string | null>(
        `SELECT type_counts FROM rm_events WHERE process_id = ? AND sequence <= ?
         ORDER BY sequence DESC LIMIT 1`,
      ).pluck(),
      eventAt: p<string>(
        `SELECT ${eventColumn} FROM rm_events m WHERE m.process_id = ? AND m.sequence = ?`,
      ).pluck(),
      putProcess: db.prepare(
        'INSERT OR REPLACE INTO rm_processes (id, running, record, updated_at, changed_at) VALUES (?, ?, ?, ?, ?)',
      ),
      putGrant: db.prepare(
        'INSERT OR REPLACE INTO rm_grants (scope_id, process_id, session_id, grant_row) VALUES (?, ?, ?, ?)',
      ),
      deleteGrant: db.prepare('DELETE FROM rm_grants WHERE scope_id = ? AND process_id = ?'),
      putLease: db.prepare('INSERT OR REPLACE INTO rm_leases (process_id, lease) VALUES (?, ?)'),
      deleteLease: db.prepare('DELETE FROM rm_leases WHERE process_id = ?'),
      putWake: db.prepare('INSERT OR IGNORE INTO rm_wakes (process_id, sequence) VALUES (?, ?)'),
      deleteWake: db.prepare('DELETE FROM rm_wakes WHERE process_id = ? AND sequence = ?'),
      // the counts go on from the process's previous event, so putting an event again gives
      // it the same counts
      putEvent: db.prepare<unknown[]>(
        `INSERT OR REPLACE INTO rm_events
           (process_id, sequence, position, event, event_type, type_ordinal, type_counts)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      replay: p<{ sequence: number; payloadHash: string }>(
        'SELECT sequence, payload_hash AS payloadHash FROM rm_replays WHERE process_id = ? AND key = ?',
      ),
      putReplay: db.prepare(
        'INSERT OR IGNORE INTO rm_replays (process_id, key, sequence, payload_hash) VALUES (?, ?, ?, ?)',
      ),
      dumpReplays: p<{ process_id: string; key: string; sequence: number; payloadHash: string }>(
        'SELECT process_id, key, sequence, payload_hash AS payloadHash FROM rm_replays',
      ),
      snapshot: p<{ revision: number; state: string }>(
        'SELECT revision, state FROM rm_snapshots WHERE process_id = ?',
      ),
      saveSnapshot: db.prepare(
        `INSERT INTO rm_snapshots (process_id, revision, state) VALUES (?, ?, ?)
         ON CONFLICT (process_id) DO UPDATE SET revision = excluded.revision, state = excluded.state
         WHERE excluded.revision > rm_snapshots.revision`,
      ),
      dumpGrants: p<string>('SELECT grant_row FROM rm_grants').pluck(),
      dumpLeases: p<string>('SELECT lease FROM rm_leases').pluck(),
      dumpWakes: p<{ process_id: string; sequence: number }>(
        'SELECT process_id, sequence FROM rm_wakes',
      ),
      dumpEvents: p<string>(`SELECT ${eventColumn} FROM rm_events m`).pluck(),
      runningIds: p<string>('SELECT id FROM rm_processes WHERE running = 1').pluck(),
      dumpChanged: p<{ id: string; changedAt: bigint | string }>(
        'SELECT id, changed_at AS changedAt FROM rm_processes',
      ).safeIntegers(),
      /** every row of one process (retention), each an index lookup */
      purge: [
        'DELETE FROM rm_processes WHERE id = ?',
        'DELETE FROM rm_grants WHERE process_id = ?',
        'DELETE FROM rm_leases WHERE process_id = ?',
        'DELETE FROM rm_wakes WHERE process_id = ?',
        'DELETE FROM rm_events WHERE process_id = ?',
        'DELETE FROM rm_replays WHERE process_id = ?',
        'DELETE FROM rm_snapshots WHERE process_id = ?',
      ].map((sql) => db.prepare(sql)),
    };
  }

  process(processId: string): ProcessRecord | undefined {
    const overlay = this.overlay;
    const record = overlay?.records.get(processId) ?? this.stored(processId);
    const touch = overlay?.touches.get(processId);
    return record && touch ? { ...record, updatedAtMs: touch.updatedAtMs } : record;
  }

  private stored(processId: string): ProcessRecord | undefined {
    const row = this.s.process.get(processId);
    return row && recordOf(row);
  }

  processes(which: 'all' | 'running'): ProcessRecord[] {
    const rows = (which === 'all' ? this.s.allProcesses : this.s.running).all();
    return rows.map(recordOf).sort((a, b) => byCodeUnits(a.id, b.id));
  }

  listProcesses(query: ProcessQuery): ProcessRecord[] {
    return this.listing.list(query);
  }

  changedSince(after: Position, limit: number): { position: Position; record: ProcessRecord }[] {
    return this.digests.changedSince(after, limit);
  }

  grantsOfScope(scopeId: string): ProcessHandleGrant[] {
    return this.s.grantsOfScope
      .all(scopeId)
      .map((text) => parse<ProcessHandleGrant>(text))
      .sort((a, b) => byCodeUnits(a.processId, b.processId));
  }

  grantsOfProcess(processId: string): ProcessHandleGrant[] {
    return this.s.grantsOfProcess
      .all(processId)
      .map((text) => parse<ProcessHandleGrant>(text))
      .sort(byGrantOrder);
  }

  hasGrant(scopeId: string, processId: string): boolean {
    return this.s.hasGrant.get(scopeId, processId) !== undefined;
  }

  processesOfSession(sessionId: string): string[] {
    return this.s.ofSession.all(sessionId).sort(byCodeUnits);
  }

  lease(processId: string): ProcessLease | undefined {
    if (this.overlay?.leases.has(processId)) return this.overlay.leases.get(processId);
    const text = this.s.lease.get(processId);
    return text === undefined ? undefined : parse(text);
  }

  leases(): ProcessLease[] {
    return this.s.allLeases
      .all()
      .map((text) => parse<ProcessLease>(text))
      .sort((a, b) => byCodeUnits(a.processId, b.processId));
  }

  unackedWakes(processId: string, afterSequence: number): number[] {
    return this.s.wakes.all(processId, afterSequence);
  }

  eventsAfter(processId: string, afterSequence: number): ProcessEvent[] {
    return this.s.eventsAfter.all(processId, afterSequence).map((text) => parse(text));
  }

  eventsAt(processId: string, sequences: readonly number[]): ProcessEvent[] {
    return sequences.flatMap((sequence) => {
      const text = this.s.eventAt.get(processId, sequence);
      return text === undefined ? [] : [parse<ProcessEvent>(text)];
    });
  }

  recentEvents(processId: string, limit: number): ProcessEvent[] {
    return this.s.recentEvents
      .all(processId, limit)
      .reverse()
      .map((text) => parse<ProcessEvent>(text));
  }

  countEvents(processId: string, eventType: string | undefined, upToSequence: number): number {
    if (eventType === undefined) {
      // sequences are dense from 1: the events up to s are min(s, last)
      return Math.min(upToSequence, this.s.lastSequence.get(processId) ?? 0);
    }
    return countOfType(this.s.countsUpTo.get(processId, upToSequence) ?? undefined, eventType);
  }

  replay(processId: string, key: string): { sequence: number; payloadHash: string } | undefined {
    return this.s.replay.get(processId, key);
  }

  checkpoint(): Position {
    return this.checkpointRow.position();
  }

  write(change: RowChange, position: Position): void {
    const s = this.s;
    const overlay = this.overlay;
    switch (change.table) {
      case 'processes':
        if ('touch' in change) {
          const { processId, updatedAtMs } = change.touch;
          this.digests.markChanged(position, processId);
          if (overlay) overlay.touches.set(processId, { updatedAtMs, position });
          else s.touchProcess.run(updatedAtMs, sortablePosition(position), processId);
          this.history?.touch(processId, updatedAtMs, position);
          return;
        }
        this.history?.putRecord(change.put, position);
        this.digests.markChanged(position, change.put.id);
        if (overlay) {
          overlay.records.set(change.put.id, change.put);
          overlay.changed.set(change.put.id, position);
          overlay.touches.delete(change.put.id);
        } else this.putProcess(change.put, position);
        return;
      case 'grants':
        if ('put' in change) {
          const g = change.put;
          s.putGrant.run(g.scopeId, g.processId, g.sessionId, json(g));
          this.history?.putGrant(g, position);
        } else {
          const { scopeId, processId } = change.delete;
          s.deleteGrant.run(scopeId, processId);
          this.history?.deleteGrant(scopeId, processId, position);
        }
        return;
      case 'leases':
        if ('put' in change) this.history?.putLease(change.put, position);
        else this.history?.deleteLease(change.delete.processId, position);
        if (overlay) {
          const processId = 'put' in change ? change.put.processId : change.delete.processId;
          overlay.leases.set(processId, 'put' in change ? change.put : undefined);
        } else this.putLease(change);
        return;
      case 'wakes':
        if ('put' in change) s.putWake.run(change.put.processId, change.put.sequence);
        else s.deleteWake.run(change.delete.processId, change.delete.sequence);
        return;
      case 'replays': {
        const { processId, key, sequence, payloadHash } = change.put;
        if (overlay) this.bulkReplays.add([processId, key, sequence, payloadHash]);
        else s.putReplay.run(processId, key, sequence, payloadHash);
        return;
      }
      case 'events': {
        const { event, position } = change.put;
        const copy = this.eventsInFile ? null : json(event);
        const last = overlay?.counts.get(event.processId);
        const counts =
          last?.sequence === event.sequence - 1
            ? last.counts
            : parseTypeCounts(s.countsUpTo.get(event.processId, event.sequence - 1));
        const ordinal = countOn(counts, event.eventType);
        overlay?.counts.set(event.processId, { sequence: event.sequence, counts });
        s.putEvent.run(
          event.processId,
          event.sequence,
          bindable(position),
          copy,
          event.eventType,
          ordinal,
          JSON.stringify(counts),
        );
        return;
      }
      case 'all': {
        const { processId } = change.purge;
        overlay?.records.delete(processId);
        overlay?.counts.delete(processId);
        overlay?.touches.delete(processId);
        overlay?.leases.delete(processId);
        this.bulkReplays.drop((row) => row[0] === processId);
        for (const purge of s.purge) purge.run(processId);
        this.history?.purge(processId);
        return;
      }
    }
  }

  /**
   * Runs `work` (inside the caller's write transaction, with no savepoint that could roll
   * back part of it) with records and leases held in memory and written once at the end,
   * replay keys and versions inserted together at the end, and each change mark written
   * with its position's digest.
   */
  batch<T>(work: () => T): T {
    if (this.overlay) return work();
    this.overlay = {
      records: new Map(),
      changed: new Map(),
      touches: new Map(),
      leases: new Map(),
      counts: new Map(),
    };
    this.history?.beginBatch();
    this.digests.beginBatch();
    let done = false;
    try {
      const result = work();
      const { records, changed, touches } = this.overlay;
      for (const record of records.values()) {
        const touch = touches.get(record.id);
        if (touch) this.putProcess({ ...record, updatedAtMs: touch.updatedAtMs }, touch.position);
        else this.putProcess(record, changed.get(record.id)!);
      }
      // records put before this batch: only their updated_at moves (a no-op when none)
      for (const [processId, { updatedAtMs, position }] of touches) {
        if (!records.has(processId)) {
          this.s.touchProcess.run(updatedAtMs, sortablePosition(position), processId);
        }
      }
      for (const [processId, lease] of this.overlay.leases) {
        this.putLease(
          lease ? { table: 'leases', put: lease } : { table: 'leases', delete: { processId } },
        );
      }
      this.bulkReplays.flush();
      done = true;
      return result;
    } finally {
      this.overlay = undefined;
      if (!done) this.bulkReplays.discard();
      this.history?.endBatch(done);
      this.digests.endBatch(done);
    }
  }

  private putProcess(record: ProcessRecord, changedAt: Position): void {
    const running = record.status.state === 'running' ? 1 : 0;
    const { putProcess } = this.s;
    putProcess.run(
      record.id,
      running,
      json(record),
      record.updatedAtMs,
      sortablePosition(changedAt),
    );
  }

  private putLease(change: Extract<RowChange, { table: 'leases' }>): void {
    if ('put' in change) this.s.putLease.run(change.put.processId, json(change.put));
    else this.s.deleteLease.run(change.delete.processId);
  }

  recordTime(position: Position, recordedAtMs: number): void {
    this.history?.recordTime(position, recordedAtMs);
  }

  setCheckpoint(position: Position): void {
    this.checkpointRow.setPosition(position);
  }

  digest(): LogDigest | null {
    return this.checkpointRow.digest();
  }

  setDigest(digest: LogDigest | null): void {
    this.checkpointRow.setDigest(digest);
  }

  /**
   * Runs one append's projection, inside the append's savepoint (the last thing it does):
   * its change marks go in with their digests, and when it throws (the savepoint rolls
   * back) the checkpoint row the batch holds is put back as it was.
   */
  projectAppend(work: () => void): void {
    this.checkpointRow.savepoint(() => this.digests.holdingMarks(work));
  }

  transaction<T>(work: () => T): T {
    return this.db.transaction(() => this.checkpointRow.hold(() => this.batch(work))).immediate();
  }

  dump(): { checkpoint: Position; rows: Map<string, Json> } {
    // one read transaction: every table and the checkpoint from the same snapshot
    return this.db.transaction(() => ({ checkpoint: this.checkpoint(), rows: this.rows() }))();
  }

  private rows(): Map<string, Json> {
    const s = this.s;
    const records = this.processes('all');
    const grants = s.dumpGrants.all().map((t) => parse<ProcessHandleGrant>(t));
    const leases = s.dumpLeases.all().map((t) => parse<ProcessLease>(t));
    const events = s.dumpEvents.all().map((t) => parse<ProcessEvent>(t));
    return tableDump({
      processes: records.map((r) => [r.id, r]),
      running: s.runningIds.all().map((id) => [id, true]),
      changed: s.dumpChanged.all().map((row) => [row.id, String(positionOf(row.changedAt))]),
      grants: grants.map((g) => [`${g.scopeId} ${g.processId}`, g]),
      leases: leases.map((lease) => [lease.processId, lease]),
      wakes: s.dumpWakes.all().map((w) => [`${w.process_id} ${w.sequence}`, true]),
      events: events.map((e) => [`${e.processId} ${e.sequence}`, e]),
      replays: s.dumpReplays
        .all()
        .map((r) => [
          `${r.process_id} ${r.key}`,
          { sequence: r.sequence, payloadHash: r.payloadHash },
        ]),
    });
  }

  clear(): void {
    this.transaction(() => {
      for (const table of TABLES) this.db.exec(`DELETE FROM ${table}`);
      const versioned = [
        ...VERSIONED_TABLES,
        ...VERSION_LISTING_TABLES,
        ...(this.eventsInFile ? [] : ORDINAL_TABLES),
      ];
      if (this.history) for (const table of versioned) this.db.exec(`DELETE FROM ${table}`);
      this.setCheckpoint(START);
      this.setDigest({ digest: GENESIS_DIGEST, position: START });
    });
  }

  snapshot(processId: string): { revision: number; state: Json } | undefined {
    const row = this.s.snapshot.get(processId);
    return row && { revision: row.revision, state: JSON.parse(row.state) as Json };
  }

  /** Keeps the newest snapshot: an older one (a slower instance's) never replaces it. */
  saveSnapshot(processId: string, revision: number, state: Json): void {
    // never wait for another process's write lock on the command path: a snapshot is a
    // shortcut, the caller tries again later
    const timeout = this.db.pragma('busy_timeout', { simple: true });
    this.db.pragma('busy_timeout = 0');
    try {
      this.s.saveSnapshot.run(processId, revision, json(state));
    } finally {
      this.db.pragma(`busy_timeout = ${Number(timeout)}`);
    }
  }
}
