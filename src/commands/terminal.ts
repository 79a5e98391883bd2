import { hashJson } from '../domain/canonical.ts';
import type { Json } from '../domain/json.ts';
import type { AppendRequest, ProcessAwaitOutput } from '../domain/schemas.ts';

const terminalTypeFor = {
  success: 'process.completed',
  failure: 'process.failed',
  cancelled: 'process.cancelled',
} as const;

/**
 * The append request `completeProcess` makes: one terminal event type per outcome type and
 * a replay key per event type, so the same outcome again is a replay (idempotent), the same
 * type with another value is a replay `conflict`, and another type is `already_terminal`
 * (appendEvent's terminal rule: the new type's replay key is fresh).
 */
export const completionRequest = (processId: string, output: ProcessAwaitOutput): AppendRequest => {
  const eventType = terminalTypeFor[output.type];
  return {
    eventType,
    payload: { awaitOutput: output as Json },
    replayKey: `process:${processId}:terminal:${eventType}`,
  };
};

/**
 * The request for `process.cancel_requested`: payload `{ reason }` and a replay key derived
 * from the payload, so asking twice for the same reason records one request.
 */
export const cancelRequest = (processId: string, reason?: string): AppendRequest => {
  const payload = { reason: reason ?? null };
  const eventType = 'process.cancel_requested';
  return {
    eventType,
    payload,
    replayKey: `process:${processId}:cancel_requested:${hashJson([eventType, payload])}`,
  };
};
