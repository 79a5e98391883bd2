import { recordAfterEvent, recordWithExternalRef } from '../domain/process-state.ts';
import type { ReadModel } from './definition.ts';

/**
 * Every process record; the `running` ones are the recovery worklist. A record changes on
 * registration, on an external ref and on a terminal event (`put`, a new version); any
 * other process event only moves its updatedAtMs (`touch`: no need to read the record).
 */
export const processesModel: ReadModel = {
  name: 'processes',
  apply({ event }, rows) {
    switch (event.type) {
      case 'ProcessRegistered':
        return [{ table: 'processes', put: event.data.record }];
      case 'ExternalRefSet': {
        const record = rows.process(event.data.processId);
        if (!record) return [];
        return [
          {
            table: 'processes',
            put: recordWithExternalRef(record, event.data.externalRef, event.data.atMs),
          },
        ];
      }
      case 'ProcessEventAppended': {
        const appended = event.data.event;
        if (!appended.semantics.terminal) {
          const { processId, occurredAtMs: updatedAtMs } = appended;
          return [{ table: 'processes', touch: { processId, updatedAtMs } }];
        }
        const record = rows.process(appended.processId);
        if (!record) return [];
        return [{ table: 'processes', put: recordAfterEvent(record, appended) }];
      }
      default:
        return [];
    }
  },
};
