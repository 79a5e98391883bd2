import type Database from 'better-sqlite3';
import { GENESIS_DIGEST } from '../domain/integrity.ts';
import type { ProcessRecord } from '../domain/schemas.ts';
import type { Position } from './port.ts';
import type { DigestIndex } from './read-model-tables.ts';
import { positionOf, type RecordRow, recordOf, sortablePosition } from './sqlite-rows.ts';

/**
 * The log index of a SQLite tables file: what the tables know about each projected process
 * event, in one append-only table, so that an append writes its rightmost page and nothing
 * scattered:
 * - `rm_log`: a row per process event, keyed by position (`sortablePosition`), with the log
 *   digest after it (domain/integrity.ts; NULL while the digest is unknown) and, when the
 *   event changed a process record, that process (`changed`, '' otherwise). The digests let
 *   verifying name the exact position where a stored event is not the one recorded there;
 *   the change marks are the change feed: a process's current mark is the one equal to its
 *   `rm_processes.changed_at`, earlier marks are skipped as stale. Rows are never removed
 *   but by a rebuild (a pruned process's marks are stale: its record is gone).
 * - `rm_checkpoint.digest` / `digest_position`: the running digest, in the checkpoint's row,
 *   so a commit moves both in one page; `digest` NULL when unknown (tables that held rows
 *   before digests: a rebuild starts the chain again from genesis).
 * Invariant: at most one row of a position holds a digest; a legacy change mark (tables
 * upgraded from the changed_at index, whose processes may share one position) sits beside it.
 */
export const logIndexSchema = `
  CREATE TABLE IF NOT EXISTS rm_log (
    position NOT NULL, -- as rm_processes.changed_at: sortablePosition
    changed  TEXT NOT NULL,
    digest   BLOB,
    PRIMARY KEY (position, changed)
  ) WITHOUT ROWID;
`;

/**
 * Brings tables made before the log index to it, inside the caller's transaction (a no-op
 * on current tables): the running digest moves from `rm_digest` into the checkpoint's row,
 * `rm_digests` rows into `rm_log`, each process's last change (`changed_at`) becomes its
 * mark, and the `changed_at` index goes. Tables without digests get an unknown digest unless
 * they are empty (then it is the genesis digest).
 */
export const addLogIndex = (db: Database.Database): void => {
  const has = (name: string) =>
    db.prepare('SELECT 1 FROM sqlite_schema WHERE name = ?').pluck().get(name) !== undefined;
  const checkpointColumns = db
    .prepare("SELECT name FROM pragma_table_info('rm_checkpoint')")
    .pluck()
    .all() as string[];
  if (!checkpointColumns.includes('digest')) {
    db.exec(`ALTER TABLE rm_checkpoint ADD COLUMN digest TEXT;
      ALTER TABLE rm_checkpoint ADD COLUMN digest_position NOT NULL DEFAULT 0`);
    if (has('rm_digest')) {
      db.exec(`UPDATE rm_checkpoint SET
        digest = (SELECT digest FROM rm_digest WHERE id = 1),
        digest_position = (SELECT position FROM rm_digest WHERE id = 1);
        DROP TABLE rm_digest`);
    } else {
      db.exec(
        `UPDATE rm_checkpoint SET digest = CASE WHEN position = 0 THEN '${GENESIS_DIGEST}' END`,
      );
    }
  }
  if (has('rm_log')) return;
  db.exec(logIndexSchema);
  if (has('rm_digests')) {
    const insert = db.prepare("INSERT INTO rm_log (position, changed, digest) VALUES (?, '', ?)");
    const page = db
      .prepare(
        'SELECT position, digest FROM rm_digests WHERE position > ? ORDER BY position LIMIT 10000',
      )
      .raw();
    // in pages: a connection cannot write while it iterates
    for (let after: Buffer = Buffer.alloc(0); ; ) {
      const rows = page.all(after) as [Buffer, Buffer][];
      for (const [key, digest] of rows) insert.run(sortablePosition(fromKey(key)), digest);
      if (rows.length < 10_000) break;
      after = rows.at(-1)![0];
    }
    db.exec('DROP TABLE rm_digests');
  }
  // a change at a position that has a digest row marks that row; changes sharing a position
  // (legacy changed_at fallbacks) get rows of their own
  db.exec(`
    UPDATE rm_log SET changed = (SELECT p.id FROM rm_processes p WHERE p.changed_at = rm_log.position)
      WHERE changed = '' AND position IN (SELECT changed_at FROM rm_processes);
    INSERT OR IGNORE INTO rm_log (position, changed)
      SELECT changed_at, id FROM rm_processes p WHERE changed_at IS NOT NULL AND NOT EXISTS
        (SELECT 1 FROM rm_log l WHERE l.position = p.changed_at AND l.changed = p.id);
    DROP INDEX IF EXISTS rm_processes_changed;
  `);
};

/** The key rm_digests (schema 4) kept a position under: length byte, big-endian bytes. */
const fromKey = (key: Buffer): Position => BigInt(`0x${key.subarray(1).toString('hex') || '0'}`);

/** Change marks read at a time by the change feed. */
const MARKS_PER_READ = 1_000;
/** Processes whose current change position one feed call remembers. */
const CURRENT_KEPT = 100_000;

interface ChangedRow extends RecordRow {
  changedAt: bigint | string;
}

