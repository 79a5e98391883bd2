import { RegistryError } from '../domain/errors.ts';
import type { Json } from '../domain/json.ts';
import type { NewEvent, Position, StoredEvent, StoredEventText } from './port.ts';

/*
 * The `events` table's rows as both SQL adapters (SQLite, PostgreSQL) hold them: one row per
 * event, its JSON serialized once before the write lock and parsed afresh for every reader.
 */

/**
 * A row of the `events` table, position and revision as bigint (SQLite reads them with safe
 * integers; PostgreSQL's text is converted in postgres-reads.ts).
 */
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
  data: event.text?.data ?? serialize(event.data, `data of event ${event.id}`),
  metadata: event.text?.metadata ?? serialize(event.metadata, `metadata of event ${event.id}`),
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

/** A row as text; nothing is parsed. */
export const toEventText = (row: EventRow): StoredEventText => ({
  id: row.event_id,
  stream: row.stream,
  revision: Number(row.revision),
  position: row.position,
  type: row.type,
  data: row.data,
  metadata: row.metadata,
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
