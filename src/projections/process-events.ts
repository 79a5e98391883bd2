import type { ReadModel } from './definition.ts';

/**
 * Process events by (process, sequence), pointing at the stored event that carries each
 * (durable tables keep only the position; the event stays where the log keeps it).
 * Sequences are dense from 1, so `eventsAfter(n)` is an index range: O(events returned).
 */
export const processEventsModel: ReadModel = {
  name: 'events',
  apply({ event, position }) {
    if (event.type !== 'ProcessEventAppended') return [];
    return [{ table: 'events', put: { event: event.data.event, position } }];
  },
};
