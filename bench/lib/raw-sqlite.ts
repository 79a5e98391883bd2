import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { FIXED_NOW } from './fixtures.ts';
import { nowMs, type Timed } from './measure.ts';

/** A stored row of the `events` table, as the adapter wrote it. */
export interface RawRow {
  stream: string;
  type: string;
  data: string;
  metadata: string;
}

/** Rows the registry wrote, to insert again raw: same streams, types and JSON text. */
export const rowsWritten = (path: string, type: string, limit: number): RawRow[] => {
  const db = new Database(path, { readonly: true });
  try {
    return db
      .prepare<[string, number], RawRow>(
        'SELECT stream, type, data, metadata FROM events WHERE type = ? ORDER BY position LIMIT ?',
      )
      .all(type, limit);
  } finally {
    db.close();
  }
};

/**
 * The physical floor of an append: better-sqlite3 inserting one row per `BEGIN IMMEDIATE`
 * transaction into a file made by the adapter's own `openDatabase` (same schema, indexes,
 * WAL and synchronous pragma). No revision check, no JSON work, no event loop in between.
 */
export class RawInserter {
  private readonly insert: Database.Statement<
    [string, number, string, string, string, number, string]
  >;
  private readonly insertOne: Database.Transaction<(row: RawRow) => void>;
  private readonly revisions = new Map<string, number>();

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare(
      `INSERT INTO events (stream, revision, type, data, metadata, recorded_at, event_id)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertOne = db.transaction((row: RawRow) => {
      const revision = (this.revisions.get(row.stream) ?? -1) + 1;
      this.revisions.set(row.stream, revision);
      this.insert.run(
        row.stream,
        revision,
        row.type,
        row.data,
        row.metadata,
        FIXED_NOW,
        randomUUID(),
      );
    });
  }

  /** Inserts the next `n` of `rows` (cycling), one transaction each. */
  timed(rows: readonly RawRow[], n: number): Timed {
    const start = nowMs();
    for (let i = 0; i < n; i++) this.insertOne.immediate(rows[this.next++ % rows.length]!);
    return { count: n, seconds: (nowMs() - start) / 1000 };
  }

  private next = 0;

  close(): void {
    this.db.close();
  }
}
