/**
 * Rewrites one stored event in place through a connection of its own, as an operator
 * repairing a row would (the conformance suite's `StoreHarness.rewrite` on the SQL stores).
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import type { RawEvent } from './harness.ts';

export const rewriteSqliteEvent = (
  path: string,
  stream: string,
  revision: number,
  event: RawEvent,
): void => {
  const db = new Database(path);
  try {
    const { changes } = db
      .prepare(
        'UPDATE events SET type = ?, data = ?, metadata = ? WHERE stream = ? AND revision = ?',
      )
      .run(
        event.type,
        JSON.stringify(event.data),
        JSON.stringify(event.metadata),
        stream,
        revision,
      );
    if (changes !== 1) throw new Error(`no event ${stream}@${revision} to rewrite`);
  } finally {
    db.close();
  }
};

export const rewritePostgresEvent = async (
  server: string,
  schema: string,
  stream: string,
  revision: number,
  event: RawEvent,
): Promise<void> => {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    const { rowCount } = await client.query(
      `UPDATE "${schema}".events SET type = $1, data = $2::json, metadata = $3::json
       WHERE stream = $4 AND revision = $5`,
      [event.type, JSON.stringify(event.data), JSON.stringify(event.metadata), stream, revision],
    );
    if (rowCount !== 1) throw new Error(`no event ${stream}@${revision} to rewrite`);
  } finally {
    await client.end();
  }
};
