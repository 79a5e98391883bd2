import { RegistryError } from '../domain/errors.ts';
import type { ProcessHandleGrant, ProcessRecord, Scope } from '../domain/schemas.ts';
import { ServiceError } from './errors.ts';
import type { Principal } from './tokens.ts';

/** The reads visibility needs; the live registry and an `asOf` view both have them. */
export interface VisibilitySource {
  getProcess(processId: string): Promise<ProcessRecord | undefined>;
  handleGrantsForProcess(processId: string): Promise<ProcessHandleGrant[]>;
}

export const seesEverything = (p: Principal): boolean => p.kind !== 'sessions';

/** The registry's own message for an unknown process, so a hidden one looks exactly alike. */
export const unknownProcess = (id: string): RegistryError =>
  new RegistryError('not_found', `unknown process \`${id}\`; register it first (registerProcess)`);

/**
 * Whether the principal may see a record: it owns it (provenance owner session) or one of its
 * sessions holds a grant. Visibility is decided on the same view the answer comes from, so
 * `asOf` pages show what the token could see then.
 */
export const canSee = async (
  source: VisibilitySource,
  principal: Principal,
  record: ProcessRecord,
): Promise<boolean> => {
  if (principal.kind !== 'sessions') return true;
  if (principal.sessions.has(record.provenance.ownerScope.sessionId)) return true;
  const grants = await source.handleGrantsForProcess(record.id);
  return grants.some((g) => principal.sessions.has(g.sessionId));
};

/**
 * Refuses a process the principal may not see as `not_found`, with the registry's wording,
 * never a different answer that would hint it exists. Admin and open principals see
 * everything, so nothing is read for them: the registry itself answers for unknown ids.
 */
export const requireVisible = async (
  source: VisibilitySource,
  principal: Principal,
  id: string,
): Promise<void> => {
  if (principal.kind !== 'sessions') return;
  const record = await source.getProcess(id);
  if (!record || !(await canSee(source, principal, record))) throw unknownProcess(id);
};

export const isVisible = async (
  source: VisibilitySource,
  principal: Principal,
  id: string,
): Promise<boolean> => {
  const record = await source.getProcess(id);
  return record !== undefined && (await canSee(source, principal, record));
};

/** A scope the principal acts for: one of its sessions (any frame), else 401-class refusal. */
export const requireOwnScope = (principal: Principal, scope: Scope | undefined, what: string) => {
  if (principal.kind !== 'sessions' || scope === undefined) return;
  if (typeof scope !== 'object' || scope === null || typeof scope.sessionId !== 'string') return;
  if (!principal.sessions.has(scope.sessionId)) {
    throw new ServiceError(
      'unauthorized',
      `this token acts for sessions ${[...principal.sessions].join(', ')}, not for the ${what} session \`${scope.sessionId}\``,
      403,
    );
  }
};

export const requireAdmin = (principal: Principal, what: string): void => {
  if (principal.kind === 'sessions') {
    throw new ServiceError('unauthorized', `${what} needs an admin token`, 403);
  }
};

/** Only the visible ones, order kept. */
export const visibleRecords = async (
  source: VisibilitySource,
  principal: Principal,
  records: ProcessRecord[],
): Promise<ProcessRecord[]> => {
  if (principal.kind !== 'sessions') return records;
  const keep: ProcessRecord[] = [];
  for (const record of records) if (await canSee(source, principal, record)) keep.push(record);
  return keep;
};
