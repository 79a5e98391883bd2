import { expect } from 'vitest';
import type { Decision } from '../../src/commands/decision.ts';
import type { RegistryErrorCode } from '../../src/domain/errors.ts';
import type { DomainEvent } from '../../src/domain/events.ts';
import { fold, initialProcessState, type ProcessState } from '../../src/domain/process-state.ts';

/**
 * Given/when/then for pure deciders, in the manner of Emmett's DeciderSpecification:
 * given the domain events already on a process stream, when a command is decided, then
 * these events are decided (and this result returned), or this error is thrown.
 */
export const deciderSpec =
  <C, R>(decide: (state: ProcessState, command: C) => Decision<R>) =>
  (given: readonly DomainEvent[]) => {
    const state = fold(initialProcessState(), given);
    return {
      when: (command: C) => {
        const run = () => decide(state, command);
        return {
          // biome-ignore lint/suspicious/noThenProperty: given/when/then reads as the spec; this object is never awaited
          then: (events: readonly DomainEvent[], result?: R): void => {
            const decision = run();
            expect(decision.events).toEqual(events);
            expect(decision.refused).toBeUndefined();
            if (result !== undefined) expect(decision.result).toEqual(result);
          },
          thenResult: (check: (result: R, events: readonly DomainEvent[]) => void): void => {
            const decision = run();
            check(decision.result, decision.events);
          },
          /** a no-op that refused (the journal of refused commands records it) */
          thenRefuses: (code: RegistryErrorCode, message?: string | RegExp): void => {
            const decision = run();
            expect(decision.events).toEqual([]);
            expect(decision.refused).toMatchObject({ name: 'RegistryError', code });
            if (message !== undefined) expect(decision.refused?.message).toMatch(message);
          },
          thenThrows: (code: RegistryErrorCode, message?: string | RegExp): void => {
            let thrown: unknown;
            try {
              run();
            } catch (error) {
              thrown = error;
            }
            expect(thrown).toMatchObject({ name: 'RegistryError', code });
            if (message !== undefined) expect((thrown as Error).message).toMatch(message);
          },
        };
      },
    };
  };
