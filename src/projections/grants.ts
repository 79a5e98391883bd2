import type { DomainEvent } from '../domain/events.ts';
import { grantOf } from '../domain/grant.ts';
import type { ProcessHandleGrant, Scope } from '../domain/schemas.ts';
import { scopeIdOf } from '../domain/scope.ts';

/** Handle grants indexed both ways: by scope id, and by process id. */
export interface GrantsModel {
  byScope: Map<string, Map<string, ProcessHandleGrant>>;
  byProcess: Map<string, Map<string, ProcessHandleGrant>>;
}

export const createGrantsModel = (): GrantsModel => ({ byScope: new Map(), byProcess: new Map() });

const put = (model: GrantsModel, grant: ProcessHandleGrant): void => {
  Object.freeze(grant);
  inner(model.byScope, grant.scopeId).set(grant.processId, grant);
  inner(model.byProcess, grant.processId).set(grant.scopeId, grant);
};

const remove = (model: GrantsModel, scope: Scope, processId: string): void => {
  const scopeId = scopeIdOf(scope);
  dropFrom(model.byScope, scopeId, processId);
  dropFrom(model.byProcess, processId, scopeId);
};

export const applyToGrants = (model: GrantsModel, event: DomainEvent): void => {
  switch (event.type) {
    case 'HandleGranted':
      put(
        model,
        grantOf(event.data.scope, event.data.processId, event.data.descriptor, event.data.atMs),
      );
      return;
    case 'HandleRevoked':
      remove(model, event.data.scope, event.data.processId);
      return;
    case 'HandleTransferred':
      remove(model, event.data.from, event.data.processId);
      put(
        model,
        grantOf(event.data.to, event.data.processId, event.data.descriptor, event.data.atMs),
      );
      return;
    default:
      return;
  }
};

const inner = <V>(outer: Map<string, Map<string, V>>, key: string): Map<string, V> => {
  let map = outer.get(key);
  if (!map) {
    map = new Map();
    outer.set(key, map);
  }
  return map;
};

/** Empty inner maps are dropped, so a rebuilt model equals a live one key for key. */
const dropFrom = <V>(outer: Map<string, Map<string, V>>, key: string, innerKey: string): void => {
  const map = outer.get(key);
  if (!map) return;
  map.delete(innerKey);
  if (map.size === 0) outer.delete(key);
};
