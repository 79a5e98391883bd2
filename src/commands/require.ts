import { RegistryError } from '../domain/errors.ts';
import type { ProcessState } from '../domain/process-state.ts';
import type { ProcessRecord } from '../domain/schemas.ts';

/** The record of a registered process, or `not_found` naming it. */
export const requireRecord = (
  state: ProcessState | undefined,
  processId: string,
): ProcessRecord => {
  if (!state?.record) {
    throw new RegistryError(
      'not_found',
      `unknown process \`${processId}\`; register it first (registerProcess)`,
    );
  }
  return state.record;
};
