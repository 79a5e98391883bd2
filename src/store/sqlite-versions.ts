import type Database from 'better-sqlite3';
import { deepFreeze } from '../domain/freeze.ts';
import { byCodeUnits } from '../domain/order.ts';
import type { ProcessQuery } from '../domain/process-list.ts';
import type { ProcessHandleGrant, ProcessLease, ProcessRecord } from '../domain/schemas.ts';
import type { Position } from './port.ts';
import type { SqliteOrdinals } from './sqlite-ordinals.ts';
import { type BatchedVersion, VersionBatch } from './sqlite-version-batch.ts';
import { SqliteVersionListing } from './sqlite-version-listing.ts';

/*
 * Over 300 lines: the versioned schema, the statements on it and the class that writes and
 * reads it belong together (each method a lookup or two); a batch's pending versions are
 * kept in sqlite-version-batch.ts.
 */

/**
 * System-versioned read models (in the manner of SQL:2011): every version of a process
 * record and of a handle grant, with the range of the log in which it held, [valid_from,
 * valid_to) in positions, written in the same transaction as the current rows. "As of
 * position p" is then an index lookup:
 * - records alive at p come from an R*Tree over their spans (a stabbing query:
 *   O(log versions + answer)), the running ones from a second R*Tree of their own;
 * - a scope's grants at p from an index by (scope, valid_from);
 * - a page of processes at p from an index in list order (sqlite-version-listing.ts).
 * A record gets a new version when it is registered, changes status or gets an external
 * ref; a process event only moves `updatedAtMs`, which is read back from the process's
 * last event at or before p instead of copying the record for every event.
 *
 * `rm_time` maps the registry clock to positions: a row whenever the running maximum of
 * `recordedAtMs` along the log grows, so "as of time t" is the longest prefix of the log
 * whose events were all recorded at or before t (one index lookup).
 *
 * R*Tree coordinates are 32-bit: SQLite stores keep positions below 2^31. A models file
 * (EventStoreDB's 128-bit positions) measures spans and `rm_time` in log ordinals instead
 * (sqlite-ordinals.ts): "as of p" is then the ordinal of the last event applied at or
 * before p, one more index lookup.
 */
export const versionsSchema = `
  CREATE TABLE IF NOT EXISTS rm_record_versions (
    id         INTEGER PRIMARY KEY,
    process_id TEXT NOT NULL,
    running    INTEGER NOT NULL,
    record     TEXT NOT NULL,
    valid_from INTEGER NOT NULL,
    valid_to   INTEGER
  );
  CREATE INDEX IF NOT EXISTS rm_record_versions_current
    ON rm_record_versions (process_id) WHERE valid_to IS NULL;
  CREATE VIRTUAL TABLE IF NOT EXISTS rm_record_spans USING rtree_i32(id, valid_from, valid_to);
  CREATE VIRTUAL TABLE IF NOT EXISTS rm_running_spans USING rtree_i32(id, valid_from, valid_to);
  CREATE TABLE IF NOT EXISTS rm_grant_versions (
    id         INTEGER PRIMARY KEY,
    scope_id   TEXT NOT NULL,
    process_id TEXT NOT NULL,
    grant_row  TEXT NOT NULL,
    valid_from INTEGER NOT NULL,
    valid_to   INTEGER
  );
  CREATE INDEX IF NOT EXISTS rm_grant_versions_current
    ON rm_grant_versions (scope_id, process_id) WHERE valid_to IS NULL;
  CREATE INDEX IF NOT EXISTS rm_grant_versions_scope ON rm_grant_versions (scope_id, valid_from);
  CREATE INDEX IF NOT EXISTS rm_grant_versions_process ON rm_grant_versions (process_id, valid_from);
  CREATE TABLE IF NOT EXISTS rm_lease_versions (
    id         INTEGER PRIMARY KEY,
    process_id TEXT NOT NULL,
    lease      TEXT NOT NULL,
    valid_from INTEGER NOT NULL,
    valid_to   INTEGER
  );
  CREATE INDEX IF NOT EXISTS rm_lease_versions_current
    ON rm_lease_versions (process_id) WHERE valid_to IS NULL;
  CREATE VIRTUAL TABLE IF NOT EXISTS rm_lease_spans USING rtree_i32(id, valid_from, valid_to);
  CREATE TABLE IF NOT EXISTS rm_time (
    recorded_max INTEGER PRIMARY KEY,
    position     INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS rm_record_versions_process ON rm_record_versions (process_id);
  CREATE INDEX IF NOT EXISTS rm_lease_versions_process ON rm_lease_versions (process_id);
`;

