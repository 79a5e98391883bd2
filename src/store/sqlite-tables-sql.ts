import type Database from 'better-sqlite3';
import { digestsSchema } from './sqlite-digests.ts';
import { listingColumns } from './sqlite-listing.ts';
import type { RecordRow } from './sqlite-rows.ts';

/**
 * The SQL of the read-model tables: their schema and every statement `SqliteTables` runs,
 * prepared once per connection (see sqlite-tables.ts for what each table is for).
 */
export const tablesSchema = `
  CREATE TABLE IF NOT EXISTS rm_checkpoint (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    position NOT NULL -- no type: an integer, or decimal text when it exceeds 64 bits
  );
  CREATE TABLE IF NOT EXISTS rm_processes (
    id         TEXT PRIMARY KEY,
    running    INTEGER NOT NULL,
    record     TEXT NOT NULL,
    -- the record's updatedAtMs: a process event moves only this, not the record's JSON
    updated_at INTEGER NOT NULL,
    -- the worklist columns (sqlite-listing.ts; addListing adds them to older tables)
    ${listingColumns.join(',\n    ')}
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS rm_processes_running ON rm_processes (id) WHERE running = 1;
  CREATE TABLE IF NOT EXISTS rm_grants (
    scope_id   TEXT NOT NULL,
    process_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    grant_row  TEXT NOT NULL,
    PRIMARY KEY (scope_id, process_id)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS rm_grants_process ON rm_grants (process_id);
  CREATE INDEX IF NOT EXISTS rm_grants_session ON rm_grants (session_id);
  CREATE TABLE IF NOT EXISTS rm_leases (
    process_id TEXT PRIMARY KEY,
    lease      TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS rm_wakes (
    process_id TEXT NOT NULL,
    sequence   INTEGER NOT NULL,
    PRIMARY KEY (process_id, sequence)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS rm_events (
    process_id TEXT NOT NULL,
    sequence   INTEGER NOT NULL,
    position   NOT NULL, -- as rm_checkpoint.position
    event      TEXT,
    -- the process event's type, and how many events of that type the process has up to
    -- and including this one: counting by type is one index lookup (rm_events_by_type)
    event_type   TEXT NOT NULL,
    type_ordinal INTEGER NOT NULL,
    PRIMARY KEY (process_id, sequence)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS rm_events_by_type
    ON rm_events (process_id, event_type, sequence, type_ordinal);
  CREATE TABLE IF NOT EXISTS rm_replays (
    process_id   TEXT NOT NULL,
    key          TEXT NOT NULL,
    sequence     INTEGER NOT NULL,
    payload_hash TEXT NOT NULL,
    PRIMARY KEY (process_id, key)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS rm_snapshots (
    process_id TEXT PRIMARY KEY,
    revision   INTEGER NOT NULL,
    state      TEXT NOT NULL
  ) WITHOUT ROWID;
  INSERT OR IGNORE INTO rm_checkpoint (id, position) VALUES (1, 0);
  ${digestsSchema}
`;

/** Every read-model table of a file (the version tables of store files aside). */
export const TABLES = [
  'rm_processes',
  'rm_grants',
  'rm_leases',
  'rm_wakes',
  'rm_events',
  'rm_replays',
  'rm_snapshots',
] as const;

type Row<T> = Database.Statement<unknown[], T>;

interface EventRow {
  processId: string;
  sequence: number;
  position: bigint | string;
  event: string | null;
  eventType: string;
}

/** Every statement of the tables, prepared on `db`. `eventsInFile`: see SqliteTables. */
export const prepareStatements = (db: Database.Database, eventsInFile: boolean) => {
  const eventColumn = eventsInFile
    ? `(SELECT json_extract(e.data, '$.event') FROM events e WHERE e.position = m.position)`
    : 'm.event';
  const p = <T>(sql: string) => db.prepare(sql) as Row<T>;
  return {
    process: p<RecordRow>('SELECT record, updated_at AS updatedAt FROM rm_processes WHERE id = ?'),
    allProcesses: p<RecordRow>('SELECT record, updated_at AS updatedAt FROM rm_processes'),
    running: p<RecordRow>(
      'SELECT record, updated_at AS updatedAt FROM rm_processes WHERE running = 1',
    ),
    touchProcess: db.prepare('UPDATE rm_processes SET updated_at = ?, changed_at = ? WHERE id = ?'),
    grantsOfScope: p<string>('SELECT grant_row FROM rm_grants WHERE scope_id = ?').pluck(),
    grantsOfProcess: p<string>('SELECT grant_row FROM rm_grants WHERE process_id = ?').pluck(),
    hasGrant: p<number>('SELECT 1 FROM rm_grants WHERE scope_id = ? AND process_id = ?').pluck(),
    ofSession: p<string>('SELECT DISTINCT process_id FROM rm_grants WHERE session_id = ?').pluck(),
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
    typeOrdinal: p<number>(
      `SELECT type_ordinal FROM rm_events WHERE process_id = ? AND event_type = ? AND sequence <= ?
       ORDER BY sequence DESC LIMIT 1`,
    ).pluck(),
    eventAt: p<string>(
      `SELECT ${eventColumn} FROM rm_events m WHERE m.process_id = ? AND m.sequence = ?`,
    ).pluck(),
    checkpoint: p<bigint | string>('SELECT position FROM rm_checkpoint WHERE id = 1')
      .pluck()
      .safeIntegers(),
    setCheckpoint: db.prepare('UPDATE rm_checkpoint SET position = ? WHERE id = 1'),
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
    // the ordinal counts from the same type's previous event, so putting an event again
    // gives it the same ordinal
    putEvent: db.prepare<EventRow>(
      `INSERT OR REPLACE INTO rm_events
         (process_id, sequence, position, event, event_type, type_ordinal)
       VALUES (@processId, @sequence, @position, @event, @eventType, 1 + coalesce((
         SELECT type_ordinal FROM rm_events
         WHERE process_id = @processId AND event_type = @eventType AND sequence < @sequence
         ORDER BY sequence DESC LIMIT 1), 0))`,
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
};
