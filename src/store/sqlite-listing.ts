import type Database from 'better-sqlite3';
import type { ProcessQuery } from '../domain/process-list.ts';
import type { ProcessRecord } from '../domain/schemas.ts';
import { type RecordRow, recordOf } from './sqlite-rows.ts';

/**
 * Worklists on SQLite: the columns and indexes `listProcesses` reads.
 * The filter columns are virtual columns generated from the record's JSON (so the write
 * path stores nothing twice) with an index each, in list order; `changed_at` is the
 * position of the record's last change (a put or a touch), written with the row: the change
 * feed's current mark for the process (sqlite-log-index.ts).
 *
 * A filtered page reads one index range from the cursor on: its cost depends on the page
 * and on the rows the index range holds that other filters reject, never on the number of
 * processes. A grants filter (session, label) is answered through the grants' indexes.
 */
/** The filter columns of a table with a `record` column (record versions have them too). */
export const recordFilterColumns = [
  `created_at INTEGER GENERATED ALWAYS AS (json_extract(record, '$.createdAtMs')) VIRTUAL`,
  `state TEXT GENERATED ALWAYS AS (json_extract(record, '$.status.state')) VIRTUAL`,
  `input_type TEXT GENERATED ALWAYS AS (json_extract(record, '$.input.type')) VIRTUAL`,
  `owner_session TEXT GENERATED ALWAYS AS (json_extract(record, '$.provenance.ownerScope.sessionId')) VIRTUAL`,
];

export const listingColumns = [
  'changed_at', // no type: as rm_checkpoint.position, written by sortablePosition
  ...recordFilterColumns,
];

const listingIndexes = `
  CREATE INDEX IF NOT EXISTS rm_processes_created ON rm_processes (created_at, id);
  CREATE INDEX IF NOT EXISTS rm_processes_state ON rm_processes (state, created_at, id);
  CREATE INDEX IF NOT EXISTS rm_processes_terminal ON rm_processes (created_at, id) WHERE running = 0;
  CREATE INDEX IF NOT EXISTS rm_processes_owner ON rm_processes (owner_session, created_at, id);
  CREATE INDEX IF NOT EXISTS rm_processes_type ON rm_processes (input_type, created_at, id);
  CREATE INDEX IF NOT EXISTS rm_grants_label
    ON rm_grants (json_extract(grant_row, '$.descriptor.label'), process_id);
`;

/**
 * Adds the worklist columns and indexes to read-model tables made before them (store files
 * of schema 2, models files), inside the caller's transaction. `changed_at` of existing
 * rows is the last change the tables can see: the record's newest version (store files
 * keep versions) or its last process event, else the checkpoint (a follower starting from
 * an older cursor sees such a process once more, never misses it).
 */
export const addListing = (db: Database.Database): void => {
  const columns = new Set(
    db.prepare('SELECT name FROM pragma_table_xinfo(?)').pluck().all('rm_processes') as string[],
  );
  if (!columns.has('changed_at')) {
    for (const column of listingColumns) db.exec(`ALTER TABLE rm_processes ADD COLUMN ${column}`);
    const versions = db
      .prepare(`SELECT 1 FROM sqlite_schema WHERE name = 'rm_record_versions'`)
      .pluck()
      .get();
    const lastVersion = versions
      ? '(SELECT max(v.valid_from) FROM rm_record_versions v WHERE v.process_id = p.id)'
      : 'NULL';
    db.exec(`
      UPDATE rm_processes AS p SET changed_at = coalesce(
        max(
          coalesce(${lastVersion}, 0),
          coalesce((SELECT max(e.position) FROM rm_events e WHERE e.process_id = p.id), 0)
        ),
        (SELECT position FROM rm_checkpoint WHERE id = 1)
      )`);
  }
  db.exec(listingIndexes);
};

export class SqliteListing {
  /** one prepared statement per filter shape (which filters are set), made on first use */
  private readonly lists = new Map<string, Database.Statement<unknown[], RecordRow>>();

  constructor(private readonly db: Database.Database) {}

  list(query: ProcessQuery): ProcessRecord[] {
    const { filter, after, limit } = query;
    const where: string[] = [];
    const params: Record<string, unknown> = { limit };
    const add = (condition: string, name: string, value: unknown) => {
      if (value === undefined) return;
      where.push(condition);
      params[name] = value;
    };
    if (filter.status === 'terminal') where.push('p.running = 0');
    else add('p.state = @state', 'state', filter.status);
    add('p.owner_session = @owner', 'owner', filter.ownerSessionId);
    add('p.input_type = @type', 'type', filter.inputType);
    add('p.created_at >= @from', 'from', filter.createdFromMs);
    add('p.created_at < @to', 'to', filter.createdToMs);
    let from = 'rm_processes p';
    if (filter.grantedSessionId !== undefined || filter.label !== undefined) {
      // driven from the grants' index: the cost follows the session's (or label's) grants,
      // not the number of processes (CROSS JOIN keeps SQLite from reordering the loops)
      const held: string[] = [];
      if (filter.grantedSessionId !== undefined) held.push('session_id = @session');
      if (filter.label !== undefined) {
        held.push(`json_extract(grant_row, '$.descriptor.label') = @label`);
      }
      from = `(SELECT DISTINCT process_id FROM rm_grants WHERE ${held.join(' AND ')}) g
        CROSS JOIN rm_processes p ON p.id = g.process_id`;
      if (filter.grantedSessionId !== undefined) params.session = filter.grantedSessionId;
      if (filter.label !== undefined) params.label = filter.label;
    }
    if (after) {
      // a row value: one index range from the cursor on
      where.push('(p.created_at, p.id) > (@afterCreated, @afterId)');
      params.afterCreated = after.createdAtMs;
      params.afterId = after.id;
    }
    const sql = `SELECT p.record, p.updated_at AS updatedAt FROM ${from}
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY p.created_at, p.id LIMIT @limit`;
    let statement = this.lists.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql) as Database.Statement<unknown[], RecordRow>;
      this.lists.set(sql, statement);
    }
    return statement.all(params).map(recordOf);
  }
}