/** The open end of a span in the R*Trees. */
const OPEN = 2 ** 31 - 1;

export const VERSIONED_TABLES = [
  'rm_record_versions',
  'rm_record_spans',
  'rm_running_spans',
  'rm_grant_versions',
  'rm_lease_versions',
  'rm_lease_spans',
  'rm_time',
] as const;

const parse = <T>(text: string): T => deepFreeze(JSON.parse(text) as T);

/** Unambiguous for any two strings. */
const grantKey = (scopeId: string, processId: string): string =>
  JSON.stringify([scopeId, processId]);

/** A record version: the record as it was when the version began, and that position. */
interface VersionRow {
  record: string;
  since: number;
}

interface RecordValue {
  processId: string;
  running: boolean;
  record: string;
}
interface GrantValue {
  scopeId: string;
  processId: string;
  grant: string;
}
interface LeaseValue {
  processId: string;
  lease: string;
}

export class SqliteVersions {
  private readonly s;
  private readonly listing: SqliteVersionListing;
  /**
   * Running maximum of recordedAtMs, kept only while a batch runs (a catch-up chunk):
   * between transactions another process may have moved it.
   */
  private cachedMax: number | undefined;
  /** While a batch runs: the versions it began, inserted when it ends (see VersionBatch). */
  private batch:
    | {
        records: VersionBatch<RecordValue>;
        grants: VersionBatch<GrantValue>;
        leases: VersionBatch<LeaseValue>;
      }
    | undefined;

