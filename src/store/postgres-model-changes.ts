import type pg from 'pg';
import { STREAM_PREFIX } from '../domain/events.ts';
import type { Json } from '../domain/json.ts';
import type { ProcessLease, ProcessRecord } from '../domain/schemas.ts';
import type { SerializedEvent } from './event-rows.ts';
import { MemoryTables } from './memory-tables.ts';
import { type Position, START, type StoredEvent } from './port.ts';
import { qualified } from './postgres-schema.ts';
import type { InlineProjection, ReadModelTables, RowChange } from './read-model-tables.ts';

/**
 * A row change as parameters of `apply_model_changes`, with the position of the event that
 * made it (its version starts there). Positions are not known before the append: -i names
 * the append's i-th event, resolved when stored.
 */
export interface ChangeRow {
  /** the event (1-based, within its append) whose projection made this change */
  source: number;
  table: string;
  /** `touch`: a whole record whose change makes no version (only updatedAtMs moved) */
  op: 'put' | 'delete' | 'touch';
  k1: string;
  k2: string | null;
  k3: string | null;
  row: string | null;
  /** the making event's position: -i for the append's i-th event, resolved when stored */
  position: bigint;
}

/** A row change as PostgreSQL stores it: whole records, no touches. */
type StoredChange = Exclude<RowChange, { touch: unknown }>;

const toChangeRow = (change: StoredChange, source: number, position: Position): ChangeRow => {
  const base = { source, k2: null, k3: null, row: null, position };
  switch (change.table) {
    case 'processes': {
      const r = change.put;
      const running = r.status.state === 'running' ? 'running' : 'ended';
      return { ...base, table: 'processes', op: 'put', k1: r.id, k2: running, row: json(r) };
    }
    case 'grants':
      return 'put' in change
        ? {
            ...base,
            table: 'grants',
            op: 'put',
            k1: change.put.scopeId,
            k2: change.put.processId,
            k3: change.put.sessionId,
            row: json(change.put),
          }
        : {
            ...base,
            table: 'grants',
            op: 'delete',
            k1: change.delete.scopeId,
            k2: change.delete.processId,
          };
    case 'leases':
      return 'put' in change
        ? { ...base, table: 'leases', op: 'put', k1: change.put.processId, row: json(change.put) }
        : { ...base, table: 'leases', op: 'delete', k1: change.delete.processId };
    case 'wakes': {
      const { processId, sequence } = 'put' in change ? change.put : change.delete;
      const op = 'put' in change ? 'put' : 'delete';
      return { ...base, table: 'wakes', op, k1: processId, k2: String(sequence) };
    }
    case 'replays': {
      const { processId, key, sequence, payloadHash } = change.put;
      return {
        ...base,
        table: 'replays',
        op: 'put',
        k1: processId,
        k2: key,
        k3: String(sequence),
        row: payloadHash,
      };
    }
    case 'events': {
      const { event } = change.put;
      return {
        ...base,
        table: 'events',
        op: 'put',
        k1: event.processId,
        k2: String(event.sequence),
        row: String(event.occurredAtMs),
      };
    }
    case 'all':
      return { ...base, table: 'all', op: 'delete', k1: change.purge.processId };
  }
};

const json = (value: unknown): string => JSON.stringify(value);

/** The rows a projection may read: each process's record and lease. */
export type ProcessRows = Map<string, { record?: ProcessRecord; lease?: ProcessLease }>;

/** Fetches the record and lease of each process, in one round trip. */
export const fetchProcessRows = async (
  client: pg.Pool | pg.ClientBase,
  schema: string,
  processIds: readonly string[],
): Promise<ProcessRows> => {
  const { rows } = await client.query<{ id: string; kind: 'record' | 'lease'; value: Json }>({
    name: 'procreg-model-rows',
    text: `SELECT id, 'record' AS kind, record AS value FROM ${qualified(schema, 'rm_processes')} WHERE id = ANY ($1)
           UNION ALL
           SELECT process_id, 'lease', lease FROM ${qualified(schema, 'rm_leases')} WHERE process_id = ANY ($1)`,
    values: [processIds],
  });
  const out: ProcessRows = new Map();
  for (const row of rows) {
    const entry = out.get(row.id) ?? {};
    if (row.kind === 'record') entry.record = row.value as unknown as ProcessRecord;
    else entry.lease = row.value as unknown as ProcessLease;
    out.set(row.id, entry);
  }
  return out;
};

