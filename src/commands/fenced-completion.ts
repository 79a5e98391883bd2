import type { ProcessState } from '../domain/process-state.ts';
import type { ProcessAwaitOutput, ProcessLease, ProcessRecord } from '../domain/schemas.ts';
import type { Decision } from './decision.ts';
import { requireHeldLease } from './leases.ts';
import { decideComplete } from './terminal.ts';

/**
 * completeProcessWithLease: the worker that holds the live lease ends the process and
 * releases its lease in one write (the terminal event, then `LeaseReleased`, on the one
 * stream under one expected revision), so no other owner can claim in between and a
 * worker that lost its lease can never complete. The lease is checked first (`lease_lost`,
 * as `renewProcessLease`), then the completion's own rules (`completeProcess`): the same
 * outcome already stored is a replay and only the lease is released; another outcome is
 * `already_terminal` or `conflict`, and nothing is written.
 */
export const decideCompleteWithLease = (
  state: ProcessState | undefined,
  command: { lease: ProcessLease; output: ProcessAwaitOutput; now: number },
): Decision<ProcessRecord> => {
  const { lease, output, now } = command;
  const held = requireHeldLease(state, lease, now);
  const completion = decideComplete(state, { processId: lease.processId, output, now });
  return {
    events: [
      ...completion.events,
      {
        type: 'LeaseReleased',
        data: {
          processId: held.processId,
          leaseToken: held.leaseToken,
          fencingToken: held.fencingToken,
          atMs: now,
        },
      },
    ],
    result: completion.result,
  };
};
