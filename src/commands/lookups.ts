import type { ProcessState, ReplayEntry } from '../domain/process-state.ts';

/**
 * Facts of a process that a durable store indexes, so the folded state need not hold them:
 * its replay keys and its unacked wakes. Without lookups (memory, EventStoreDB) the state
 * holds every key and wake, as the fold leaves them.
 *
 * Invariant with lookups: a cached state's `replayKeys`, `wakeSequences` and `ackedWakes`
 * are empty, except during one decision, when they hold exactly what that command names
 * (`hydrate`), read from indexes committed with the events. An index can only be ahead of
 * the cached state (another instance appended since), never behind it, and the append's
 * expected revision catches a state that is behind.
 */
export interface Lookups {
  replay(processId: string, key: string): ReplayEntry | undefined;
  unackedWake(processId: string, sequence: number): boolean;
}

/** What a command on one process reads beyond its folded state. */
export interface CommandNeeds {
  replayKeys?: readonly string[];
  wakes?: readonly number[];
}

export const hydrate = (
  state: ProcessState,
  processId: string,
  needs: CommandNeeds,
  lookups: Lookups,
): void => {
  for (const key of needs.replayKeys ?? []) {
    const entry = lookups.replay(processId, key);
    if (entry) state.replayKeys.set(key, entry);
  }
  for (const sequence of needs.wakes ?? []) {
    // unacked = a wake not yet acked: exactly the question decideAckWake asks
    if (lookups.unackedWake(processId, sequence)) state.wakeSequences.add(sequence);
  }
};

/** Empties what the indexes hold for the state, so memory does not grow with the stream. */
export const shed = (state: ProcessState): void => {
  state.replayKeys.clear();
  state.wakeSequences.clear();
  state.ackedWakes.clear();
};