  /** `ordinals`: spans are measured in log ordinals (a models file), else in positions. */
  constructor(
    db: Database.Database,
    private readonly ordinals?: SqliteOrdinals,
  ) {
    const p = <T>(sql: string) => db.prepare(sql) as Database.Statement<unknown[], T>;
    this.listing = new SqliteVersionListing(db);
    this.s = {
      currentRecord: p<number>(
        'SELECT id FROM rm_record_versions WHERE process_id = ? AND valid_to IS NULL',
      ).pluck(),
      closeRecord: db.prepare('UPDATE rm_record_versions SET valid_to = ? WHERE id = ?'),
      closeRecordSpan: db.prepare('UPDATE rm_record_spans SET valid_to = ? WHERE id = ?'),
      closeRunningSpan: db.prepare('UPDATE rm_running_spans SET valid_to = ? WHERE id = ?'),
      insertRecord: db.prepare(
        'INSERT INTO rm_record_versions (process_id, running, record, valid_from, valid_to) VALUES (?, ?, ?, ?, ?)',
      ),
      insertRecordSpan: db.prepare(
        'INSERT INTO rm_record_spans (id, valid_from, valid_to) VALUES (?, ?, ?)',
      ),
      insertRunningSpan: db.prepare(
        'INSERT INTO rm_running_spans (id, valid_from, valid_to) VALUES (?, ?, ?)',
      ),
      currentGrant: p<number>(
        'SELECT id FROM rm_grant_versions WHERE scope_id = ? AND process_id = ? AND valid_to IS NULL',
      ).pluck(),
      closeGrant: db.prepare('UPDATE rm_grant_versions SET valid_to = ? WHERE id = ?'),
      insertGrant: db.prepare(
        'INSERT INTO rm_grant_versions (scope_id, process_id, grant_row, valid_from, valid_to) VALUES (?, ?, ?, ?, ?)',
      ),
      currentLease: p<number>(
        'SELECT id FROM rm_lease_versions WHERE process_id = ? AND valid_to IS NULL',
      ).pluck(),
      closeLease: db.prepare('UPDATE rm_lease_versions SET valid_to = ? WHERE id = ?'),
      closeLeaseSpan: db.prepare('UPDATE rm_lease_spans SET valid_to = ? WHERE id = ?'),
      insertLease: db.prepare(
        'INSERT INTO rm_lease_versions (process_id, lease, valid_from, valid_to) VALUES (?, ?, ?, ?)',
      ),
      insertLeaseSpan: db.prepare(
        'INSERT INTO rm_lease_spans (id, valid_from, valid_to) VALUES (?, ?, ?)',
      ),
      leasesAt: p<string>(
        `SELECT v.lease FROM rm_lease_spans s JOIN rm_lease_versions v ON v.id = s.id
         WHERE s.valid_from <= @a AND s.valid_to > @a`,
      ).pluck(),
      maxTime: p<number | null>('SELECT max(recorded_max) FROM rm_time').pluck(),
      insertTime: db.prepare('INSERT INTO rm_time (recorded_max, position) VALUES (?, ?)'),
      // one statement: the maximum is not read into JavaScript first
      insertLaterTime: db.prepare(
        `INSERT INTO rm_time (recorded_max, position) SELECT @t, @p
         WHERE NOT EXISTS (SELECT 1 FROM rm_time WHERE recorded_max >= @t)`,
      ),
      firstAfter: p<number>(
        'SELECT position FROM rm_time WHERE recorded_max > ? ORDER BY recorded_max LIMIT 1',
      ).pluck(),
      recordsAt: p<VersionRow>(
        `SELECT v.record, v.valid_from AS since FROM rm_record_spans s
         JOIN rm_record_versions v ON v.id = s.id WHERE s.valid_from <= @a AND s.valid_to > @a`,
      ),
      runningAt: p<VersionRow>(
        `SELECT v.record, v.valid_from AS since FROM rm_running_spans s
         JOIN rm_record_versions v ON v.id = s.id WHERE s.valid_from <= @a AND s.valid_to > @a`,
      ),
      recordAt: p<VersionRow>(
        `SELECT record, valid_from AS since FROM rm_record_versions WHERE process_id = @a
         AND valid_from <= @b AND (valid_to IS NULL OR valid_to > @b)`,
      ),
      lastSequence: p<number | null>(
        'SELECT max(sequence) FROM rm_events WHERE process_id = ?',
      ).pluck(),
      positionOf: p<number>(
        'SELECT position FROM rm_events WHERE process_id = ? AND sequence = ?',
      ).pluck(),
      // a store file's events (a models file reads its touches instead: sqlite-ordinals.ts)
      occurredAt: ordinals
        ? undefined
        : p<number>(
            `SELECT json_extract(data, '$.event.occurredAtMs') FROM events WHERE position = ?`,
          ).pluck(),
      purge: [
        'DELETE FROM rm_record_spans WHERE id IN (SELECT id FROM rm_record_versions WHERE process_id = ?)',
        'DELETE FROM rm_running_spans WHERE id IN (SELECT id FROM rm_record_versions WHERE process_id = ?)',
        'DELETE FROM rm_record_versions WHERE process_id = ?',
        'DELETE FROM rm_grant_versions WHERE process_id = ?',
        'DELETE FROM rm_lease_spans WHERE id IN (SELECT id FROM rm_lease_versions WHERE process_id = ?)',
        'DELETE FROM rm_lease_versions WHERE process_id = ?',
      ].map((sql) => db.prepare(sql)),
      grantsAt: p<string>(
        `SELECT grant_row FROM rm_grant_versions WHERE scope_id = @a AND valid_from <= @b
         AND (valid_to IS NULL OR valid_to > @b)`,
      ).pluck(),
    };
  }

  /** A new version of a record at `position` (a touch of `updatedAtMs` makes none). */
  putRecord(record: ProcessRecord, position: Position): void {
    const at = this.coordinate(position);
    this.closeRecord(record.id, at);
    this.listing.put(record.createdAtMs, at);
    const running = record.status.state === 'running';
    const value = { processId: record.id, running, record: JSON.stringify(record) };
    if (this.batch) this.batch.records.begin(record.id, value, at);
    else this.insertRecord({ value, from: at, to: undefined });
  }

  private closeRecord(processId: string, at: number): void {
    if (this.batch?.records.end(processId, at)) return;
    const current = this.s.currentRecord.get(processId);
    if (current === undefined) return;
    this.s.closeRecord.run(at, current);
    this.s.closeRecordSpan.run(at, current);
    this.s.closeRunningSpan.run(at, current);
  }

