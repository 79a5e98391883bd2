import type Database from 'better-sqlite3';
import type { Position } from './port.ts';
import { positionOf, sortablePosition } from './sqlite-rows.ts';

/**
 * Log ordinals, for the versions of a models file (sqlite-models-file.ts). The versions'
 * spans live in 32-bit R*Tree coordinates; EventStoreDB positions are 128-bit (commit <<
 * 64 | prepare), so a models file numbers the events it applies 1, 2, 3… in the order it
 * applies them (the log's order) and its versions span ordinals instead of positions.
 * `rm_ordinals` maps both ways: the ordinal is the row id, the position (sortable, see
 * sqlite-rows.ts) has a unique index. Dense ordinals fit the R*Tree up to 2^31 - 1 events.
 *
 * A row also keeps the process a touch moved and its `updatedAtMs` (a process event that
 * makes no record version): the record as of a point takes `updatedAtMs` from its last
 * touch at or before it, as a store file reads it from its process events.
 */
export const ordinalsSchema = `
  CREATE TABLE IF NOT EXISTS rm_ordinals (
    ordinal    INTEGER PRIMARY KEY,
    position   NOT NULL UNIQUE,
    process_id TEXT,
    updated_at INTEGER
  );
  CREATE INDEX IF NOT EXISTS rm_ordinals_touches
    ON rm_ordinals (process_id, ordinal) WHERE process_id IS NOT NULL;
`;

export const ORDINAL_TABLES = ['rm_ordinals'] as const;

interface Last {
  ordinal: number;
  position: Position;
}

export class SqliteOrdinals {
  private readonly s;
  /** The last ordinal given, kept only while a batch runs (another process may write between). */
  private last: Last | undefined;
  private batching = false;

  constructor(db: Database.Database) {
    const p = <T>(sql: string) => db.prepare(sql) as Database.Statement<unknown[], T>;
    this.s = {
      last: p<{ ordinal: number; position: bigint | string }>(
        'SELECT ordinal, position FROM rm_ordinals ORDER BY ordinal DESC LIMIT 1',
      ).safeIntegers(),
      byPosition: p<number>('SELECT ordinal FROM rm_ordinals WHERE position = ?').pluck(),
      insert: db.prepare('INSERT INTO rm_ordinals (ordinal, position) VALUES (?, ?)'),
      atOrBefore: p<number>(
        'SELECT ordinal FROM rm_ordinals WHERE position <= ? ORDER BY position DESC LIMIT 1',
      ).pluck(),
      position: p<bigint | string>('SELECT position FROM rm_ordinals WHERE ordinal = ?')
        .pluck()
        .safeIntegers(),
      touch: db.prepare('UPDATE rm_ordinals SET process_id = ?, updated_at = ? WHERE ordinal = ?'),
      lastTouch: p<{ ordinal: number; updatedAtMs: number }>(
        `SELECT ordinal, updated_at AS updatedAtMs FROM rm_ordinals
         WHERE process_id = ? AND ordinal <= ? ORDER BY ordinal DESC LIMIT 1`,
      ),
      purge: db.prepare(
        'UPDATE rm_ordinals SET process_id = NULL, updated_at = NULL WHERE process_id = ?',
      ),
    };
  }

  /** The ordinal of an applied event's position: the next one for a position past the last. */
  of(position: Position): number {
    const last = this.last ?? this.readLast();
    if (last && last.position === position) return last.ordinal;
    if (!last || position > last.position) {
      const ordinal = (last?.ordinal ?? 0) + 1;
      this.s.insert.run(ordinal, sortablePosition(position));
      if (this.batching) this.last = { ordinal, position };
      return ordinal;
    }
    const known = this.s.byPosition.get(sortablePosition(position));
    if (known === undefined) {
      // the models apply the log in order: an unseen position before the last is a bug
      throw new Error(`position ${position} is before the models' last (${last.position})`);
    }
    return known;
  }

  private readLast(): Last | undefined {
    const row = this.s.last.get();
    if (!row) return undefined;
    const last = { ordinal: Number(row.ordinal), position: positionOf(row.position) };
    if (this.batching) this.last = last;
    return last;
  }

  /** The ordinal of the last applied event at or before `position` (0: none). */
  atOrBefore(position: Position): number {
    return this.s.atOrBefore.get(sortablePosition(position)) ?? 0;
  }

  /** The position an ordinal stands for. */
  position(ordinal: number): Position {
    const found = this.s.position.get(ordinal);
    if (found === undefined) throw new Error(`no ordinal ${ordinal} in the models file`);
    return positionOf(found);
  }

  /** Notes that the event at `position` moved the process's `updatedAtMs`. */
  touch(processId: string, updatedAtMs: number, position: Position): void {
    this.s.touch.run(processId, updatedAtMs, this.of(position));
  }

  /** The process's last touch at or before ordinal `at`: its ordinal and time. */
  lastTouch(processId: string, at: number): { ordinal: number; updatedAtMs: number } | undefined {
    return this.s.lastTouch.get(processId, at);
  }

  /** Retention: the touches of a pruned process are forgotten with its versions. */
  purge(processId: string): void {
    this.s.purge.run(processId);
  }

  beginBatch(): void {
    this.batching = true;
    this.last = undefined;
  }

  endBatch(): void {
    this.batching = false;
    this.last = undefined;
  }
}
