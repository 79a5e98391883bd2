import type pg from 'pg';
import {
  JOURNAL_KEEP_PER_PROCESS,
  type RefusedCommand,
  RefusedCommandSchema,
} from '../domain/refusal.ts';
import type { RefusalJournal } from './port.ts';
import { qualified } from './postgres-schema.ts';

/** The PostgreSQL store's journal of refused commands; each process keeps its latest entries. */
export class PostgresJournal implements RefusalJournal {
  private readonly table: string;

  constructor(
    private readonly pool: pg.Pool,
    schema: string,
    private readonly failure: (error: unknown, operation: 'reading' | 'appending') => unknown,
    private readonly keep = JOURNAL_KEEP_PER_PROCESS,
  ) {
    this.table = qualified(schema, 'journal_refusals');
  }

  async record(entries: readonly RefusedCommand[]): Promise<void> {
    if (entries.length === 0) return;
    const ids = [...new Set(entries.map((e) => e.processId))];
    try {
      // one statement: the inserts and the trim of each process to its latest `keep`
      await this.pool.query(
        `WITH added AS (
           INSERT INTO ${this.table} (process_id, entry)
             SELECT p, e::json FROM unnest($1::text[], $2::text[]) AS t(p, e)
         )
         DELETE FROM ${this.table} j USING unnest($3::text[]) AS u(p)
          WHERE j.process_id = u.p AND j.id <= (
            SELECT id FROM ${this.table} k WHERE k.process_id = u.p
             ORDER BY id DESC OFFSET $4 LIMIT 1)`,
        [entries.map((e) => e.processId), entries.map((e) => JSON.stringify(e)), ids, this.keep],
      );
    } catch (error) {
      throw this.failure(error, 'appending');
    }
  }

  async read(processId: string): Promise<RefusedCommand[]> {
    try {
      const { rows } = await this.pool.query<{ entry: string }>(
        `SELECT entry::text AS entry FROM ${this.table} WHERE process_id = $1 ORDER BY id`,
        [processId],
      );
      return rows.map((row) => RefusedCommandSchema.parse(JSON.parse(row.entry)));
    } catch (error) {
      throw this.failure(error, 'reading');
    }
  }

  async drop(processIds: readonly string[]): Promise<void> {
    if (processIds.length === 0) return;
    try {
      await this.pool.query(`DELETE FROM ${this.table} WHERE process_id = ANY($1::text[])`, [
        processIds,
      ]);
    } catch (error) {
      throw this.failure(error, 'appending');
    }
  }
}
