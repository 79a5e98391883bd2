import type { ProcessHandleGrant, ProcessRecord, Scope } from '../domain/schemas.ts';
import { scopeIdOf } from '../domain/scope.ts';
import type { ReadModels } from '../projections/read-models.ts';
import { compareStrings } from './processes.ts';

export interface HandleGrantEntry {
  grant: ProcessHandleGrant;
  record: ProcessRecord;
}

/** The scope's grants with their records, by processId ascending. */
export const listHandleGrantsIn = (models: ReadModels, scope: Scope): HandleGrantEntry[] => {
  const grants = models.grants.byScope.get(scopeIdOf(scope));
  if (!grants) return [];
  return [...grants.values()]
    .sort((a, b) => compareStrings(a.processId, b.processId))
    .flatMap((grant) => {
      const record = models.processes.records.get(grant.processId);
      return record ? [{ grant, record }] : [];
    });
};

export const hasHandleGrantIn = (models: ReadModels, scope: Scope, processId: string): boolean =>
  models.grants.byScope.get(scopeIdOf(scope))?.has(processId) ?? false;

/** A process's grants by sessionId, then scope id. */
export const handleGrantsForProcessIn = (
  models: ReadModels,
  processId: string,
): ProcessHandleGrant[] =>
  [...(models.grants.byProcess.get(processId)?.values() ?? [])].sort(
    (a, b) => compareStrings(a.sessionId, b.sessionId) || compareStrings(a.scopeId, b.scopeId),
  );
