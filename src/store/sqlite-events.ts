import type Database from 'better-sqlite3';
import type { EventRow } from './event-rows.ts';
import type { Position } from './port.ts';

const columns = 'position, stream, revision, type, data, metadata, event_id';

type Statement<P extends unknown[], R = unknown> = Database.Statement<P, R>;

/** Every statement the store runs on the `events` table, prepared once per connection. */
export interface EventStatements {
  head: Statement<[], bigint>;
  /** 1 when the read models' checkpoint is at the head (a store file's `rm_checkpoint`) */
  modelsCurrent: Statement<[], number>;
  tail: Statement<[string], Pick<EventRow, 'revision' | 'position'>>;
  forwards: Statement<[string, number, number], EventRow>;
  backwards: Statement<[string, number, number], EventRow>;
  page: Statement<[bigint, bigint, number], EventRow>;
  prefixPage: Statement<[bigint, bigint, string, string, number], EventRow>;
  insert: Statement<[string, number, string, string, string, number, string]>;
  locate: Statement<[string], Pick<EventRow, 'stream' | 'revision'>>;
  deleteStream: Statement<[string]>;
}

export const prepareEventStatements = (db: Database.Database): EventStatements => ({
  head: db
    .prepare<[], bigint>('SELECT coalesce(max(position), 0) FROM events')
    .pluck()
    .safeIntegers(),
  modelsCurrent: db
    .prepare<[], number>(
      `SELECT (SELECT position FROM rm_checkpoint WHERE id = 1) >=
              (SELECT coalesce(max(position), 0) FROM events)`,
    )
    .pluck(),
  tail: db
    .prepare<[string], Pick<EventRow, 'revision' | 'position'>>(
      'SELECT revision, position FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1',
    )
    .safeIntegers(),
  forwards: db
    .prepare<[string, number, number], EventRow>(
      `SELECT ${columns} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?`,
    )
    .safeIntegers(),
  backwards: db
    .prepare<[string, number, number], EventRow>(
      `SELECT ${columns} FROM events WHERE stream = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`,
    )
    .safeIntegers(),
  page: db
    .prepare<[bigint, bigint, number], EventRow>(
      `SELECT ${columns} FROM events WHERE position > ? AND position <= ? ORDER BY position LIMIT ?`,
    )
    .safeIntegers(),
  // substr and length both count characters, so this agrees with String.startsWith
  prefixPage: db
    .prepare<[bigint, bigint, string, string, number], EventRow>(
      `SELECT ${columns} FROM events WHERE position > ? AND position <= ?
         AND substr(stream, 1, length(?)) = ? ORDER BY position LIMIT ?`,
    )
    .safeIntegers(),
  insert: db
    .prepare<[string, number, string, string, string, number, string]>(
      `INSERT INTO events (stream, revision, type, data, metadata, recorded_at, event_id)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    )
    .safeIntegers(),
  locate: db.prepare<[string], Pick<EventRow, 'stream' | 'revision'>>(
    'SELECT stream, revision FROM events WHERE event_id = ?',
  ),
  deleteStream: db.prepare<[string]>('DELETE FROM events WHERE stream = ?'),
});

/** Events after `after` up to and including `upTo`, in position order. */
export const readPage = (
  statements: EventStatements,
  after: Position,
  upTo: Position,
  prefix: string | undefined,
  limit: number,
): EventRow[] =>
  prefix
    ? statements.prefixPage.all(after, upTo, prefix, prefix, limit)
    : statements.page.all(after, upTo, limit);
