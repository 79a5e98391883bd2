import { grantOf } from '../domain/grant.ts';
import { scopeIdOf } from '../domain/scope.ts';
import type { ReadModel } from './definition.ts';

/** Handle grants, keyed by (scope id, process id); queried by scope, process and session. */
export const grantsModel: ReadModel = {
  name: 'grants',
  apply({ event }) {
    switch (event.type) {
      case 'HandleGranted': {
        const { scope, processId, descriptor, atMs } = event.data;
        return [{ table: 'grants', put: grantOf(scope, processId, descriptor, atMs) }];
      }
      case 'HandleRevoked':
        return [
          {
            table: 'grants',
            delete: { scopeId: scopeIdOf(event.data.scope), processId: event.data.processId },
          },
        ];
      case 'HandleTransferred': {
        const { from, to, processId, descriptor, atMs } = event.data;
        return [
          { table: 'grants', delete: { scopeId: scopeIdOf(from), processId } },
          { table: 'grants', put: grantOf(to, processId, descriptor, atMs) },
        ];
      }
      default:
        return [];
    }
  },
};