/**
 * Runs the projection over one append's events on a scratch copy of the rows it may read
 * and returns the row changes, updating `rows` to what they will be after it. Events get
 * provisional positions -1, -2 … (their index in the append), resolved by the database.
 * Throws what the projection throws (an event it cannot read): then `rows` is unchanged.
 */
export const projectAppend = (
  projection: InlineProjection,
  rows: ProcessRows,
  writes: readonly { stream: string; revision: number; events: readonly SerializedEvent[] }[],
): ChangeRow[] => {
  const stored: StoredEvent[] = [];
  for (const write of writes) {
    write.events.forEach((event, i) => {
      stored.push({
        id: event.id,
        stream: write.stream,
        revision: write.revision + i,
        position: BigInt(-(stored.length + 1)),
        type: event.type,
        data: JSON.parse(event.data) as Json,
        metadata: JSON.parse(event.metadata) as Json,
      });
    });
  }
  return projectEvents(projection, rows, stored);
};

/**
 * The row changes of `events` (in log order), each tagged with the event (1-based) that
 * caused it, computed on a scratch copy of `rows`; `rows` then holds what they will be.
 * Throws what the projection throws (an event it cannot read), leaving `rows` unchanged.
 */
export const projectEvents = (
  projection: InlineProjection,
  rows: ProcessRows,
  events: readonly StoredEvent[],
): ChangeRow[] => {
  const scratch = new MemoryTables();
  for (const { record, lease } of rows.values()) {
    if (record) scratch.write({ table: 'processes', put: record }, START);
    if (lease) scratch.write({ table: 'leases', put: lease }, START);
  }
  const changes: ChangeRow[] = [];
  const made: StoredChange[] = [];
  let source = 0;
  let lastTime = Number.NEGATIVE_INFINITY;
  const recording: ReadModelTables = Object.create(scratch, {
    write: {
      value: (change: RowChange, position: Position) => {
        scratch.write(change, position);
        // PostgreSQL stores whole records: a touch becomes a `touch` of the whole record
        if ('touch' in change) {
          const record = scratch.process(change.touch.processId);
          if (!record) return;
          const put: StoredChange = { table: 'processes', put: record };
          made.push(put);
          changes.push({ ...toChangeRow(put, source, position), op: 'touch' });
          return;
        }
        made.push(change);
        changes.push(toChangeRow(change, source, position));
      },
    },
    recordTime: {
      value: (position: Position, recordedAtMs: number) => {
        // the schema's running maximum is at least the last time sent: this one cannot grow it
        if (recordedAtMs <= lastTime) return;
        lastTime = recordedAtMs;
        const time = { table: 'time', op: 'put', k1: String(recordedAtMs) } as const;
        changes.push({ ...time, source, k2: null, k3: null, row: null, position });
      },
    },
  });
  for (const event of events) {
    source += 1;
    projection.project([event], recording);
  }
  for (const change of made) {
    if (change.table === 'processes') {
      rows.set(change.put.id, { ...rows.get(change.put.id), record: change.put });
    } else if (change.table === 'leases') {
      const processId = 'put' in change ? change.put.processId : change.delete.processId;
      const entry = { ...rows.get(processId) };
      if ('put' in change) entry.lease = change.put;
      else delete entry.lease;
      rows.set(processId, entry);
    }
  }
  return changes;
};

/** The processes whose streams these are (the rows their events may read). */
export const processIdsOf = (streams: Iterable<string>): string[] => [
  ...new Set(
    [...streams].flatMap((s) =>
      s.startsWith(STREAM_PREFIX) ? [s.slice(STREAM_PREFIX.length)] : [],
    ),
  ),
];
