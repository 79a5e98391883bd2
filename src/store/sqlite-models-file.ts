import Database from 'better-sqlite3';
import { RegistryError } from '../domain/errors.ts';
import { GENESIS_DIGEST } from '../domain/integrity.ts';
import { sqliteFailure } from './sqlite-failures.ts';
import { resetModelsWithoutEventTypes } from './sqlite-models-upgrade.ts';
import { ordinalsSchema } from './sqlite-ordinals.ts';
import { SqliteTables } from './sqlite-tables.ts';
import { createTables, TABLES } from './sqlite-tables-sql.ts';
import { addVersionListing } from './sqlite-version-listing.ts';
import { versionsSchema } from './sqlite-versions.ts';

/** `PRAGMA application_id` of a models-only file ("prmd"): never mistaken for a store. */
export const MODELS_APPLICATION_ID = 0x70726d64;

/**
 * A SQLite file that holds only the read models of a store that keeps none itself
 * (EventStoreDB): the same tables as a SQLite store, with the process events copied in,
 * and a checkpoint in the source's log, so a restart reads only what is new. The file
 * names its source: pointing it at another store would pair a checkpoint with the wrong
 * log, so that is refused. For a store that keeps no versions (EventStoreDB) it keeps the
 * versions of its rows too (for `asOf`), spanning log ordinals rather than the source's
 * positions (sqlite-ordinals.ts).
 *
 * Durability: synchronous=NORMAL. The models are derived data and their checkpoint commits
 * with them, so a power loss can only lose a tail that is read again from the source.
 */
export const openModelsFile = (
  path: string,
  source: string,
  /** keep versions for `asOf` (false: the store keeps its own, as PostgreSQL does) */
  { versions }: { versions: boolean },
): { tables: SqliteTables; close(): void } => {
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: 5_000 });
  } catch (error) {
    throw new RegistryError(
      'unavailable',
      `cannot open the read-models file ${path}: ${(error as Error).message}; create its directory or choose another path`,
      { cause: error },
    );
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.transaction(() => {
      const id = db.pragma('application_id', { simple: true });
      const objects = db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get();
      if (id === 0 && objects === 0) {
        createTables(db, versions ? versionsSchema + ordinalsSchema : undefined);
        db.exec('CREATE TABLE rm_source (id INTEGER PRIMARY KEY CHECK (id = 1), source TEXT)');
        db.prepare('INSERT INTO rm_source (id, source) VALUES (1, ?)').run(source);
        db.pragma(`application_id = ${MODELS_APPLICATION_ID}`);
        if (versions) addVersionListing(db);
        return;
      }
      if (id !== MODELS_APPLICATION_ID) {
        throw new RegistryError(
          'invalid',
          `${path} is not a procreg read-models file; name a new file for readModels=`,
        );
      }
      const known = db.prepare('SELECT source FROM rm_source').pluck().get();
      if (known !== source) {
        throw new RegistryError(
          'invalid',
          `the read-models file ${path} follows ${String(known)}, not ${source}; name another file (or delete it to rebuild)`,
        );
      }
      createTables(db);
      if (versions) {
        addVersions(db);
        addVersionListing(db);
      }
    }).immediate();
    resetModelsWithoutEventTypes(db);
  } catch (error) {
    db.close();
    throw sqliteFailure(error, path, 'open', 5_000);
  }
  const tables = new SqliteTables(db, false, versions ? 'ordinals' : undefined);
  return { tables, close: () => db.close() };
};

/**
 * Models files made before they kept versions: the versions of the past can only come from
 * the log, so the tables are emptied and the checkpoint and digest reset (inside the
 * caller's transaction, so of several processes opening the file only the first does it);
 * the registry projects the log again when it opens.
 */
const addVersions = (db: Database.Database): void => {
  const present = db.prepare(`SELECT 1 FROM sqlite_schema WHERE name = 'rm_ordinals'`).pluck();
  if (present.get() !== undefined) return;
  db.exec(versionsSchema + ordinalsSchema);
  for (const table of TABLES) db.exec(`DELETE FROM ${table}`);
  db.prepare(
    'UPDATE rm_checkpoint SET position = 0, digest = ?, digest_position = 0 WHERE id = 1',
  ).run(GENESIS_DIGEST);
};
