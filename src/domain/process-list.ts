import { z } from 'zod';
import { RegistryError } from './errors.ts';
import {
  IdSchema,
  type ProcessHandleGrant,
  type ProcessRecord,
  terminalStates,
} from './schemas.ts';

/**
 * Worklists: which processes `listProcesses` returns, in which order, and the opaque
 * cursors of listings and of the change feed. Declared once; every table implementation
 * (memory, SQLite, PostgreSQL, versions as of a point) answers the same filter in the same
 * order, and the conformance suite holds them to it.
 */

export const processStatusFilters = ['running', ...terminalStates, 'terminal'] as const;

export const ProcessFilterSchema = z.strictObject({
  /** `running`, one terminal state, or `terminal` (any of them) */
  status: z.enum(processStatusFilters).optional(),
  /** the session of the process's owner scope (`provenance.ownerScope.sessionId`) */
  ownerSessionId: IdSchema.optional(),
  /** a session holding a grant (any frame) on the process */
  grantedSessionId: IdSchema.optional(),
  /** `input.type` */
  inputType: IdSchema.optional(),
  /** a grant's descriptor label, exactly */
  label: z.string().max(4096).optional(),
  /** created at or after (epoch ms) */
  createdFromMs: z.number().finite().optional(),
  /** created before (epoch ms): with createdFromMs, the half-open range [from, to) */
  createdToMs: z.number().finite().optional(),
});
export type ProcessFilter = z.infer<typeof ProcessFilterSchema>;

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1_000;

export const CursorSchema = z.string().max(4096);
export const PageLimitSchema = z.number().int().min(1).max(MAX_PAGE_LIMIT);

export const PageSchema = z.strictObject({
  limit: PageLimitSchema.optional(),
  cursor: CursorSchema.optional(),
});
export type Page = z.infer<typeof PageSchema>;

/** A listing's place: the (createdAtMs, id) of the last record of the previous page. */
export interface ListKey {
  createdAtMs: number;
  id: string;
}

/** What the tables answer: up to `limit` matching records after `after`, in list order. */
export interface ProcessQuery {
  filter: ProcessFilter;
  after?: ListKey;
  limit: number;
}

/**
 * Strings by Unicode code point, which is the byte order of their UTF-8 (SQLite's BINARY
 * collation, PostgreSQL's "C"): JavaScript's `<` compares UTF-16 code units, which puts
 * U+E000..U+FFFF after the surrogate pairs of U+10000 and above.
 */
export const byCodePoints = (a: string, b: string): number => {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys && (xs ? y : x) >= 0xe000) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
};

/** List order: createdAtMs, then id by code point. */
export const byListOrder = (a: ListKey, b: ListKey): number =>
  a.createdAtMs - b.createdAtMs || byCodePoints(a.id, b.id);

export const isAfter = (record: ListKey, after: ListKey | undefined): boolean =>
  after === undefined || byListOrder(record, after) > 0;

/** Whether the record (with its grants, read only when the filter names grants) matches. */
export const matchesProcessFilter = (
  record: ProcessRecord,
  filter: ProcessFilter,
  grantsOf: (processId: string) => readonly ProcessHandleGrant[],
): boolean => {
  const state = record.status.state;
  if (filter.status !== undefined) {
    if (filter.status === 'terminal' ? state === 'running' : state !== filter.status) return false;
  }
  if (
    filter.ownerSessionId !== undefined &&
    record.provenance.ownerScope.sessionId !== filter.ownerSessionId
  ) {
    return false;
  }
  if (filter.inputType !== undefined && record.input.type !== filter.inputType) return false;
  if (filter.createdFromMs !== undefined && record.createdAtMs < filter.createdFromMs) return false;
  if (filter.createdToMs !== undefined && record.createdAtMs >= filter.createdToMs) return false;
  if (filter.grantedSessionId !== undefined || filter.label !== undefined) {
    const grants = grantsOf(record.id);
    const held = grants.some(
      (g) =>
        (filter.grantedSessionId === undefined || g.sessionId === filter.grantedSessionId) &&
        (filter.label === undefined || g.descriptor.label === filter.label),
    );
    if (!held) return false;
  }
  return true;
};

/** The answer for tables that hold their records in memory: filter, sort, page. */
export const listFromRecords = (
  records: Iterable<ProcessRecord>,
  query: ProcessQuery,
  grantsOf: (processId: string) => readonly ProcessHandleGrant[],
): ProcessRecord[] => {
  const matching: ProcessRecord[] = [];
  for (const record of records) {
    if (isAfter(record, query.after) && matchesProcessFilter(record, query.filter, grantsOf)) {
      matching.push(record);
    }
  }
  return matching.sort(byListOrder).slice(0, query.limit);
};

const ListCursorSchema = z.tuple([z.literal('l'), z.number().finite(), z.string()]);
const ChangeCursorSchema = z.tuple([z.literal('c'), z.string().regex(/^\d{1,40}$/)]);

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

const decode = <S extends z.ZodType>(schema: S, cursor: string, what: string): z.output<S> => {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new RegistryError(
      'invalid',
      `invalid ${what}: \`${cursor.slice(0, 64)}\` is not a cursor this registry issued; pass the nextCursor of a previous answer, or none to start`,
    );
  }
  return parsed.data;
};

export const listCursor = (key: ListKey): string => encode(['l', key.createdAtMs, key.id]);

export const readListCursor = (cursor: string): ListKey => {
  const [, createdAtMs, id] = decode(ListCursorSchema, cursor, 'listProcesses cursor');
  return { createdAtMs, id };
};

/** The change feed's cursor: a global log position, opaque to callers. */
export const changeCursor = (position: bigint): string => encode(['c', position.toString()]);

export const readChangeCursor = (cursor: string): bigint =>
  BigInt(decode(ChangeCursorSchema, cursor, 'processesChangedSince cursor')[1]);
