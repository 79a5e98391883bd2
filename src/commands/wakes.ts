import type { ProcessState } from '../domain/process-state.ts';
import { type Decision, noop } from './decision.ts';
import { requireRecord } from './require.ts';

/**
 * ackWake: idempotent. Acking a sequence that carries no wake, or one already acked,
 * writes nothing (there is nothing to acknowledge).
 */
export const decideAckWake = (
  state: ProcessState | undefined,
  command: { processId: string; sequence: number; now: number },
): Decision<void> => {
  requireRecord(state, command.processId);
  if (!state?.wakeSequences.has(command.sequence) || state.ackedWakes.has(command.sequence)) {
    return noop(undefined);
  }
  return {
    events: [
      {
        type: 'WakeAcked',
        data: { processId: command.processId, sequence: command.sequence, atMs: command.now },
      },
    ],
    result: undefined,
  };
};
