import type { Scope } from './schemas.ts';

/** `session:<sessionId>`, plus `/frame:<agentFrameId>` only when the frame id is non-empty. */
export const scopeIdOf = (scope: Scope): string =>
  scope.agentFrameId
    ? `session:${scope.sessionId}/frame:${scope.agentFrameId}`
    : `session:${scope.sessionId}`;

/** A scope as stored: an empty frame id is the same scope as none. */
export const normalizeScope = (scope: Scope): Scope =>
  scope.agentFrameId
    ? { sessionId: scope.sessionId, agentFrameId: scope.agentFrameId }
    : { sessionId: scope.sessionId };
