import { type ProcessState, recordWithExternalRef } from '../domain/process-state.ts';
import type { ExternalRef, ProcessRecord } from '../domain/schemas.ts';
import type { Decision } from './decision.ts';
import { requireRecord } from './require.ts';

/** setExternalRef: always recorded (it bumps `updatedAtMs`), even when unchanged. */
export const decideSetExternalRef = (
  state: ProcessState | undefined,
  command: { processId: string; externalRef: ExternalRef; now: number },
): Decision<ProcessRecord> => {
  const record = requireRecord(state, command.processId);
  return {
    events: [
      {
        type: 'ExternalRefSet',
        data: { processId: command.processId, externalRef: command.externalRef, atMs: command.now },
      },
    ],
    result: recordWithExternalRef(record, command.externalRef, command.now),
  };
};
