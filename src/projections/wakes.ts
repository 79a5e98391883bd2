import type { DomainEvent } from '../domain/events.ts';

/** Per process, the sequences of events that materialized a wake not yet acked. */
export type UnackedWakesModel = Map<string, Set<number>>;

export const createUnackedWakesModel = (): UnackedWakesModel => new Map();

export const applyToUnackedWakes = (model: UnackedWakesModel, event: DomainEvent): void => {
  switch (event.type) {
    case 'ProcessEventAppended': {
      const appended = event.data.event;
      if (!appended.semantics.wake) return;
      const set = model.get(appended.processId) ?? new Set<number>();
      set.add(appended.sequence);
      model.set(appended.processId, set);
      return;
    }
    case 'WakeAcked': {
      const set = model.get(event.data.processId);
      set?.delete(event.data.sequence);
      if (set?.size === 0) model.delete(event.data.processId);
      return;
    }
    default:
      return;
  }
};
