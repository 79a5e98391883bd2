import { deepFreeze } from '../domain/freeze.ts';
import { byCodeUnits } from '../domain/order.ts';
import { listFromRecords } from '../domain/process-list.ts';
import type { ProcessHandleGrant, ProcessLease, ProcessRecord } from '../domain/schemas.ts';
import { MemoryTables } from './memory-tables.ts';
import type { Position } from './port.ts';
import type { GlobalReader, RowChange, VersionedTables } from './read-model-tables.ts';

/**
 * One version of a row: the value it held from the event at `from` until the event at
 * `to` (exclusive; undefined while it is the current one). Positions are numbers: a memory
 * log never reaches 2^53 events.
 */
interface Version<T> {
  from: number;
  to: number | undefined;
  value: T;
}

/**
 * A row's versions in log order: `from` strictly ascends (a second change at the same
 * position replaces the version it opened) and each `to` is the next version's `from`, or
 * the position of the delete that ended it.
 */
class History<T> {
  readonly versions: Version<T>[] = [];

  put(value: T, at: number): void {
    const last = this.versions.at(-1);
    if (last?.from === at) {
      last.value = value;
      last.to = undefined;
      return;
    }
    if (last && last.to === undefined) last.to = at;
    this.versions.push({ from: at, to: undefined, value });
  }

  delete(at: number): void {
    const last = this.versions.at(-1);
    if (last && last.to === undefined) last.to = at;
  }

  /** The version holding at `at`: binary search on `from`. */
  at(at: number): Version<T> | undefined {
    const i = lastAtOrBefore(this.versions, at, (v) => v.from);
    const version = i < 0 ? undefined : this.versions[i];
    return version && (version.to === undefined || version.to > at) ? version : undefined;
  }
}

