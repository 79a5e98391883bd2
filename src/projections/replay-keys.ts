import type { ReadModel } from './definition.ts';

/**
 * Replay keys by (process, key): the sequence of the event each key first stored and the
 * hash of its type and payload, so a command checks a replayed key with one index lookup
 * instead of holding every key of the process in memory (see commands/lookups.ts).
 */
export const replayKeysModel: ReadModel = {
  name: 'replays',
  apply({ event }) {
    if (event.type !== 'ProcessEventAppended') return [];
    const { payloadHash } = event.data;
    const { processId, sequence, invocation } = event.data.event;
    const key = invocation.replay?.key;
    if (key === undefined || payloadHash === undefined) return [];
    return [{ table: 'replays', put: { processId, key, sequence, payloadHash } }];
  },
};