  /**
   * Retention: every version of the process's record, grants and leases goes with it, so
   * the past shows a pruned process nowhere (`asOf` names it among the pruned instead).
   */
  purge(processId: string): void {
    for (const statement of this.s.purge) statement.run(processId);
    this.batch?.records.drop((key) => key === processId);
    this.batch?.leases.drop((key) => key === processId);
    this.batch?.grants.drop((key) => (JSON.parse(key) as string[])[1] === processId);
    this.ordinals?.purge(processId);
  }

  /** Where a span starts or ends for the event at `position`. */
  private coordinate(position: Position): number {
    return this.ordinals ? this.ordinals.of(position) : Number(position);
  }

  /** The coordinate "as of `position`" reads at: every event at or before it applied. */
  pointAt(position: Position): number {
    return this.ordinals ? this.ordinals.atOrBefore(position) : Number(position);
  }

  /** A process event that made no version moved the record's `updatedAtMs`. */
  touch(processId: string, updatedAtMs: number, position: Position): void {
    // a store file reads it back from its process events (see asOf)
    this.ordinals?.touch(processId, updatedAtMs, position);
  }

  private insertRecord({ value, from, to }: BatchedVersion<RecordValue>): void {
    const { processId, running, record } = value;
    const id = this.s.insertRecord.run(
      processId,
      running ? 1 : 0,
      record,
      from,
      to ?? null,
    ).lastInsertRowid;
    this.s.insertRecordSpan.run(id, from, to ?? OPEN);
    if (running) this.s.insertRunningSpan.run(id, from, to ?? OPEN);
  }

  putGrant(grant: ProcessHandleGrant, position: Position): void {
    this.deleteGrant(grant.scopeId, grant.processId, position);
    const value = {
      scopeId: grant.scopeId,
      processId: grant.processId,
      grant: JSON.stringify(grant),
    };
    const at = this.coordinate(position);
    if (this.batch) this.batch.grants.begin(grantKey(grant.scopeId, grant.processId), value, at);
    else this.insertGrant({ value, from: at, to: undefined });
  }

  deleteGrant(scopeId: string, processId: string, position: Position): void {
    const at = this.coordinate(position);
    if (this.batch?.grants.end(grantKey(scopeId, processId), at)) return;
    const current = this.s.currentGrant.get(scopeId, processId);
    if (current !== undefined) this.s.closeGrant.run(at, current);
  }

  private insertGrant({ value, from, to }: BatchedVersion<GrantValue>): void {
    this.s.insertGrant.run(value.scopeId, value.processId, value.grant, from, to ?? null);
  }

  putLease(lease: ProcessLease, position: Position): void {
    this.deleteLease(lease.processId, position);
    const at = this.coordinate(position);
    const value = { processId: lease.processId, lease: JSON.stringify(lease) };
    if (this.batch) this.batch.leases.begin(lease.processId, value, at);
    else this.insertLease({ value, from: at, to: undefined });
  }

  deleteLease(processId: string, position: Position): void {
    const at = this.coordinate(position);
    if (this.batch?.leases.end(processId, at)) return;
    const current = this.s.currentLease.get(processId);
    if (current === undefined) return;
    this.s.closeLease.run(at, current);
    this.s.closeLeaseSpan.run(at, current);
  }

  private insertLease({ value, from, to }: BatchedVersion<LeaseValue>): void {
    const id = this.s.insertLease.run(
      value.processId,
      value.lease,
      from,
      to ?? null,
    ).lastInsertRowid;
    this.s.insertLeaseSpan.run(id, from, to ?? OPEN);
  }

  /** Every stored lease (possibly expired) as of coordinate `at` (`pointAt`), by process id. */
  leasesAt(at: number): ProcessLease[] {
    return this.s.leasesAt
      .all({ a: at })
      .map((text) => parse<ProcessLease>(text))
      .sort((a, b) => byCodeUnits(a.processId, b.processId));
  }

  /** Notes when the log's clock moved past everything before `position`. */
  recordTime(position: Position, recordedAtMs: number): void {
    const at = this.coordinate(position);
    if (!this.batch) {
      this.s.insertLaterTime.run({ t: recordedAtMs, p: at });
      return;
    }
    const max = this.cachedMax ?? this.s.maxTime.get() ?? Number.NEGATIVE_INFINITY;
    if (recordedAtMs > max) this.s.insertTime.run(recordedAtMs, at);
    this.cachedMax = Math.max(max, recordedAtMs);
  }

