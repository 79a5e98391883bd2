import type Database from 'better-sqlite3';
import { RegistryError } from '../domain/errors.ts';
import type { Json } from '../domain/json.ts';
import type { NewEvent, Position, StoredEvent } from './port.ts';

/** A row of the `events` table, read with safe integers so positions arrive as bigint. */
export interface EventRow {
  position: bigint;
  stream: string;
  revision: bigint;
  type: string;
  data: string;
  metadata: string;
  event_id: string;
}

/** How many rows one query of the global log reads: bounded memory for any log size. */
export const PAGE_SIZE = 500;

const columns = 'position, stream, revision, type, data, metadata, event_id';

type Statement<P extends unknown[], R = unknown> = Database.Statement<P, R>;

/** Every statement the store runs on the `events` table, prepared once per connection. */
export interface EventStatements {
  head: Statement<[], bigint>;
  tail: Statement<[string], Pick<EventRow, 'revision' | 'position'>>;
  forwards: Statement<[string, number, number], EventRow>;
  backwards: Statement<[string, number, number], EventRow>;
  page: Statement<[bigint, bigint, number], EventRow>;
  prefixPage: Statement<[bigint, bigint, string, string, number], EventRow>;
  insert: Statement<[string, number, string, string, string, number, string]>;
  locate: Statement<[string], Pick<EventRow, 'stream' | 'revision'>>;
}

export const prepareEventStatements = (db: Database.Database): EventStatements => ({
  head: db
    .prepare<[], bigint>('SELECT coalesce(max(position), 0) FROM events')
    .pluck()
    .safeIntegers(),
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

/** An event with its JSON already serialized, so no serializing happens under the write lock. */
export interface SerializedEvent {
  id: string;
  type: string;
  data: string;
  metadata: string;
}

export const serializeEvent = (event: NewEvent): SerializedEvent => ({
  id: event.id,
  type: event.type,
  data: serialize(event.data, `data of event ${event.id}`),
  metadata: serialize(event.metadata, `metadata of event ${event.id}`),
});

const serialize = (value: Json, what: string): string => {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new RegistryError('invalid', `the ${what} is not JSON: ${(error as Error).message}`);
  }
  if (typeof text !== 'string') {
    throw new RegistryError('invalid', `the ${what} is not JSON (it serializes to nothing)`);
  }
  return text;
};

export const toEventRow = (
  event: SerializedEvent,
  stream: string,
  revision: number,
  position: Position,
): EventRow => ({
  position,
  stream,
  revision: BigInt(revision),
  type: event.type,
  data: event.data,
  metadata: event.metadata,
  event_id: event.id,
});

/** Parsed afresh for every reader and subscriber, so none can alter what another sees. */
export const toStoredEvent = (row: EventRow): StoredEvent => ({
  id: row.event_id,
  stream: row.stream,
  revision: Number(row.revision),
  position: row.position,
  type: row.type,
  data: JSON.parse(row.data) as Json,
  metadata: JSON.parse(row.metadata) as Json,
});
