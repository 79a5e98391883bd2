import type Database from 'better-sqlite3';
import type { LogDigest } from '../domain/integrity.ts';
import { type Position, START } from './port.ts';
import { bindable } from './sqlite-rows.ts';

interface CheckpointRow {
  readonly position: Position;
  /** null: unknown (tables that held rows before digests; see sqlite-log-index.ts) */
  readonly digest: LogDigest | null;
}

/**
 * The one row of `rm_checkpoint`: the position the read models are folded up to, and the
 * running log digest (domain/integrity.ts) up to it. Every commit that projects events moves
 * both, so a write transaction may hold the row (`hold`): it is read once when the hold
 * starts, read and moved in memory meanwhile, and written once, by one UPDATE, when the
 * hold ends (an append used to read and write it twice: once for the digest, once for the
 * checkpoint). Outside a hold each call reads or writes the row itself.
 * Invariant: a hold runs inside one write transaction and ends before it commits; a
 * savepoint inside it that rolls back restores the held row as it was (`savepoint`).
 */
export class SqliteCheckpoint {
  private readonly s;
  /** inside `hold`: the row as read (on first use) and moved since; undefined when not read */
  private holding: { row: CheckpointRow | undefined; dirty: boolean } | undefined;

  constructor(db: Database.Database) {
    this.s = {
      read: db
        .prepare<
          [],
          { position: bigint | string; digest: string | null; digestPosition: bigint | string }
        >(
          `SELECT position, digest, digest_position AS digestPosition FROM rm_checkpoint
           WHERE id = 1`,
        )
        .safeIntegers(),
      setPosition: db.prepare('UPDATE rm_checkpoint SET position = ? WHERE id = 1'),
      setDigest: db.prepare(
        'UPDATE rm_checkpoint SET digest = ?, digest_position = ? WHERE id = 1',
      ),
      setRow: db.prepare(
        'UPDATE rm_checkpoint SET position = ?, digest = ?, digest_position = ? WHERE id = 1',
      ),
    };
  }

  position(): Position {
    return this.row().position;
  }

  digest(): LogDigest | null {
    return this.row().digest;
  }

  setPosition(position: Position): void {
    if (this.holding) this.move({ ...this.row(), position });
    else this.s.setPosition.run(bindable(position));
  }

  setDigest(digest: LogDigest | null): void {
    if (this.holding) this.move({ ...this.row(), digest });
    else this.s.setDigest.run(...digestColumns(digest));
  }

  /**
   * Runs `work` (inside a write transaction) holding the row: read when first needed, and
   * written once at the end if `work` moved it. Within a hold, `work` runs as it is (one hold
   * per transaction). When `work` throws nothing is written: the transaction rolls back.
   */
  hold<T>(work: () => T): T {
    if (this.holding) return work();
    const hold = { row: undefined as CheckpointRow | undefined, dirty: false };
    this.holding = hold;
    try {
      const result = work();
      if (hold.dirty && hold.row) {
        const { position, digest } = hold.row;
        this.s.setRow.run(bindable(position), ...digestColumns(digest));
      }
      return result;
    } finally {
      this.holding = undefined;
    }
  }

  /**
   * Runs `work`, a savepoint within a hold: when it throws (and the savepoint rolls back),
   * the held row is put back as it was before it.
   */
  savepoint<T>(work: () => T): T {
    const hold = this.holding;
    if (!hold) return work();
    const { row, dirty } = hold;
    try {
      return work();
    } catch (error) {
      hold.row = row;
      hold.dirty = dirty;
      throw error;
    }
  }

  private move(row: CheckpointRow): void {
    this.holding!.row = row;
    this.holding!.dirty = true;
  }

  private row(): CheckpointRow {
    const held = this.holding?.row;
    if (held) return held;
    const stored = this.s.read.get();
    const row: CheckpointRow = stored
      ? {
          position: BigInt(stored.position),
          digest:
            stored.digest === null
              ? null
              : { digest: stored.digest, position: BigInt(stored.digestPosition) },
        }
      : { position: START, digest: null };
    if (this.holding) this.holding.row = row;
    return row;
  }
}

const digestColumns = (digest: LogDigest | null): [string | null, bigint | string | number] => [
  digest?.digest ?? null,
  digest ? bindable(digest.position) : 0,
];
