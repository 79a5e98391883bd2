import type Database from 'better-sqlite3';
import { GENESIS_DIGEST } from '../domain/integrity.ts';
import { createTables, TABLES } from './sqlite-tables-sql.ts';

/**
 * Read models written before `rm_events` kept each event's type and type ordinal (files of
 * schema 2 from before `countEvents`) cannot answer counts by type: they are emptied and
 * their checkpoint reset, so the registry projects the log again when it opens, as it does
 * for a file of procreg 0.1. Checked under the write lock, so of several processes opening
 * one file only the first resets them. `versioned`: the file's version tables and their schema
 * (store files), emptied and re-created with the rest. Returns whether it reset the models.
 */
export const resetModelsWithoutEventTypes = (
  db: Database.Database,
  versioned?: { tables: readonly string[]; schema: string },
): boolean => {
  // read first, so opening a current file never takes the write lock
  if (!outdated(db)) return false;
  return db
    .transaction(() => {
      if (!outdated(db)) return false;
      db.exec('DROP TABLE rm_events');
      for (const table of [...TABLES, ...(versioned?.tables ?? [])]) {
        if (table !== 'rm_events') db.exec(`DELETE FROM ${table}`);
      }
      createTables(db, versioned?.schema);
      db.exec(
        `UPDATE rm_checkpoint SET position = 0, digest = '${GENESIS_DIGEST}', digest_position = 0 WHERE id = 1`,
      );
      return true;
    })
    .immediate();
};

/** `rm_events` exists without the event type column. */
const outdated = (db: Database.Database): boolean => {
  const columns = db
    .prepare<[], string>("SELECT name FROM pragma_table_info('rm_events')")
    .pluck()
    .all();
  return columns.length > 0 && !columns.includes('event_type');
};
