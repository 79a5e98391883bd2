import Database from 'better-sqlite3';
import { RegistryError } from '../domain/errors.ts';
import { sqliteFailure } from './sqlite-failures.ts';
import { resetModelsWithoutEventTypes } from './sqlite-models-upgrade.ts';
import { createTables } from './sqlite-tables-sql.ts';
import { addVersionListing } from './sqlite-version-listing.ts';
import { VERSIONED_TABLES, versionsSchema } from './sqlite-versions.ts';

/**
 * The procreg SQLite file format. `PRAGMA application_id` marks a file as procreg's, so a
 * foreign SQLite file is refused before anything is written to it; `PRAGMA user_version`
 * is the schema version, so a file from a newer procreg is refused rather than misread.
 */
export const APPLICATION_ID = 0x70726567; // "preg"
export const SCHEMA_VERSION = 5;

/**
 * Version 1 (procreg 0.1.0) held only `events`; version 2 adds the read-model tables
 * (`rm_*`, see sqlite-tables.ts) with a checkpoint at 0. Upgrading a file only creates them:
 * the registry then projects the whole log once (`InlineModels.catchUp`), with progress.
 * Version-2 models from before `rm_events` kept event types are reset the same way
 * (`resetModelsWithoutEventTypes`). Version 3 adds the listing columns (sqlite-listing.ts);
 * version 4 the log digest tables: a file whose models already held rows gets an unknown digest
 * until a rebuild; version 5 folds them and the change feed's index into the log index
 * (`addLogIndex`, sqlite-log-index.ts), keeping what they held, and counts events by type
 * from each row (`addTypeCounts`, sqlite-event-counts.ts) instead of two indexes on rm_events.
 */

/**
 * `position` is the global order: AUTOINCREMENT never reuses a rowid, and appends are
 * serialized by the write lock (BEGIN IMMEDIATE), so positions are assigned in commit order
 * and a reader that sees position p also sees every committed position below p.
 * UNIQUE(stream, revision) backs dense revisions even if a check were ever wrong, and its
 * index serves stream reads and the stream's last revision.
 */
const schema = `
  CREATE TABLE events (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    stream      TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    type        TEXT    NOT NULL,
    data        TEXT    NOT NULL,
    metadata    TEXT    NOT NULL,
    recorded_at INTEGER NOT NULL,
    event_id    TEXT    NOT NULL,
    UNIQUE (stream, revision)
  );
  CREATE UNIQUE INDEX events_event_id ON events (event_id);
`;

export interface SqliteFileOptions {
  synchronous: 'full' | 'normal';
  busyTimeoutMs: number;
}

/**
 * Opens (creating when new) a procreg database in WAL mode with the requested durability:
 * `full` syncs the WAL on every commit (an acknowledged append survives power loss);
 * `normal` only at checkpoints (it survives a process crash, not a power loss).
 */
export const openDatabase = (path: string, options: SqliteFileOptions): Database.Database => {
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: options.busyTimeoutMs });
  } catch (error) {
    if (error instanceof Database.SqliteError) {
      throw sqliteFailure(error, path, 'open', options.busyTimeoutMs);
    }
    // better-sqlite3 refuses a missing directory itself, with a TypeError
    throw new RegistryError(
      'unavailable',
      `cannot open the SQLite store ${path}: ${(error as Error).message}; create the directory or choose another path`,
      { cause: error },
    );
  }
  try {
    // Identify before changing anything: a foreign file must be left exactly as it was.
    const fresh = identify(db, path) === 'empty';
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal' && path !== ':memory:') {
      throw new RegistryError(
        'unavailable',
        `the SQLite store ${path} cannot use write-ahead logging (journal mode stays ${String(mode)}); put it on a local file system`,
      );
    }
    // Set after the journal mode: this build's default for WAL databases is NORMAL.
    db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    if (fresh || Number(db.pragma('user_version', { simple: true })) < SCHEMA_VERSION) {
      createSchema(db, path);
    }
    resetModelsWithoutEventTypes(db, { tables: VERSIONED_TABLES, schema: versionsSchema });
    addVersionListing(db);
    return db;
  } catch (error) {
    db.close();
    throw sqliteFailure(error, path, 'open', options.busyTimeoutMs);
  }
};

const identify = (db: Database.Database, path: string): 'procreg' | 'empty' => {
  const applicationId = db.pragma('application_id', { simple: true });
  const version = Number(db.pragma('user_version', { simple: true }));
  if (applicationId === APPLICATION_ID) {
    if (version > SCHEMA_VERSION) {
      throw new RegistryError(
        'invalid',
        `the SQLite store ${path} has schema version ${version}, newer than this procreg understands (${SCHEMA_VERSION}); upgrade procreg`,
      );
    }
    return 'procreg';
  }
  const objects = db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get();
  if (applicationId === 0 && objects === 0) return 'empty';
  throw new RegistryError(
    'invalid',
    `${path} is a SQLite database, but not a procreg one (application_id ${String(applicationId)}); point the store at a new file or at a procreg database`,
  );
};

/**
 * Several processes may create or upgrade the same file at once: the first one wins, under
 * the write lock; the others find the current version and change nothing.
 */
const createSchema = (db: Database.Database, path: string): void => {
  db.transaction(() => {
    const found = identify(db, path);
    const version = Number(db.pragma('user_version', { simple: true }));
    if (found === 'procreg' && version >= SCHEMA_VERSION) return;
    if (found === 'empty') db.exec(schema);
    createTables(db, versionsSchema);
    // Header fields, written in the same transaction as the tables: all or nothing.
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
};
