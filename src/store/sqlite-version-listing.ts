import type Database from 'better-sqlite3';
import type { ProcessQuery } from '../domain/process-list.ts';
import { recordFilterColumns } from './sqlite-listing.ts';

/**
 * `listProcesses` as of a point on SQLite's versions (sqlite-versions.ts): one index range
 * in list order, as the live listing (sqlite-listing.ts) reads `rm_processes`.
 *
 * `rm_record_versions` carries the live listing's filter columns, generated from the
 * version's record (nothing stored twice), with an index per filter in list order
 * (created_at, process_id) ending in `valid_from`. A page walks one of them from the cursor
 * and keeps the versions valid at the point (`valid_from` checked in the index, `valid_to`
 * on the row): a process has one version valid at any point and a few versions in all, so
 * a page reads about `limit` × (versions per process) index entries, whatever the log's
 * length. The walk stops at the greatest `createdAtMs` of the records put up to the point
 * (`rm_created`: a row wherever that maximum grows), which no record of the point exceeds:
 * so a page that does not fill does not walk on through the processes registered after
 * the point (except those created on a clock behind the point's, when clocks disagree).
 *
 * The running filter reads the running records' R*Tree instead (a terminal process keeps a
 * running version from before its end, which a walk in list order would read and reject):
 * every record running at the point, sorted and cut in SQL. Grant filters (session, label)
 * start from the grant versions valid at the point, by an index on their session (or
 * label), generated from the grant like the record's columns: the cost follows the grants
 * that session (or label) ever had up to the point, as the live listing's follows its
 * current grants.
 */
/** The grant versions' filter columns (the live grants keep a session column of their own). */
const grantListingColumns = [
  `session_id TEXT GENERATED ALWAYS AS (json_extract(grant_row, '$.sessionId')) VIRTUAL`,
  `label TEXT GENERATED ALWAYS AS (json_extract(grant_row, '$.descriptor.label')) VIRTUAL`,
];

const versionListingIndexes = `
  CREATE INDEX IF NOT EXISTS rm_record_versions_list
    ON rm_record_versions (created_at, process_id, valid_from);
  CREATE INDEX IF NOT EXISTS rm_record_versions_state
    ON rm_record_versions (state, created_at, process_id, valid_from);
  CREATE INDEX IF NOT EXISTS rm_record_versions_terminal
    ON rm_record_versions (created_at, process_id, valid_from) WHERE running = 0;
  CREATE INDEX IF NOT EXISTS rm_record_versions_owner
    ON rm_record_versions (owner_session, created_at, process_id, valid_from);
  CREATE INDEX IF NOT EXISTS rm_record_versions_type
    ON rm_record_versions (input_type, created_at, process_id, valid_from);
`;

/** The running maximum of `createdAtMs` along the versions, by coordinate (see above). */
const createdSchema = `
  CREATE INDEX IF NOT EXISTS rm_grant_versions_session
    ON rm_grant_versions (session_id, valid_from);
  CREATE INDEX IF NOT EXISTS rm_grant_versions_label ON rm_grant_versions (label, valid_from);
  CREATE TABLE IF NOT EXISTS rm_created (
    position    INTEGER PRIMARY KEY,
    created_max INTEGER NOT NULL
  );
`;

/** Tables the listing adds beside the versions (emptied with them). */
export const VERSION_LISTING_TABLES = ['rm_created'] as const;

/**
 * Adds the listing's columns, indexes and `rm_created` to the version tables (made without
 * them, or before them), under the write lock (several processes opening one file: the
 * first adds them); returns at once, without the lock, when they are there. `rm_created` is
 * filled from the versions already there.
 */
export const addVersionListing = (db: Database.Database): void => {
  const present = () =>
    (
      db
        .prepare('SELECT name FROM pragma_table_xinfo(?)')
        .pluck()
        .all('rm_record_versions') as string[]
    ).includes('created_at');
  if (present()) return;
  db.transaction(() => {
    if (present()) return;
    for (const column of recordFilterColumns) {
      db.exec(`ALTER TABLE rm_record_versions ADD COLUMN ${column}`);
    }
    for (const column of grantListingColumns) {
      db.exec(`ALTER TABLE rm_grant_versions ADD COLUMN ${column}`);
    }
    db.exec(versionListingIndexes + createdSchema);
    db.exec(`INSERT OR REPLACE INTO rm_created (position, created_max)
      SELECT valid_from, created_at FROM (
        SELECT valid_from, created_at, max(created_at) OVER (
          ORDER BY valid_from, id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before
        FROM rm_record_versions)
      WHERE before IS NULL OR created_at > before`);
  }).immediate();
};

