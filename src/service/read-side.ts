import type { ProcessRegistry } from '../registry.ts';
import { ServiceError } from './errors.ts';
import type { Ctx } from './wire.ts';

/** The read operations the live registry and an `asOf` view share. */
export type ReadSide = Pick<
  ProcessRegistry,
  | 'getProcess'
  | 'eventsAfter'
  | 'listHandleGrants'
  | 'handleGrantsForProcess'
  | 'listNonTerminal'
  | 'listProcesses'
  | 'getProcessLease'
  | 'wakeEventsAfter'
  | 'hasHandleGrant'
  | 'recentEvents'
  | 'countEvents'
>;

/**
 * `?asOf=` on a read route: epoch ms, an ISO time, or `pos:<n>` (a global log position as
 * `history` reports it). Absent: the live registry.
 */
export const parseAsOf = (raw: string | undefined): number | { position: bigint } | undefined => {
  if (raw === undefined || raw === '') return undefined;
  const pos = /^pos:(\d{1,19})$/.exec(raw);
  if (pos) return { position: BigInt(pos[1]!) };
  if (/^-?\d{1,16}(\.\d{1,6})?$/.test(raw)) return Number(raw);
  const ms = Date.parse(raw);
  if (Number.isFinite(ms) && /^\d{4}-\d\d-\d\d/.test(raw)) return ms;
  throw new ServiceError(
    'invalid',
    `asOf=${raw} is not a point in time; use epoch ms, an ISO time (2026-11-27T14:03:00Z) or pos:<n>`,
  );
};

export const readSideOf = (c: Ctx): ReadSide => {
  const point = parseAsOf(c.req.query('asOf'));
  const registry = c.get('registry');
  return point === undefined ? registry : registry.asOf(point);
};