export class SqliteLogIndex implements DigestIndex {
  private readonly s;
  /**
   * During a batch (a catch-up chunk, or one append's projection: `beginBatch`/`endBatch`,
   * `holdingMarks`), the change marks not yet written, by position: the digest of the same
   * position, which the projection records after its marks, is written with its mark in one
   * row; marks left at the end of the batch (an unknown digest) are written then. Nothing
   * reads the log index during a batch (the change feed and verify read it between
   * transactions).
   */
  private marks: Map<bigint | string, string> | undefined;

  constructor(private readonly db: Database.Database) {
    this.s = {
      mark: db.prepare(
        'INSERT INTO rm_log (position, changed) VALUES (?, ?) ON CONFLICT DO NOTHING',
      ),
      digestOnMark: db.prepare('UPDATE rm_log SET digest = ? WHERE position = ?'),
      digestRow: db.prepare('INSERT INTO rm_log (position, changed, digest) VALUES (?, ?, ?)'),
      // the digest as hex text: SQLite's hex() is cheaper to read than a Buffer per row
      between: db
        .prepare<unknown[], { position: bigint | string; digest: string }>(
          `SELECT position, lower(hex(digest)) AS digest FROM rm_log
           WHERE position > ? AND position <= ? AND digest IS NOT NULL ORDER BY position`,
        )
        .safeIntegers(),
      marks: db
        .prepare<unknown[], [bigint | string, string]>(
          `SELECT position, changed FROM rm_log WHERE position > ? AND changed <> ''
           ORDER BY position LIMIT ${MARKS_PER_READ}`,
        )
        .raw()
        .safeIntegers(),
      current: db
        .prepare<[string], ChangedRow>(
          'SELECT record, updated_at AS updatedAt, changed_at AS changedAt FROM rm_processes WHERE id = ?',
        )
        .safeIntegers(),
    };
  }

  /** Notes that the event at `position` changed the record of `processId`. */
  markChanged(position: Position, processId: string): void {
    const key = sortablePosition(position);
    const held = this.marks?.get(key);
    // a second mark of the same change is none (as ON CONFLICT DO NOTHING)
    if (held === processId) return;
    if (this.marks && held === undefined) this.marks.set(key, processId);
    else this.s.mark.run(key, processId);
  }

  record(position: Position, digest: string): void {
    const key = sortablePosition(position);
    const bytes = Buffer.from(digest, 'hex');
    // the event's change mark, noted first by the same projection, takes the digest
    const held = this.marks?.get(key);
    if (held !== undefined) {
      this.marks!.delete(key);
      this.s.digestRow.run(key, held, bytes);
    } else if (this.marks || this.s.digestOnMark.run(bytes, key).changes === 0) {
      this.s.digestRow.run(key, '', bytes);
    }
  }

  /**
   * Runs `work` (one projection of an append, inside its savepoint) holding its change marks,
   * so each goes in with its position's digest: one row, one statement. Inside a batch, the
   * batch holds them already.
   */
  holdingMarks(work: () => void): void {
    if (this.marks) {
      work();
      return;
    }
    this.beginBatch();
    let done = false;
    try {
      work();
      done = true;
    } finally {
      this.endBatch(done);
    }
  }

  /** Holds change marks until `endBatch`, which writes those left (`write`) or drops them. */
  beginBatch(): void {
    this.marks = new Map();
  }

  endBatch(write: boolean): void {
    const marks = this.marks;
    this.marks = undefined;
    if (write && marks) for (const [key, processId] of marks) this.s.mark.run(key, processId);
  }

  between(after: Position, upTo: Position): { position: Position; digest: string }[] {
    return this.s.between
      .all(sortablePosition(after), sortablePosition(upTo))
      .map((row) => ({ position: positionOf(row.position), digest: row.digest }));
  }

  /**
   * Reads marks from the cursor on, a run at a time, and keeps those equal to their
   * process's `changed_at`, looked up once per process per call: a page costs reading the
   * marks between the cursor and its last record (stale ones included) plus one lookup per
   * process among them. One read transaction: no writer moves a process during the call.
   */
  changedSince(after: Position, limit: number): { position: Position; record: ProcessRecord }[] {
    return this.db.transaction(() => {
      const page: { position: Position; record: ProcessRecord }[] = [];
      // each process's current change position as stored (null: pruned), bounded; marks and
      // changed_at are both written by sortablePosition, so equal values mean equal positions
      const current = new Map<string, bigint | string | null>();
      let from = sortablePosition(after);
      for (;;) {
        const marks = this.s.marks.all(from);
        for (const [position, processId] of marks) {
          let at = current.get(processId);
          let row: ChangedRow | undefined;
          if (at === undefined) {
            row = this.s.current.get(processId);
            at = row ? row.changedAt : null;
            if (current.size >= CURRENT_KEPT) current.clear();
            current.set(processId, at);
          }
          if (at !== position) continue;
          // a process's current mark comes once: its row was read on first sight, or is read now
          row ??= this.s.current.get(processId)!;
          page.push({
            position: positionOf(at),
            record: recordOf({ record: row.record, updatedAt: Number(row.updatedAt) }),
          });
          if (page.length === limit) return page;
        }
        if (marks.length < MARKS_PER_READ) return page;
        from = marks.at(-1)![0];
      }
    })();
  }
}
