import type Database from 'better-sqlite3';

/**
 * Counting a process's events by type on SQLite without an index per type: each `rm_events`
 * row keeps `type_counts`, the JSON object of how many events of each type the process has
 * up to and including that one. So "how many of type T up to sequence s" is the row at or
 * before s (one primary-key lookup), and an append writes nothing beside its own row.
 * `type_ordinal` (the row's own type's count) stays for files made before the counts.
 */

/** A process's events up to one of them, by type. */
export type TypeCounts = Record<string, number>;

export const parseTypeCounts = (text: string | null | undefined): TypeCounts =>
  text ? (JSON.parse(text) as TypeCounts) : {};

/**
 * Counts `before` (the process's event before) on to an event of `eventType`, in place:
 * `before` becomes the new event's counts. Returns that event's ordinal among its type.
 */
export const countOn = (before: TypeCounts, eventType: string): number => {
  const ordinal = (before[eventType] ?? 0) + 1;
  before[eventType] = ordinal;
  return ordinal;
};

export const countOfType = (counts: string | undefined, eventType: string): number =>
  parseTypeCounts(counts)[eventType] ?? 0;

/** Rows per statement when an upgrade fills the counts of stored events. */
const PAGE = 5_000;

/**
 * Brings `rm_events` made before the counts to them, inside the caller's transaction (a
 * no-op on current tables, and on tables without event types, which are rebuilt instead):
 * fills every row's counts in (process, sequence) order, then drops the index by type that
 * answered counts before, and the index by position that a record's `updatedAtMs` as of a
 * point was read through (it is found by a binary search on sequences now).
 */
export const addTypeCounts = (db: Database.Database): void => {
  const columns = db
    .prepare("SELECT name FROM pragma_table_info('rm_events')")
    .pluck()
    .all() as string[];
  if (!columns.includes('event_type')) return;
  if (!columns.includes('type_counts')) {
    db.exec('ALTER TABLE rm_events ADD COLUMN type_counts TEXT');
    const page = db
      .prepare(
        `SELECT process_id, sequence, event_type FROM rm_events
         WHERE (process_id, sequence) > (?, ?) ORDER BY process_id, sequence LIMIT ${PAGE}`,
      )
      .raw();
    const set = db.prepare(
      'UPDATE rm_events SET type_counts = ? WHERE process_id = ? AND sequence = ?',
    );
    let after: [string, number] = ['', 0];
    let counts: TypeCounts = {};
    for (;;) {
      const rows = page.all(...after) as [string, number, string][];
      for (const [processId, sequence, eventType] of rows) {
        if (processId !== after[0]) counts = {};
        countOn(counts, eventType);
        set.run(JSON.stringify(counts), processId, sequence);
        after = [processId, sequence];
      }
      if (rows.length < PAGE) break;
    }
  }
  db.exec(`DROP INDEX IF EXISTS rm_events_by_type; DROP INDEX IF EXISTS rm_events_by_position`);
};
