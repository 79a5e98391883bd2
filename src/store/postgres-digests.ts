import type pg from 'pg';
import { STREAM_PREFIX } from '../domain/events.ts';
import {
  chainOf,
  contentHash,
  GENESIS_DIGEST,
  type LogDigest,
  linkHashOf,
  nextDigest,
} from '../domain/integrity.ts';
import { type PrunedStep, prunedStepsIn, RETENTION_STREAM } from '../domain/retention.ts';
import { toStoredEvent } from './event-rows.ts';
import type { LogDigests, NewEvent, Position, StreamWrite } from './port.ts';
import type { PostgresOperation } from './postgres-failures.ts';
import { columns, type PgEventRow, toRow } from './postgres-reads.ts';
import { qualified } from './postgres-schema.ts';
import { inTransactions } from './postgres-transaction.ts';

/*
 * The log digest (domain/integrity.ts) after every process event, kept by PostgreSQL itself:
 * `append_batch` steps it over each event it inserts, in the append's transaction under the
 * `log_head` lock (so in position order), and inserts one `log_digests` row per process event.
 * `log_head` holds the running digest: `digest` after the process event at `digest_position`,
 * covering the whole log up to `digested`. Rows are never deleted: a prune's positions keep
 * theirs as anchors. Invariant: `digested` is the head, except after an append whose event
 * hash the client could not know (`linkOf`) or in a schema upgraded from version 2; there the
 * rows stop at `digested` and `catchUpDigests` folds the rest from the log.
 */

/** The digest columns of `log_head` and the `log_digests` table (new schemas and version 2's). */
export const digestTables = (s: string): string => `
  ALTER TABLE ${qualified(s, 'log_head')}
    ADD COLUMN IF NOT EXISTS digest          text   NOT NULL DEFAULT '${GENESIS_DIGEST}',
    ADD COLUMN IF NOT EXISTS digest_position bigint NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS digested        bigint NOT NULL DEFAULT 0;
  CREATE TABLE IF NOT EXISTS ${qualified(s, 'log_digests')} (
    position bigint PRIMARY KEY,
    digest   text   NOT NULL
  );
`;

/** The stream prefix of process events, as a SQL literal (it holds no quote). */
export const processPrefixSql = `'${STREAM_PREFIX}'`;

/**
 * The SQL expression of one digest step, the text `nextDigest` hashes: `streamJson` is the
 * stream's `JSON.stringify`, computed by the client (so no SQL JSON encoding has to agree
 * with JavaScript's), positions and revisions are bigints in decimal, as in JavaScript.
 */
export const digestStepSql = (
  digest: string,
  position: string,
  streamJson: string,
  revision: string,
  hash: string,
): string =>
  `encode(sha256(convert_to(${digest} || chr(10) || (${position})::text || chr(10) || ${streamJson}
    || chr(10) || (${revision})::text || chr(10) || ${hash}, 'UTF8')), 'hex')`;

/**
 * The hash an event of `write` (the `k`th) adds to the digest, as `append_batch` needs it:
 * the hash a chained event claims, else its content hash, which covers its revision: known
 * only for an expected revision; null for an unchained process event appended with `any`
 * (the digest then waits for `catchUpDigests`). Events of other streams add none (null).
 */
export const linkOf = (write: StreamWrite, event: NewEvent, k: number): string | null => {
  if (!write.stream.startsWith(STREAM_PREFIX)) return null;
  const claimed = chainOf(event.metadata)?.hash;
  if (claimed !== undefined) return claimed;
  const expected = write.expectedRevision;
  if (expected === 'any') return null;
  const revision = (expected === 'no_stream' ? 0 : expected + 1) + k;
  return contentHash({ ...event, stream: write.stream, revision });
};

/** Events folded per transaction of a catch-up. */
const CHUNK = 2_000;

/**
 * Folds the events after `digested` into the digest rows, a chunk per transaction under
 * the `log_head` lock (appends wait; a crash resumes), stepping over events prunes removed
 * as their records name them. A row already there is kept (it is evidence, never rewritten).
 */
