import type Database from 'better-sqlite3';

/** Rows per multi-row INSERT: 64 × a few columns stays far below SQLite's variable limit. */
const ROWS_PER_STATEMENT = 64;

/**
 * Rows of one table collected during a batch and inserted many per statement when it
 * ends: one statement run (bind, step, reset) per 64 rows instead of per row. Rows go in
 * in the order they were added, so `OR REPLACE` keeps the last of a key and `OR IGNORE`
 * the first, exactly as one statement per row would.
 */
export class BulkInsert {
  private rows: unknown[][] = [];
  private readonly one: Database.Statement;
  private readonly many: Database.Statement;

  constructor(
    db: Database.Database,
    /** e.g. `INSERT OR REPLACE INTO rm_events (process_id, sequence, position, event)` */
    insert: string,
    columns: number,
  ) {
    const row = `(${Array.from({ length: columns }, () => '?').join(', ')})`;
    this.one = db.prepare(`${insert} VALUES ${row}`);
    this.many = db.prepare(
      `${insert} VALUES ${Array.from({ length: ROWS_PER_STATEMENT }, () => row).join(', ')}`,
    );
  }

  add(row: unknown[]): void {
    this.rows.push(row);
  }

  /** Inserts every row added since the last flush (inside the caller's transaction). */
  flush(): void {
    const rows = this.rows;
    this.rows = [];
    let i = 0;
    for (; i + ROWS_PER_STATEMENT <= rows.length; i += ROWS_PER_STATEMENT) {
      this.many.run(rows.slice(i, i + ROWS_PER_STATEMENT).flat());
    }
    for (; i < rows.length; i++) this.one.run(rows[i]);
  }

  /** Forgets the rows `which` picks (their process was pruned). */
  drop(which: (row: unknown[]) => boolean): void {
    this.rows = this.rows.filter((row) => !which(row));
  }

  /** Forgets the rows (their batch was rolled back). */
  discard(): void {
    this.rows = [];
  }
}
