import type { ReadModel } from './definition.ts';

/**
 * The current (possibly expired) lease of each process; a released lease is removed. A
 * renewal or release names its lease token and changes nothing when it is not the
 * current one.
 */
export const leasesModel: ReadModel = {
  name: 'leases',
  apply({ event }, rows) {
    switch (event.type) {
      case 'LeaseClaimed':
        return [{ table: 'leases', put: event.data.lease }];
      case 'LeaseRenewed': {
        const lease = rows.lease(event.data.processId);
        if (lease?.leaseToken !== event.data.leaseToken) return [];
        return [{ table: 'leases', put: { ...lease, expiresAtMs: event.data.expiresAtMs } }];
      }
      case 'LeaseReleased': {
        const { processId, leaseToken } = event.data;
        if (rows.lease(processId)?.leaseToken !== leaseToken) return [];
        return [{ table: 'leases', delete: { processId } }];
      }
      default:
        return [];
    }
  },
};