/** A record version: the record as it was when the version began, and that coordinate. */
export interface ListedVersion {
  record: string;
  since: number;
}

export class SqliteVersionListing {
  /** one prepared statement per filter shape (which filters are set), made on first use */
  private readonly lists = new Map<string, Database.Statement<unknown[], ListedVersion>>();
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      lastCreated: db
        .prepare('SELECT created_max FROM rm_created ORDER BY position DESC LIMIT 1')
        .pluck() as Database.Statement<[], number>,
      insertCreated: db.prepare('INSERT INTO rm_created (position, created_max) VALUES (?, ?)'),
    };
  }

  /**
   * Notes a version's `createdAtMs`, begun at coordinate `at`, when it is the greatest yet:
   * `rm_created` then holds, for every coordinate, the greatest `createdAtMs` of the records
   * put up to it (both columns grow together: versions begin in log order).
   */
  put(createdAtMs: number, at: number): void {
    const max = this.s.lastCreated.get();
    if (max === undefined || createdAtMs > max) this.s.insertCreated.run(at, createdAtMs);
  }

  /** The versions valid at coordinate `at` that make the page, in list order. */
  list(at: number, query: ProcessQuery): ListedVersion[] {
    const { filter, after, limit } = query;
    const granted = filter.grantedSessionId !== undefined || filter.label !== undefined;
    const running = filter.status === 'running' && !granted;
    const where: string[] = [];
    const params: Record<string, unknown> = { at, limit };
    const add = (condition: string, name: string, value: unknown) => {
      if (value === undefined) return;
      where.push(condition);
      params[name] = value;
    };
    if (filter.status === 'terminal') where.push('v.running = 0');
    else if (filter.status === 'running') where.push('v.running = 1');
    else add('v.state = @state', 'state', filter.status);
    add('v.owner_session = @owner', 'owner', filter.ownerSessionId);
    add('v.input_type = @type', 'type', filter.inputType);
    add('v.created_at >= @from', 'from', filter.createdFromMs);
    add('v.created_at < @to', 'to', filter.createdToMs);
    if (after) {
      where.push('(v.created_at, v.process_id) > (@afterCreated, @afterId)');
      params.afterCreated = after.createdAtMs;
      params.afterId = after.id;
    }
    let from: string;
    if (granted) {
      // driven from the grants valid at the point (their session's or label's index): the
      // cost follows those grants, as the live listing's does (CROSS JOIN keeps the order)
      const held = ['valid_from <= @at', '(valid_to IS NULL OR valid_to > @at)'];
      if (filter.grantedSessionId !== undefined) held.push('session_id = @session');
      if (filter.label !== undefined) held.push('label = @label');
      if (filter.grantedSessionId !== undefined) params.session = filter.grantedSessionId;
      if (filter.label !== undefined) params.label = filter.label;
      from = `(SELECT DISTINCT process_id FROM rm_grant_versions WHERE ${held.join(' AND ')}) g
        CROSS JOIN rm_record_versions v ON v.process_id = g.process_id`;
      where.push('v.valid_from <= @at', '(v.valid_to IS NULL OR v.valid_to > @at)');
    } else if (running) {
      from = `rm_running_spans s JOIN rm_record_versions v ON v.id = s.id`;
      where.push('s.valid_from <= @at', 's.valid_to > @at');
    } else {
      from = 'rm_record_versions v';
      where.push('v.valid_from <= @at', '(v.valid_to IS NULL OR v.valid_to > @at)');
      // no bound (no record put by then): no record either
      where.push(`v.created_at <= coalesce((SELECT created_max FROM rm_created
        WHERE position <= @at ORDER BY position DESC LIMIT 1), -9e15)`);
    }
    const sql = `SELECT v.record, v.valid_from AS since FROM ${from} WHERE ${where.join(' AND ')}
      ORDER BY v.created_at, v.process_id LIMIT @limit`;
    let statement = this.lists.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql) as Database.Statement<unknown[], ListedVersion>;
      this.lists.set(sql, statement);
    }
    return statement.all(params);
  }
}
