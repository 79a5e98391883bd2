import { deepFreeze } from '../domain/freeze.ts';
import type { ProcessRecord } from '../domain/schemas.ts';
import type { Position } from './port.ts';

/** How the SQLite read-model tables turn rows and positions into values and back. */

export const json = (value: unknown): string => JSON.stringify(value);

export interface RecordRow {
  record: string;
  updatedAt: number;
}

/** The stored record with its current updatedAtMs (kept apart, see rm_processes). */
export const recordOf = (row: RecordRow): ProcessRecord => {
  const record = JSON.parse(row.record) as ProcessRecord;
  record.updatedAtMs = row.updatedAt;
  return deepFreeze(record);
};

const INT64_MAX = 2n ** 63n - 1n;

/**
 * Positions of EventStoreDB logs are 128-bit (commit << 64 | prepare), more than a SQLite
 * integer holds: those are kept as decimal text, in columns declared without a type so
 * SQLite stores them as given (an INTEGER column would turn them into lossy REALs).
 * Positions bound this way are only compared in JavaScript, never ordered by SQL.
 */
export const bindable = (position: Position): bigint | string =>
  position <= INT64_MAX ? position : position.toString();

/**
 * A position SQL can order: an integer, or above 64 bits decimal text padded to 40 digits.
 * SQLite orders every integer before every text, and padded texts of one length by their
 * digits, so SQL order is position order.
 */
export const sortablePosition = (position: Position): bigint | string =>
  position <= INT64_MAX ? position : position.toString().padStart(40, '0');

export const positionOf = (value: bigint | string): Position => BigInt(value);