export const catchUpDigests = async (pool: pg.Pool, schema: string): Promise<void> => {
  const head = qualified(schema, 'log_head');
  // the common case, digests up to the head, takes no lock (appends go on)
  const { rows: now } = await pool.query<{ current: boolean }>(
    `SELECT digested >= position AS current FROM ${head}`,
  );
  if (now[0]?.current) return;
  await inTransactions(pool, async (client) => {
    const [state] = (
      await client.query<{
        position: string;
        digest: string;
        digest_position: string;
        digested: string;
      }>(`SELECT position, digest, digest_position, digested FROM ${head} FOR UPDATE`)
    ).rows;
    const end = BigInt(state!.position);
    let through = BigInt(state!.digested);
    if (through >= end) return true;
    const pruned = await prunedIn(client, schema);
    const { rows } = await client.query<PgEventRow>(
      `SELECT ${columns} FROM ${qualified(schema, 'events')}
        WHERE position > $1 AND position <= $2 ORDER BY position LIMIT ${CHUNK}`,
      [String(through), String(end)],
    );
    let digest: LogDigest = { digest: state!.digest, position: BigInt(state!.digest_position) };
    const recorded: { position: Position; digest: string }[] = [];
    const step = (position: Position, stream: string, revision: number, hash: string) => {
      const next = nextDigest(digest.digest, position, stream, revision, hash);
      digest = { digest: next, position };
      recorded.push(digest);
    };
    // the next removed event not yet stepped over
    let p = pruned.findIndex((s) => s.position > through);
    if (p < 0) p = pruned.length;
    const stepPruned = (before: Position) => {
      for (; p < pruned.length && pruned[p]!.position < before; p++) {
        const s = pruned[p]!;
        step(s.position, s.stream, s.revision, s.hash);
      }
    };
    for (const row of rows) {
      const event = toStoredEvent(toRow(row));
      stepPruned(event.position);
      if (event.stream.startsWith(STREAM_PREFIX)) {
        step(event.position, event.stream, event.revision, linkHashOf(event));
      }
      through = event.position;
    }
    // the last chunk: removed events after the last one left are stepped over too
    const last = rows.length < CHUNK;
    if (last) {
      stepPruned(end + 1n);
      through = end;
    }
    await client.query(
      `INSERT INTO ${qualified(schema, 'log_digests')} (position, digest)
         SELECT * FROM unnest($1::bigint[], $2::text[]) ON CONFLICT (position) DO NOTHING`,
      [recorded.map((r) => String(r.position)), recorded.map((r) => r.digest)],
    );
    await client.query(`UPDATE ${head} SET digest = $1, digest_position = $2, digested = $3`, [
      digest.digest,
      String(digest.position),
      String(through),
    ]);
    return last;
  });
};

/** The removed events every readable prune record of the log names, in position order. */
const prunedIn = async (client: pg.ClientBase, schema: string): Promise<PrunedStep[]> => {
  const { rows } = await client.query<PgEventRow>(
    `SELECT ${columns} FROM ${qualified(schema, 'events')} WHERE stream = $1 ORDER BY revision`,
    [RETENTION_STREAM],
  );
  return prunedStepsIn(rows.map((row) => toStoredEvent(toRow(row))));
};

/** The store's digest rows and running digest, for `verifyIntegrity` and `digest()`. */
export class PostgresDigests implements LogDigests {
  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
    private readonly failure: (error: unknown, operation: PostgresOperation) => unknown,
    private readonly ensureOpen: () => void,
  ) {}

  async current(): Promise<LogDigest> {
    this.ensureOpen();
    try {
      await catchUpDigests(this.pool, this.schema);
      const { rows } = await this.pool.query<{ digest: string; digest_position: string }>(
        `SELECT digest, digest_position FROM ${qualified(this.schema, 'log_head')}`,
      );
      return { digest: rows[0]!.digest, position: BigInt(rows[0]!.digest_position) };
    } catch (error) {
      throw this.failure(error, 'reading');
    }
  }

  async between(
    after: Position,
    upTo: Position,
  ): Promise<{ position: Position; digest: string }[]> {
    this.ensureOpen();
    try {
      const { rows } = await this.pool.query<{ position: string; digest: string }>({
        name: 'procreg-digests-between',
        text: `SELECT position, digest FROM ${qualified(this.schema, 'log_digests')}
                WHERE position > $1 AND position <= $2 ORDER BY position`,
        values: [String(after), String(upTo)],
      });
      return rows.map((row) => ({ position: BigInt(row.position), digest: row.digest }));
    } catch (error) {
      throw this.failure(error, 'reading');
    }
  }
}
