import type { RegistryError } from '../domain/errors.ts';
import type { DomainEvent } from '../domain/events.ts';
import type { ProcessState } from '../domain/process-state.ts';

/**
 * What a decide function returns: the domain events to append (none for a no-op) and the
 * caller's result. Decide functions are pure: same state and command, same decision. They
 * never mutate the state they are given; randomness and time come in through the command.
 */
export interface Decision<R> {
  events: DomainEvent[];
  result: R;
  /**
   * A no-op that refused what the caller asked without failing the call (a stale lease
   * holder's completion): the caller gets `result`, the journal of refused commands gets
   * this error. Only with no events.
   */
  refused?: RegistryError;
}

export const noop = <R>(result: R): Decision<R> => ({ events: [], result });

/** The states of the processes a command touches, by processId. */
export type States = ReadonlyMap<string, ProcessState>;