  /**
   * Starts a batch: until `endBatch`, versions are held in memory and the clock's maximum
   * is kept rather than read (between transactions another process may move both).
   */
  beginBatch(): void {
    this.batch = {
      records: new VersionBatch(),
      grants: new VersionBatch(),
      leases: new VersionBatch(),
    };
    this.cachedMax = undefined;
    this.ordinals?.beginBatch();
  }

  /** Inserts the batch's versions (`write`), or drops them with the rolled-back batch. */
  endBatch(write: boolean): void {
    const batch = this.batch;
    this.batch = undefined;
    this.cachedMax = undefined;
    this.ordinals?.endBatch();
    if (!batch || !write) return;
    for (const version of batch.records.take()) this.insertRecord(version);
    for (const version of batch.grants.take()) this.insertGrant(version);
    for (const version of batch.leases.take()) this.insertLease(version);
  }

  /** The last position of the longest log prefix recorded at or before `timeMs`, or undefined: all of it. */
  prefixAt(timeMs: number): Position | undefined {
    const first = this.s.firstAfter.get(timeMs);
    if (first === undefined) return undefined;
    return (this.ordinals ? this.ordinals.position(first) : BigInt(first)) - 1n;
  }

  /** Every process record (or the running ones) as of coordinate `at` (`pointAt`), by id. */
  recordsAt(at: number, which: 'all' | 'running'): ProcessRecord[] {
    const rows = (which === 'all' ? this.s.recordsAt : this.s.runningAt).all({ a: at });
    return rows.map((row) => this.asOf(row, at)).sort((a, b) => byCodeUnits(a.id, b.id));
  }

  /** A page of `listProcesses` as of coordinate `at`, by index (sqlite-version-listing.ts). */
  listAt(at: number, query: ProcessQuery): ProcessRecord[] {
    return this.listing.list(at, query).map((row) => this.asOf(row, at));
  }

  recordAt(processId: string, at: number): ProcessRecord | undefined {
    const row = this.s.recordAt.get({ a: processId, b: at });
    return row && this.asOf(row, at);
  }

  grantsOfScopeAt(scopeId: string, at: number): ProcessHandleGrant[] {
    return this.s.grantsAt
      .all({ a: scopeId, b: at })
      .map((text) => parse<ProcessHandleGrant>(text))
      .sort((a, b) => byCodeUnits(a.processId, b.processId));
  }

  /**
   * A version holds `updatedAtMs` as of its start; a process event after that start (and
   * at or before the point) set it to the event's occurredAtMs.
   */
  private asOf(row: VersionRow, at: number): ProcessRecord {
    const record = JSON.parse(row.record) as ProcessRecord;
    if (this.ordinals) {
      const touch = this.ordinals.lastTouch(record.id, at);
      if (touch && touch.ordinal >= row.since) record.updatedAtMs = touch.updatedAtMs;
      return deepFreeze(record);
    }
    const last = this.lastEventAt(record.id, at);
    if (last !== undefined && last >= row.since) {
      record.updatedAtMs = this.s.occurredAt?.get(last) ?? record.updatedAtMs;
    }
    return deepFreeze(record);
  }

  /**
   * The position of the process's last event at or before `at`. A process's events are
   * dense in sequence from 1 and their positions grow with it, so a binary search over
   * sequences finds it in O(log events) primary-key lookups, with no index by position to
   * keep on every append; the common case (no event after `at`) is two lookups.
   */
  private lastEventAt(processId: string, at: number): number | undefined {
    const { lastSequence, positionOf } = this.s;
    const position = (sequence: number) => positionOf.get(processId, sequence)!;
    let high = lastSequence.get(processId) ?? 0;
    if (high === 0) return undefined;
    if (position(high) <= at) return position(high);
    let low = 1;
    if (position(low) > at) return undefined;
    // invariant: position(low) <= at < position(high)
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (position(middle) <= at) low = middle;
      else high = middle;
    }
    return position(low);
  }
}
