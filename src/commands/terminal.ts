import { hashJson } from '../domain/canonical.ts';
import { deepFreeze } from '../domain/freeze.ts';
import type { Json } from '../domain/json.ts';
import { type ProcessState, recordAfterEvent } from '../domain/process-state.ts';
import type { AppendRequest, ProcessAwaitOutput, ProcessRecord } from '../domain/schemas.ts';
import { decideAppend } from './append.ts';
import type { Decision } from './decision.ts';

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
export const completionRequest = (
  processId: string,
  output: ProcessAwaitOutput,
): AppendRequest => ({
  eventType: terminalTypeFor[output.type],
  payload: { awaitOutput: output as Json },
  replayKey: completionReplayKey(processId, output),
});

/** The replay key of `completionRequest` (what the handler looks up before deciding). */
export const completionReplayKey = (processId: string, output: ProcessAwaitOutput): string =>
  `process:${processId}:terminal:${terminalTypeFor[output.type]}`;

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

/**
 * completeProcess: the terminal append (see `completionRequest`), answered with the record
 * from the command's own state rather than the read models, so once the terminal event is
 * stored the call succeeds even if the models cannot catch up now. A replay writes nothing
 * and is decided on the stream as stored, so its record is the terminal one whoever wrote it.
 */
export const decideComplete = (
  state: ProcessState | undefined,
  command: { processId: string; output: ProcessAwaitOutput; now: number },
): Decision<ProcessRecord> => {
  const { processId, now } = command;
  const decision = decideAppend(state, {
    processId,
    request: completionRequest(processId, command.output),
    now,
  });
  // decideAppend refused an unknown process, so the record is there
  const record = state!.record!;
  return {
    events: decision.events,
    result: deepFreeze(
      decision.events.length > 0 ? recordAfterEvent(record, decision.result.event) : record,
    ),
  };
};
