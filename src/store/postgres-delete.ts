import type pg from 'pg';
import {
  type AppendResult,
  type StreamRemoval,
  type StreamWrite,
  WrongExpectedRevisionError,
} from './port.ts';
import { commitBatch, type PendingAppend, serializeWrite } from './postgres-append.ts';
import type { PostgresProjection } from './postgres-projection.ts';
import { qualified } from './postgres-schema.ts';

/**
 * Retention on PostgreSQL: in one transaction, under the log lock (appends wait), checks
 * that each stream still ends at its expected revision, deletes its events, and appends the
 * record with its read-model changes (which purge the streams' rows) through
 * `append_batch`, in the same transaction. All of it commits, or none of it. The record's
 * NOTIFY goes out at commit, so feeds hear of it only when it holds.
 */
export const deleteStreams = async (
  pool: pg.Pool,
  schema: string,
  projection: PostgresProjection | undefined,
  remove: readonly StreamRemoval[],
  record: StreamWrite | undefined,
): Promise<AppendResult | undefined> => {
  let pending: PendingAppend | undefined;
  let refused: unknown;
  if (record) {
    // settled by deleteStreamsTogether's result; the projection may refuse it first
    pending = {
      writes: [serializeWrite(record)],
      resolve: () => {},
      reject: (error) => {
        refused = error;
      },
    };
    if (projection) [pending] = await projection.project([pending]);
    if (refused !== undefined) throw refused;
  }
  try {
    return await deleteStreamsTogether(pool, schema, remove, pending, projection !== undefined);
  } finally {
    projection?.forget(remove.map((r) => r.stream));
  }
};

const deleteStreamsTogether = async (
  pool: pg.Pool,
  schema: string,
  remove: readonly StreamRemoval[],
  record: PendingAppend | undefined,
  project: boolean,
): Promise<AppendResult | undefined> => {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT position FROM ${qualified(schema, 'log_head')} FOR UPDATE`);
    for (const { stream, lastRevision } of remove) {
      const { rows } = await client.query<{ revision: string }>(
        `SELECT coalesce(max(revision), -1) AS revision FROM ${qualified(schema, 'events')} WHERE stream = $1`,
        [stream],
      );
      const actual = Number(rows[0]!.revision);
      if (actual !== lastRevision)
        throw new WrongExpectedRevisionError(stream, lastRevision, actual);
    }
    await client.query(`DELETE FROM ${qualified(schema, 'events')} WHERE stream = ANY ($1)`, [
      remove.map((r) => r.stream),
    ]);
    let result: AppendResult | undefined;
    if (record) {
      // settled only after COMMIT: the batch's own callbacks just capture the outcome
      let failure: unknown;
      const captured: PendingAppend = {
        ...record,
        resolve: (results) => {
          result = results[0];
        },
        reject: (error) => {
          failure = error;
        },
      };
      const outcome = await commitBatch(client, schema, [captured], () => {}, project);
      if (outcome === 'behind') {
        throw new Error('the read models are behind the log; open the store again and retry');
      }
      if (failure) throw failure;
    }
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
};
