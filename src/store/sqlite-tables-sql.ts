import type Database from 'better-sqlite3';
import { addTypeCounts } from './sqlite-event-counts.ts';
import { addListing, listingColumns } from './sqlite-listing.ts';
import { addLogIndex } from './sqlite-log-index.ts';

/**
 * The schema of the read-model tables as schema 2 made them (see sqlite-tables.ts for what
 * each table is for); `createTables` makes them current.
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
    -- the process event's type, how many events of that type the process has up to and
    -- including this one, and of every type (sqlite-event-counts.ts: added by addTypeCounts)
    event_type   TEXT NOT NULL,
    type_ordinal INTEGER NOT NULL,
    PRIMARY KEY (process_id, sequence)
  ) WITHOUT ROWID;
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
  'rm_log',
] as const;

/**
 * Creates the read-model tables, or brings tables made by an earlier release to the current
 * ones, inside the caller's transaction: the base schema, `versions` (a store file's version
 * tables, before the listing back-fills from them), then each later addition (the listing
 * columns, the log index, counts by type), each a no-op where it is already made.
 */
export const createTables = (db: Database.Database, versions?: string): void => {
  db.exec(tablesSchema);
  if (versions) db.exec(versions);
  addListing(db);
  addLogIndex(db);
  addTypeCounts(db);
};
