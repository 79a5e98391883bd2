import type pg from 'pg';
import { RegistryError } from '../domain/errors.ts';
import { type EventRow, PAGE_SIZE, toEventText, toStoredEvent } from './event-rows.ts';
import {
  type Position,
  type ReadAllOptions,
  type ReadStreamOptions,
  START,
  type StoredEvent,
  type StoredEventText,
  type StreamRevision,
} from './port.ts';
import type { PostgresOperation } from './postgres-failures.ts';
import type { LogPage } from './postgres-feed.ts';
import { qualified } from './postgres-schema.ts';

/** What node-postgres returns for an events row: bigints as text, JSON as its stored text. */
export interface PgEventRow {
  position: string;
  stream: string;
  revision: string;
  type: string;
  data: string;
  metadata: string;
  event_id: string;
}

export const columns = 'position, stream, revision, type, data::text, metadata::text, event_id';

export const toRow = (row: PgEventRow): EventRow => ({
  ...row,
  position: BigInt(row.position),
  revision: BigInt(row.revision),
});

/**
 * The store's queries, each a named prepared statement (parsed once per connection). Every
 * read of the global log is bounded by the head in the same snapshot; positions are
 * assigned in commit order, so everything at or below that head is committed and visible.
 */
export class PostgresReads {
  private readonly events: string;
  private readonly head: string;

  constructor(
    private readonly pool: pg.Pool,
    schema: string,
    private readonly failure: (error: unknown, operation: PostgresOperation) => unknown,
  ) {
    this.events = qualified(schema, 'events');
    this.head = qualified(schema, 'log_head');
  }

  async stream(stream: string, options: ReadStreamOptions): Promise<StoredEvent[]> {
    const { fromRevision, maxCount, direction = 'forwards' } = options;
    const backwards = direction === 'backwards';
    const rows = await this.query<PgEventRow>(
      backwards ? 'procreg-stream-backwards' : 'procreg-stream-forwards',
      backwards
        ? `SELECT ${columns} FROM ${this.events} WHERE stream = $1 AND revision <= $2
             ORDER BY revision DESC LIMIT $3`
        : `SELECT ${columns} FROM ${this.events} WHERE stream = $1 AND revision >= $2
             ORDER BY revision LIMIT $3`,
      [
        stream,
        fromRevision ?? (backwards ? Number.MAX_SAFE_INTEGER : 0),
        maxCount === undefined ? null : maxCount,
      ],
    );
    return rows.map((row) => toStoredEvent(toRow(row)));
  }

  async revision(stream: string): Promise<StreamRevision> {
    const [row] = await this.query<{ revision: string }>(
      'procreg-stream-revision',
      `SELECT coalesce(max(revision), -1) AS revision FROM ${this.events} WHERE stream = $1`,
      [stream],
    );
    return Number(row!.revision);
  }

  /**
   * Events after `after` up to the head, in position order, with that head: one statement,
   * so one snapshot. Always returns the head (a row with no event when nothing is newer).
   */
  async page(after: Position, prefix: string | undefined, limit: number): Promise<LogPage> {
    return this.pageUpTo(after, undefined, prefix, limit);
  }

  /** The log as it was when iteration started, one query per page. */
  async *all(options: ReadAllOptions, ensureOpen: () => void): AsyncIterable<StoredEvent> {
    for await (const rows of this.pages(options, ensureOpen)) {
      for (const row of rows) yield toStoredEvent(row);
    }
  }

  /** `all`'s pages with the JSON left as stored (`json` columns keep the text written). */
  async *allText(
    options: ReadAllOptions,
    ensureOpen: () => void,
  ): AsyncIterable<readonly StoredEventText[]> {
    for await (const rows of this.pages(options, ensureOpen)) yield rows.map(toEventText);
  }

  /** The log's rows up to the head at the first page, a query per page. */
  private async *pages(options: ReadAllOptions, ensureOpen: () => void): AsyncIterable<EventRow[]> {
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    let after = options.fromPosition ?? START;
    let upTo: Position | undefined;
    while (remaining > 0) {
      ensureOpen();
      const limit = Math.min(PAGE_SIZE, remaining);
      const page = await this.pageUpTo(after, upTo, options.streamPrefix, limit);
      upTo ??= page.head;
      yield page.rows;
      if (page.rows.length < limit) return;
      remaining -= page.rows.length;
      after = page.rows.at(-1)!.position;
    }
  }

  private async pageUpTo(
    after: Position,
    upTo: Position | undefined,
    prefix: string | undefined,
    limit: number,
  ): Promise<LogPage> {
    const rows = await this.query<Partial<PgEventRow> & { head: string }>(
      'procreg-log-page',
      `SELECT h.position AS head, e.* FROM ${this.head} h LEFT JOIN LATERAL (
         SELECT ${columns} FROM ${this.events}
          WHERE position > $1 AND position <= least(h.position, coalesce($2, h.position))
            AND ($3::text IS NULL OR starts_with(stream, $3))
          ORDER BY position LIMIT $4) e ON true`,
      [after.toString(), upTo === undefined ? null : upTo.toString(), prefix || null, limit],
    );
    const head = BigInt(rows[0]!.head);
    const events = rows.flatMap((row) => (row.position === null ? [] : [toRow(row as PgEventRow)]));
    return { rows: events, head };
  }

  /**
   * One named query; a failure (of `before` too) becomes the store's error (`unavailable`
   * on an outage), a RegistryError passes through.
   */
  async query<R extends pg.QueryResultRow>(
    name: string,
    text: string,
    values: unknown[],
    before?: () => Promise<void>,
  ): Promise<R[]> {
    try {
      await before?.();
      return (await this.pool.query<R>({ name, text, values })).rows;
    } catch (error) {
      throw error instanceof RegistryError ? error : this.failure(error, 'reading');
    }
  }
}
