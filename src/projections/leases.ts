import type { DomainEvent } from '../domain/events.ts';
import type { ProcessLease } from '../domain/schemas.ts';

/** The current (possibly expired) lease of each process; released leases are removed. */
export type LeasesModel = Map<string, ProcessLease>;

export const createLeasesModel = (): LeasesModel => new Map();

export const applyToLeases = (model: LeasesModel, event: DomainEvent): void => {
  switch (event.type) {
    case 'LeaseClaimed':
      model.set(event.data.lease.processId, event.data.lease);
      return;
    case 'LeaseRenewed': {
      const lease = model.get(event.data.processId);
      if (lease?.leaseToken === event.data.leaseToken) {
        model.set(
          lease.processId,
          Object.freeze({ ...lease, expiresAtMs: event.data.expiresAtMs }),
        );
      }
      return;
    }
    case 'LeaseReleased':
      if (model.get(event.data.processId)?.leaseToken === event.data.leaseToken) {
        model.delete(event.data.processId);
      }
      return;
    default:
      return;
  }
};
