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
}

export const noop = <R>(result: R): Decision<R> => ({ events: [], result });

/** The states of the processes a command touches, by processId. */
export type States = ReadonlyMap<string, ProcessState>;
