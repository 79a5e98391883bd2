import { recordAfterEvent, recordWithExternalRef } from '../domain/process-state.ts';
import type { ReadModel } from './definition.ts';

/**
 * Every process record; the `running` ones are the recovery worklist. A record changes on
 * registration, on each process event (updatedAtMs, terminal status) and on an external ref.
 */
export const processesModel: ReadModel = {
  name: 'processes',
  apply({ event }, rows) {
    switch (event.type) {
      case 'ProcessRegistered':
        return [{ table: 'processes', put: event.data.record, newVersion: true }];
      case 'ExternalRefSet': {
        const record = rows.process(event.data.processId);
        if (!record) return [];
        return [
          {
            table: 'processes',
            put: recordWithExternalRef(record, event.data.externalRef, event.data.atMs),
            newVersion: true,
          },
        ];
      }
      case 'ProcessEventAppended': {
        const appended = event.data.event;
        const record = rows.process(appended.processId);
        if (!record) return [];
        const next = recordAfterEvent(record, appended);
        const newVersion = next.status.state !== record.status.state;
        return [{ table: 'processes', put: next, newVersion }];
      }
      default:
        return [];
    }
  },
};
