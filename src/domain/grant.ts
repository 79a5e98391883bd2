import type { HandleDescriptor, ProcessHandleGrant, Scope } from './schemas.ts';
import { normalizeScope, scopeIdOf } from './scope.ts';

/** A handle grant as queries return it: the scope's parts, its id, and the descriptor. */
export const grantOf = (
  scope: Scope,
  processId: string,
  descriptor: HandleDescriptor,
  grantedAtMs: number,
): ProcessHandleGrant => {
  const normalized = normalizeScope(scope);
  return {
    sessionId: normalized.sessionId,
    ...(normalized.agentFrameId ? { agentFrameId: normalized.agentFrameId } : {}),
    scopeId: scopeIdOf(normalized),
    processId,
    descriptor,
    grantedAtMs,
  };
};
