import { isRegistryError } from '../domain/errors.ts';
import { isJournaledCode, type RefusedCommand } from '../domain/refusal.ts';
import type { AuditContext } from '../domain/schemas.ts';
import type { States } from './decision.ts';

/**
 * What the journal of refused commands records of a decision's refusal, or undefined when
 * there is nothing to journal: an error that is not a domain refusal (`invalid`,
 * `not_found`, a failure), or one about no process that exists (a transfer naming an
 * unknown id). A command over several processes is journaled under the process its error
 * names; a single-process command under its process. Pure: time and ids come in.
 */
export const refusalOf = (
  error: unknown,
  command: {
    command: string;
    commandId: string;
    audit: AuditContext | undefined;
    processIds: readonly string[];
  },
  states: States,
  now: number,
): RefusedCommand | undefined => {
  if (!isRegistryError(error) || !isJournaledCode(error.code)) return undefined;
  const processId =
    error.processId ?? (command.processIds.length === 1 ? command.processIds[0] : undefined);
  if (processId === undefined) return undefined;
  const state = states.get(processId);
  if (!state?.record || state.revision < 0) return undefined;
  return {
    processId,
    command: command.command,
    commandId: command.commandId,
    code: error.code,
    message: error.message,
    actor: command.audit?.actor ?? null,
    correlationId: command.audit?.correlationId ?? null,
    causationId: command.audit?.causationId ?? null,
    recordedAtMs: now,
    processCreatedAtMs: state.record.createdAtMs,
    afterRevision: state.revision,
  };
};
