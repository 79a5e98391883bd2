import type { ReadModel } from './definition.ts';

/** Per process, the sequences of events that materialized a wake not yet acked. */
export const unackedWakesModel: ReadModel = {
  name: 'wakes',
  apply({ event }) {
    switch (event.type) {
      case 'ProcessEventAppended': {
        const { processId, sequence, semantics } = event.data.event;
        return semantics.wake ? [{ table: 'wakes', put: { processId, sequence } }] : [];
      }
      case 'WakeAcked': {
        const { processId, sequence } = event.data;
        return [{ table: 'wakes', delete: { processId, sequence } }];
      }
      default:
        return [];
    }
  },
};
