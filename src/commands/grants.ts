import { RegistryError } from '../domain/errors.ts';
import { grantOf } from '../domain/grant.ts';
import { isTerminal, type ProcessState } from '../domain/process-state.ts';
import type {
  HandleDescriptor,
  ProcessHandleGrant,
  Scope,
  SessionDeleteReport,
} from '../domain/schemas.ts';
import { normalizeScope, scopeIdOf } from '../domain/scope.ts';
import { type Decision, noop, type States } from './decision.ts';
import { requireRecord } from './require.ts';

/** grantHandle: an upsert. The same descriptor again writes nothing. */
export const decideGrant = (
  state: ProcessState | undefined,
  command: { scope: Scope; processId: string; descriptor: HandleDescriptor; now: number },
): Decision<ProcessHandleGrant> => {
  requireRecord(state, command.processId);
  const scope = normalizeScope(command.scope);
  const existing = state?.grants.get(scopeIdOf(scope));
  if (existing && sameDescriptor(existing.descriptor, command.descriptor)) {
    return noop(grantOf(scope, command.processId, existing.descriptor, existing.grantedAtMs));
  }
  return {
    events: [
      {
        type: 'HandleGranted',
        data: {
          processId: command.processId,
          scope,
          descriptor: command.descriptor,
          atMs: command.now,
        },
      },
    ],
    result: grantOf(scope, command.processId, command.descriptor, command.now),
  };
};

const sameDescriptor = (a: HandleDescriptor, b: HandleDescriptor): boolean =>
  a.kind === b.kind && a.label === b.label;

/** revokeHandle: an absent grant, even of an unknown process, is a no-op. */
export const decideRevoke = (
  state: ProcessState | undefined,
  command: { scope: Scope; processId: string; now: number },
): Decision<void> => {
  const scope = normalizeScope(command.scope);
  if (!state?.grants.has(scopeIdOf(scope))) return noop(undefined);
  return {
    events: [
      {
        type: 'HandleRevoked',
        data: { processId: command.processId, scope, reason: 'revoked', atMs: command.now },
      },
    ],
    result: undefined,
  };
};

/**
 * transferHandleGrants: all or nothing. Every id must be granted to `from`, or nothing
 * moves (`not_granted`). A grant moved onto a scope that already holds one replaces it.
 */
export const decideTransfer = (
  states: States,
  command: { from: Scope; to: Scope; processIds: readonly string[]; now: number },
): Decision<void> => {
  const from = normalizeScope(command.from);
  const to = normalizeScope(command.to);
  const fromId = scopeIdOf(from);
  const ids = [...new Set(command.processIds)];
  const moves = ids.map((processId) => {
    const grant = states.get(processId)?.grants.get(fromId);
    if (!grant) {
      throw new RegistryError(
        'not_granted',
        `process \`${processId}\` is not granted to session scope \`${fromId}\`; nothing was transferred`,
        { processId },
      );
    }
    return { processId, descriptor: grant.descriptor };
  });
  if (fromId === scopeIdOf(to)) return noop(undefined);
  return {
    events: moves.map(({ processId, descriptor }) => ({
      type: 'HandleTransferred' as const,
      data: { processId, from, to, descriptor, atMs: command.now },
    })),
    result: undefined,
  };
};

export interface SessionDeletion {
  processId: string;
  revoked: number;
  /** the process is not terminal */
  live: boolean;
  /** grants of other sessions remain */
  grantsLeft: boolean;
}

/**
 * deleteSessionProcessState, for one process: revoke every grant of the session (all of its
 * frames). The report is assembled from all processes' results by the caller.
 */
export const decideDeleteSession = (
  state: ProcessState | undefined,
  command: { processId: string; sessionId: string; now: number },
): Decision<SessionDeletion> => {
  const scopes = [...(state?.grants.values() ?? [])]
    .map((g) => g.scope)
    .filter((scope) => scope.sessionId === command.sessionId);
  return {
    events: scopes.map((scope) => ({
      type: 'HandleRevoked' as const,
      data: {
        processId: command.processId,
        scope,
        reason: 'session_deleted' as const,
        atMs: command.now,
      },
    })),
    result: {
      processId: command.processId,
      revoked: scopes.length,
      live: state?.record ? !isTerminal(state.record) : false,
      grantsLeft: (state?.grants.size ?? 0) > scopes.length,
    },
  };
};

/** The whole session deletion over every process that held one of the session's grants. */
export const decideDeleteSessionAll = (
  states: States,
  command: { sessionId: string; now: number },
): Decision<SessionDeleteReport> => {
  const perProcess = [...states].map(([processId, state]) =>
    decideDeleteSession(state, { processId, sessionId: command.sessionId, now: command.now }),
  );
  const touched = perProcess.map((d) => d.result).filter((r) => r.revoked > 0 && r.live);
  const ids = (keep: (r: SessionDeletion) => boolean) =>
    [...new Set(touched.filter(keep).map((r) => r.processId))].sort();
  return {
    events: perProcess.flatMap((d) => d.events),
    result: {
      sessionId: command.sessionId,
      revokedHandleCount: perProcess.reduce((sum, d) => sum + d.result.revoked, 0),
      // nothing per session to delete: see SessionDeleteReportSchema
      deletedWakeCount: 0,
      cancelProcessIds: ids((r) => !r.grantsLeft),
      preservedProcessIds: ids((r) => r.grantsLeft),
    },
  };
};
