import type { ProcessEvent } from '../domain/schemas.ts';
import { eventsAfterIn } from '../projections/event-index.ts';
import type { ReadModels } from '../projections/read-models.ts';

export const eventsAfterOf = (
  models: ReadModels,
  processId: string,
  afterSequence: number,
): ProcessEvent[] => eventsAfterIn(models.eventIndex, processId, afterSequence);

/** Events after `afterSequence` that carry a wake not yet acked, ascending. */
export const wakeEventsAfterOf = (
  models: ReadModels,
  processId: string,
  afterSequence: number,
): ProcessEvent[] => {
  const unacked = models.unackedWakes.get(processId);
  if (!unacked) return [];
  const events = models.eventIndex.get(processId) ?? [];
  return [...unacked]
    .filter((sequence) => sequence > afterSequence)
    .sort((a, b) => a - b)
    .flatMap((sequence) => {
      const event = events[sequence - 1];
      return event ? [event] : [];
    });
};
