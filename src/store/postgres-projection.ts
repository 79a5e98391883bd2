import type pg from 'pg';
import { toStoredEvent } from './event-rows.ts';
import type { AppendResult } from './port.ts';
import type { PendingAppend } from './postgres-append.ts';
import {
  type ChangeRow,
  fetchProcessRows,
  type ProcessRows,
  processIdsOf,
  projectAppend,
  projectEvents,
} from './postgres-model-changes.ts';
import { columns, type PgEventRow, toRow } from './postgres-reads.ts';
import { qualified } from './postgres-schema.ts';
import { inTransactions } from './postgres-transaction.ts';
import type { InlineProjection } from './read-model-tables.ts';

/** processes whose rows are remembered between appends (least recently used dropped) */
const CACHE_SIZE = 10_000;

type Rows = NonNullable<ReturnType<ProcessRows['get']>>;

/**
 * The registry's projection run for the PostgreSQL store: each append's read-model row
 * changes, computed before it is sent, from the rows of its processes.
 *
 * Those rows are read outside the append's transaction, or remembered from this store's
 * last append to the process together with the stream revision they reflect. Either way
 * `append_batch` stores an append (and its changes) only when its expected revisions hold,
 * which proves no event of those processes came in between: rows read after the command
 * read the stream reflect at least that revision, and a newer one fails the check.
 * (Appends with expected revision `any`, which the registry never makes, get no such
 * proof.) So the common case, one instance appending to a process, costs no extra read.
 */
export class PostgresProjection {
  private readonly cache = new Map<string, Rows & { revision: number }>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
    private readonly projection: InlineProjection,
  ) {}

  /** Sets each append's `changes`; an append the projection refuses is rejected and left out. */
  async project(batch: readonly PendingAppend[]): Promise<PendingAppend[]> {
    const rows: ProcessRows = new Map();
    const unknown: string[] = [];
    for (const pending of batch) {
      for (const write of pending.writes) {
        const [processId] = processIdsOf([write.stream]);
        if (processId === undefined || rows.has(processId) || unknown.includes(processId)) continue;
        const expected = write.expectedRevision;
        const cached = this.cache.get(processId);
        if (expected === 'no_stream') rows.set(processId, {});
        else if (cached && cached.revision === expected) rows.set(processId, rowsOf(cached));
        else unknown.push(processId);
      }
    }
    if (unknown.length > 0) {
      for (const [id, read] of await fetchProcessRows(this.pool, this.schema, unknown)) {
        rows.set(id, read);
      }
    }
    const included: PendingAppend[] = [];
    for (const pending of batch) {
      try {
        pending.changes = projectAppend(
          this.projection,
          rows,
          pending.writes.map((write) => ({
            stream: write.stream,
            revision: typeof write.expectedRevision === 'number' ? write.expectedRevision + 1 : 0,
            events: write.events,
          })),
        );
        const mine = processIdsOf(pending.writes.map((write) => write.stream));
        pending.rowsAfter = new Map(mine.map((id) => [id, { ...rows.get(id) }]));
        included.push(pending);
      } catch (error) {
        pending.reject(error);
      }
    }
    return included;
  }

  /**
   * Remembers the rows a stored append left, at the revisions it reached; forgets those of
   * an append refused or answered as a replay (its changes were not applied again).
   */
  settled(pending: PendingAppend, results: AppendResult[] | undefined, replayed: boolean): void {
    pending.writes.forEach((write, i) => {
      const [processId] = processIdsOf([write.stream]);
      if (processId === undefined) return;
      this.cache.delete(processId);
      const rows = pending.rowsAfter?.get(processId);
      const result = results?.[i];
      if (!rows || !result || replayed) return;
      this.cache.set(processId, { ...rows, revision: result.nextRevision });
    });
    while (this.cache.size > CACHE_SIZE) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
  }

  /** Forgets the rows of removed streams' processes (retention). */
  forget(streams: readonly string[]): void {
    for (const processId of processIdsOf(streams)) this.cache.delete(processId);
  }

  /**
   * Brings the tables up to the log when events were stored around the projection (by a
   * store that had none, or a schema whose models were emptied when it moved to version 2),
   * before versions are read.
   */
  async current(): Promise<void> {
    const { rows } = await this.pool.query<{ behind: boolean }>(
      `SELECT m.position < h.position AS behind FROM ${qualified(this.schema, 'log_head')} h,
              ${qualified(this.schema, 'rm_checkpoint')} m`,
    );
    if (rows[0]?.behind) await this.catchUp();
  }

  /** Brings the tables up to the log (events stored without their rows come first). */
  catchUp(): Promise<void> {
    this.cache.clear();
    return catchUpModels(this.pool, this.schema, this.projection);
  }
}

const rowsOf = ({ record, lease }: Rows): Rows => ({
  ...(record ? { record } : {}),
  ...(lease ? { lease } : {}),
});

/** Applies changes whose positions are real (catch-up), on a client inside a transaction. */
const applyChanges = async (client: pg.ClientBase, schema: string, changes: ChangeRow[]) => {
  await client.query(
    `SELECT ${qualified(schema, 'apply_model_changes')}($1, $2, $3, $4, $5, $6, $7)`,
    [
      changes.map((c) => c.table),
      changes.map((c) => c.op),
      changes.map((c) => c.k1),
      changes.map((c) => c.k2),
      changes.map((c) => c.k3),
      changes.map((c) => c.row),
      changes.map((c) => String(c.position)),
    ],
  );
};

/**
 * Brings the model tables up to the log when events were stored without them (by a store
 * no registry projected for): a chunk of events per transaction, each under the log lock
 * (no append can interleave) and committed with its checkpoint. Throws what the projection
 * throws at an event it cannot read, with the tables just before it.
 */
export const catchUpModels = async (
  pool: pg.Pool,
  schema: string,
  projection: InlineProjection,
): Promise<void> =>
  inTransactions(pool, async (client) => {
    // the checkpoint is read after the lock is held, in a statement of its own (a fresh
    // snapshot): another catch-up that held the lock first has moved it
    const [head] = (
      await client.query<{ position: string }>(
        `SELECT position FROM ${qualified(schema, 'log_head')} FOR UPDATE`,
      )
    ).rows;
    const [checkpoint] = (
      await client.query<{ position: string }>(
        `SELECT position FROM ${qualified(schema, 'rm_checkpoint')}`,
      )
    ).rows;
    const state = { head: head!.position, checkpoint: checkpoint!.position };
    if (BigInt(state.checkpoint) >= BigInt(state.head)) return true;
    const { rows } = await client.query<PgEventRow>(
      `SELECT ${columns} FROM ${qualified(schema, 'events')}
        WHERE position > $1 AND position <= $2 ORDER BY position LIMIT 500`,
      [state.checkpoint, state.head],
    );
    const events = rows.map((row) => toStoredEvent(toRow(row)));
    const processRows = await fetchProcessRows(
      client,
      schema,
      processIdsOf(events.map((e) => e.stream)),
    );
    await applyChanges(client, schema, projectEvents(projection, processRows, events));
    await client.query(`UPDATE ${qualified(schema, 'rm_checkpoint')} SET position = $1`, [
      String(events.at(-1)!.position),
    ]);
    return false;
  });