/** Index of the last item whose key is at or before `at` in an ascending list, -1 if none. */
const lastAtOrBefore = <T>(list: readonly T[], at: number, key: (item: T) => number): number => {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (key(list[mid]!) <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
};

const historyOf = <K, T>(map: Map<K, History<T>>, key: K): History<T> => {
  let history = map.get(key);
  if (!history) {
    history = new History<T>();
    map.set(key, history);
  }
  return history;
};

/**
 * The memory store's tables, which also keep every version of each process record, grant
 * and lease (per row, ascending by the position it began at), so `asOf` listings need no
 * replay: a process's record as of p is a binary search in its versions, a listing one
 * search per process that existed at p (the running ones are filtered from those), a
 * scope's grants one per process ever granted in it. A touch makes no version: the record's `updatedAtMs` at
 * p is its last touch at or before p, when that came after the version began.
 *
 * Time maps to positions as on SQLite: a mark whenever the running maximum of
 * `recordedAtMs` along the log grows.
 */
export class VersionedMemoryTables extends MemoryTables {
  private readonly recordVersions = new Map<string, History<ProcessRecord>>();
  /** process ids in the order they were first registered (so by first version's position) */
  private readonly registered: { id: string; at: number }[] = [];
  /** per process, the positions of its touches and the `updatedAtMs` each set (ascending) */
  private readonly touches = new Map<string, { at: number[]; ms: number[] }>();
  /** scope id → process id → the grant's versions, and the same histories by process id */
  private readonly grantVersions = new Map<string, Map<string, History<ProcessHandleGrant>>>();
  private readonly grantsByProcess = new Map<string, History<ProcessHandleGrant>[]>();
  private readonly leaseVersions = new Map<string, History<ProcessLease>>();
  /** the running maximum of recordedAtMs, and where it grew (both ascending) */
  private readonly timeMax: number[] = [];
  private readonly timeAt: Position[] = [];

  readonly versions: VersionedTables = {
    at: (position) => this.reader(Number(position)),
    prefixAt: (timeMs) => {
      const i = lastAtOrBefore(this.timeMax, timeMs, (ms) => ms) + 1;
      return i < this.timeAt.length ? this.timeAt[i]! - 1n : undefined;
    },
  };

  override write(change: RowChange, position: Position): void {
    super.write(change, position);
    const at = Number(position);
    switch (change.table) {
      case 'processes':
        if ('touch' in change) {
          const { processId, updatedAtMs } = change.touch;
          if (!this.recordVersions.has(processId)) return;
          const touches = this.touches.get(processId) ?? { at: [], ms: [] };
          touches.at.push(at);
          touches.ms.push(updatedAtMs);
          this.touches.set(processId, touches);
          return;
        }
        if (!this.recordVersions.has(change.put.id))
          this.registered.push({ id: change.put.id, at });
        historyOf(this.recordVersions, change.put.id).put(deepFreeze(change.put), at);
        return;
      case 'grants': {
        const { scopeId, processId } = 'put' in change ? change.put : change.delete;
        const scope =
          this.grantVersions.get(scopeId) ?? new Map<string, History<ProcessHandleGrant>>();
        this.grantVersions.set(scopeId, scope);
        if ('put' in change) {
          if (!scope.has(processId)) {
            const ofProcess = this.grantsByProcess.get(processId) ?? [];
            ofProcess.push(historyOf(scope, processId));
            this.grantsByProcess.set(processId, ofProcess);
          }
          historyOf(scope, processId).put(deepFreeze(change.put), at);
        } else scope.get(processId)?.delete(at);
        return;
      }
      case 'leases':
        if ('put' in change) {
          historyOf(this.leaseVersions, change.put.processId).put(deepFreeze(change.put), at);
        } else this.leaseVersions.get(change.delete.processId)?.delete(at);
        return;
      case 'all': {
        // retention: a pruned process leaves no versions behind (asOf names it instead)
        const { processId } = change.purge;
        this.recordVersions.delete(processId);
        const i = this.registered.findIndex((entry) => entry.id === processId);
        if (i >= 0) this.registered.splice(i, 1);
        this.touches.delete(processId);
        for (const scope of this.grantVersions.values()) scope.delete(processId);
        this.grantsByProcess.delete(processId);
        this.leaseVersions.delete(processId);
        return;
      }
      default:
        return;
    }
  }

  override recordTime(position: Position, recordedAtMs: number): void {
    const max = this.timeMax.at(-1);
    if (max !== undefined && recordedAtMs <= max) return;
    this.timeMax.push(recordedAtMs);
    this.timeAt.push(position);
  }

  override clear(): void {
    super.clear();
    for (const map of [
      this.recordVersions,
      this.touches,
      this.grantVersions,
      this.grantsByProcess,
      this.leaseVersions,
    ]) {
      map.clear();
    }
    this.registered.length = 0;
    this.timeMax.length = 0;
    this.timeAt.length = 0;
  }

  private reader(at: number): GlobalReader {
    const recordAt = (processId: string): ProcessRecord | undefined => {
      const version = this.recordVersions.get(processId)?.at(at);
      if (!version) return undefined;
      const touches = this.touches.get(processId);
      const i = touches ? lastAtOrBefore(touches.at, at, (p) => p) : -1;
      if (!touches || i < 0 || touches.at[i]! < version.from) return version.value;
      return deepFreeze({ ...version.value, updatedAtMs: touches.ms[i]! });
    };
    const grantsOfProcess = (processId: string): ProcessHandleGrant[] =>
      (this.grantsByProcess.get(processId) ?? []).flatMap((history) => {
        const version = history.at(at);
        return version ? [version.value] : [];
      });
    const processes = (which: 'all' | 'running'): ProcessRecord[] => {
      const count = lastAtOrBefore(this.registered, at, (r) => r.at) + 1;
      const out: ProcessRecord[] = [];
      for (const { id } of this.registered.slice(0, count)) {
        const record = recordAt(id);
        if (record && (which === 'all' || record.status.state === 'running')) out.push(record);
      }
      return out.sort((a, b) => byCodeUnits(a.id, b.id));
    };
    return {
      process: recordAt,
      processes,
      // every record as of the point, filtered: O(processes then), as on SQLite
      listProcesses: (query) =>
        listFromRecords(
          processes(query.filter.status === 'running' ? 'running' : 'all'),
          query,
          grantsOfProcess,
        ),
      grantsOfScope: (scopeId) => {
        const out: ProcessHandleGrant[] = [];
        for (const history of this.grantVersions.get(scopeId)?.values() ?? []) {
          const version = history.at(at);
          if (version) out.push(version.value);
        }
        return out.sort((a, b) => byCodeUnits(a.processId, b.processId));
      },
      leases: () => {
        const out: ProcessLease[] = [];
        for (const history of this.leaseVersions.values()) {
          const version = history.at(at);
          if (version) out.push(version.value);
        }
        return out.sort((a, b) => byCodeUnits(a.processId, b.processId));
      },
    };
  }
}
