import type { DomainEvent } from '../domain/events.ts';
import { recordAfterEvent } from '../domain/process-state.ts';
import type { ProcessRecord } from '../domain/schemas.ts';

/** Every process record, and the ids of those not yet terminal (the recovery worklist). */
export interface ProcessesModel {
  records: Map<string, ProcessRecord>;
  nonTerminal: Set<string>;
}

export const createProcessesModel = (): ProcessesModel => ({
  records: new Map(),
  nonTerminal: new Set(),
});

/**
 * Read models are updated in place (O(1) per event); `apply` is deterministic and does no
 * I/O, so folding the same events into a fresh model always gives the same model. Values
 * put into a model are frozen (events arrive frozen; records built here are frozen too),
 * because queries hand them out as they are.
 */
export const applyToProcesses = (model: ProcessesModel, event: DomainEvent): void => {
  switch (event.type) {
    case 'ProcessRegistered': {
      const { record } = event.data;
      model.records.set(record.id, record);
      if (record.status.state === 'running') model.nonTerminal.add(record.id);
      return;
    }
    case 'ExternalRefSet': {
      const record = model.records.get(event.data.processId);
      if (record) {
        model.records.set(
          record.id,
          Object.freeze({
            ...record,
            externalRef: event.data.externalRef,
            updatedAtMs: event.data.atMs,
          }),
        );
      }
      return;
    }
    case 'ProcessEventAppended': {
      const appended = event.data.event;
      const record = model.records.get(appended.processId);
      if (!record) return;
      const next = Object.freeze(recordAfterEvent(record, appended));
      model.records.set(record.id, next);
      if (next.status.state !== 'running') model.nonTerminal.delete(record.id);
      return;
    }
    default:
      return;
  }
};
