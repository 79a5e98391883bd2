import type pg from 'pg';
import { RegistryError } from '../domain/errors.ts';
import { type EventRow, type SerializedEvent, serializeEvent, toEventRow } from './event-rows.ts';
import {
  type AppendResult,
  type ExpectedRevision,
  type Position,
  type StreamWrite,
  WrongExpectedRevisionError,
} from './port.ts';
import { linkOf } from './postgres-digests.ts';
import type { ChangeRow, ProcessRows } from './postgres-model-changes.ts';
import { type AppendOutcome, qualified } from './postgres-schema.ts';

/**
 * A write with its JSON already serialized, so the batch is built without surprises, and
 * the hash each event adds to the log digest (`linkOf`: null for none or unknown).
 */
export type SerializedWrite = Omit<StreamWrite, 'events'> & {
  events: SerializedEvent[];
  links: (string | null)[];
};

export const serializeWrite = (write: StreamWrite): SerializedWrite => ({
  ...write,
  events: write.events.map(serializeEvent),
  links: write.events.map((event, k) => linkOf(write, event, k)),
});

/** One appendToStreams call waiting for the next group commit. */
export interface PendingAppend {
  writes: SerializedWrite[];
  /** the read-model row changes its events cause (when the store projects inline) */
  changes?: ChangeRow[];
  /** the rows of its processes after those changes */
  rowsAfter?: ProcessRows;
  resolve: (results: AppendResult[]) => void;
  reject: (error: unknown) => void;
}

interface OutcomeRow {
  o_append: number;
  o_write: number;
  o_outcome: AppendOutcome;
  o_revision: string | null;
  o_position: string | null;
  o_detail: string | null;
}

/** -2 = any, -1 = no stream (a stream with no events has revision -1), else the revision. */
const expectedCode = (expected: ExpectedRevision): number =>
  expected === 'any' ? -2 : expected === 'no_stream' ? -1 : expected;

/**
 * Commits a group of appends in one statement (its own transaction), hands the rows stored
 * and the head they follow to `stored` (the feed), then settles each pending append with
 * its results or its own failure: so a caller's read models can have its events before
 * it continues. Throws only when the statement as a whole failed, in which case nothing
 * of the batch is stored (or all of it was and the reply was lost).
 */
export const commitBatch = async (
  pool: pg.Pool | pg.ClientBase,
  schema: string,
  batch: readonly PendingAppend[],
  stored: (rows: EventRow[], headBefore: Position) => void,
  project: boolean,
  settled?: (
    pending: PendingAppend,
    results: AppendResult[] | undefined,
    replayed: boolean,
  ) => void,
): Promise<'done' | 'behind'> => {
  const params = {
    append: [] as number[],
    stream: [] as string[],
    streamJson: [] as string[],
    expected: [] as number[],
    count: [] as number[],
    id: [] as string[],
    type: [] as string[],
    data: [] as string[],
    metadata: [] as string[],
    link: [] as (string | null)[],
    c: {
      append: [] as number[],
      src: [] as number[],
      table: [] as string[],
      op: [] as string[],
      k1: [] as string[],
      k2: [] as (string | null)[],
      k3: [] as (string | null)[],
      row: [] as (string | null)[],
      pos: [] as string[],
    },
  };
  /** index (0-based) of each append's first write among all the batch's writes */
  const firstWrite: number[] = [];
  batch.forEach((pending, a) => {
    firstWrite.push(params.stream.length);
    for (const write of pending.writes) {
      params.append.push(a + 1);
      params.stream.push(write.stream);
      params.streamJson.push(JSON.stringify(write.stream));
      params.expected.push(expectedCode(write.expectedRevision));
      params.count.push(write.events.length);
      for (const event of write.events) {
        params.id.push(event.id);
        params.type.push(event.type);
        params.data.push(event.data);
        params.metadata.push(event.metadata);
      }
      params.link.push(...write.links);
    }
    for (const change of pending.changes ?? []) {
      const c = params.c;
      c.append.push(a + 1);
      c.src.push(change.source);
      c.table.push(change.table);
      c.op.push(change.op);
      c.k1.push(change.k1);
      c.k2.push(change.k2);
      c.k3.push(change.k3);
      c.row.push(change.row);
      c.pos.push(String(change.position));
    }
  });
  const { rows: outcomes } = await pool.query<OutcomeRow>({
    name: 'procreg-append-batch',
    text: `SELECT * FROM ${qualified(schema, 'append_batch')}($1, $2, $3, $4, $5, $6, $7, $8, $9,
             $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
    values: [
      params.append,
      params.stream,
      params.streamJson,
      params.expected,
      params.count,
      params.id,
      params.type,
      params.data,
      params.metadata,
      params.link,
      project,
      params.c.append,
      params.c.src,
      params.c.table,
      params.c.op,
      params.c.k1,
      params.c.k2,
      params.c.k3,
      params.c.row,
      params.c.pos,
    ],
  });
  if (outcomes.some((row) => row.o_outcome === 'behind')) return 'behind';
  const byAppend = new Map<number, OutcomeRow[]>();
  let headBefore: Position = 0n;
  for (const row of outcomes) {
    if (row.o_outcome === 'head') headBefore = BigInt(row.o_position!);
    else byAppend.set(row.o_append, [...(byAppend.get(row.o_append) ?? []), row]);
  }
  const newRows: EventRow[] = [];
  const settle = batch.map((pending, a) => {
    const rows = byAppend.get(a + 1) ?? [];
    const refused = rows.find((row) => row.o_outcome !== 'ok');
    if (refused || rows.length !== pending.writes.length) {
      const error = refusal(pending, refused, firstWrite[a]!);
      return () => {
        settled?.(pending, undefined, false);
        pending.reject(error);
      };
    }
    const results = rows.map((row, i) => {
      const write = pending.writes[i]!;
      const result = { nextRevision: Number(row.o_revision), position: BigInt(row.o_position!) };
      if (row.o_detail !== 'replay') {
        // a new write's events end at its result and are numbered densely before it
        const first = result.nextRevision - write.events.length + 1;
        write.events.forEach((event, k) => {
          const position = result.position - BigInt(write.events.length - 1 - k);
          newRows.push(toEventRow(event, write.stream, first + k, position));
        });
      }
      return result;
    });
    const replayed = rows.some((row) => row.o_detail === 'replay');
    return () => {
      settled?.(pending, results, replayed);
      pending.resolve(results);
    };
  });
  newRows.sort((x, y) => (x.position < y.position ? -1 : 1));
  stored(newRows, headBefore);
  for (const done of settle) done();
  return 'done';
};

const refusal = (pending: PendingAppend, row: OutcomeRow | undefined, offset: number): Error => {
  // o_write numbers the batch's writes from 1
  const write = row ? pending.writes[row.o_write - 1 - offset] : undefined;
  if (!row || !write) {
    return new RegistryError(
      'unavailable',
      'PostgreSQL returned no outcome for an append; retry it',
    );
  }
  if (row.o_outcome === 'wrong') {
    return new WrongExpectedRevisionError(
      write.stream,
      write.expectedRevision,
      Number(row.o_revision),
    );
  }
  const [id, stream] = (row.o_detail ?? '').split('\n');
  return new RegistryError(
    'conflict',
    stream
      ? `event id ${id} is already stored (stream ${stream}, revision ${row.o_revision}); a retried append must use the same expected revision, and new events need new ids`
      : `event id ${id} appears twice in one append; new events need new ids`,
  );
};
