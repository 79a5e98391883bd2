import type { Json } from '../domain/json.ts';
import { byCodeUnits } from '../domain/order.ts';
import type { ProcessHandleGrant } from '../domain/schemas.ts';

/** A process's grants: by sessionId, then scope id. */
export const byGrantOrder = (a: ProcessHandleGrant, b: ProcessHandleGrant): number =>
  byCodeUnits(a.sessionId, b.sessionId) || byCodeUnits(a.scopeId, b.scopeId);

/**
 * The canonical dump both table implementations produce: `table/key` → row, keys sorted,
 * rows as JSON values (a round trip drops `undefined` members, as a SQL table does).
 */
export const tableDump = (tables: Record<string, [string, unknown][]>): Map<string, Json> => {
  const entries: [string, Json][] = [];
  for (const [table, rows] of Object.entries(tables)) {
    for (const [key, row] of rows) {
      entries.push([`${table}/${key}`, JSON.parse(JSON.stringify(row)) as Json]);
    }
  }
  return new Map(entries.sort(([a], [b]) => byCodeUnits(a, b)));
};
