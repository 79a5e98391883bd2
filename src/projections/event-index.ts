import type { DomainEvent } from '../domain/events.ts';
import type { ProcessEvent } from '../domain/schemas.ts';

/**
 * Process events by process, at index `sequence - 1`. Sequences are dense from 1, so
 * `eventsAfter(n)` is a slice: O(events returned), whatever the stream's length.
 */
export type EventIndexModel = Map<string, ProcessEvent[]>;

export const createEventIndexModel = (): EventIndexModel => new Map();

export const applyToEventIndex = (model: EventIndexModel, event: DomainEvent): void => {
  if (event.type !== 'ProcessEventAppended') return;
  const appended = event.data.event;
  const list = model.get(appended.processId) ?? [];
  list[appended.sequence - 1] = appended;
  model.set(appended.processId, list);
};

export const eventsAfterIn = (
  model: EventIndexModel,
  processId: string,
  afterSequence: number,
): ProcessEvent[] => model.get(processId)?.slice(afterSequence) ?? [];
