import type { DomainEvent } from '../domain/events.ts';
import { applyToEventIndex, createEventIndexModel, type EventIndexModel } from './event-index.ts';
import { applyToGrants, createGrantsModel, type GrantsModel } from './grants.ts';
import { applyToLeases, createLeasesModel, type LeasesModel } from './leases.ts';
import { applyToProcesses, createProcessesModel, type ProcessesModel } from './processes.ts';
import { applyToUnackedWakes, createUnackedWakesModel, type UnackedWakesModel } from './wakes.ts';

/** Every read model the queries use. All are folds of the domain events and nothing else. */
export interface ReadModels {
  processes: ProcessesModel;
  grants: GrantsModel;
  leases: LeasesModel;
  unackedWakes: UnackedWakesModel;
  eventIndex: EventIndexModel;
}

export const createReadModels = (): ReadModels => ({
  processes: createProcessesModel(),
  grants: createGrantsModel(),
  leases: createLeasesModel(),
  unackedWakes: createUnackedWakesModel(),
  eventIndex: createEventIndexModel(),
});

export const applyToReadModels = (models: ReadModels, event: DomainEvent): void => {
  applyToProcesses(models.processes, event);
  applyToGrants(models.grants, event);
  applyToLeases(models.leases, event);
  applyToUnackedWakes(models.unackedWakes, event);
  applyToEventIndex(models.eventIndex, event);
};
