import { deepFreeze } from '../domain/freeze.ts';
import { GENESIS_DIGEST, type LogDigest } from '../domain/integrity.ts';
import type { Json } from '../domain/json.ts';
import { byCodeUnits } from '../domain/order.ts';
import { listFromRecords, type ProcessQuery } from '../domain/process-list.ts';
import type {
  ProcessEvent,
  ProcessHandleGrant,
  ProcessLease,
  ProcessRecord,
} from '../domain/schemas.ts';
import { type Position, START } from './port.ts';
import type { DigestIndex, ReadModelTables, RowChange } from './read-model-tables.ts';
import { byGrantOrder, tableDump } from './tables-shared.ts';

/**
 * The read-model tables in memory: for `memory:` stores, for EventStoreDB without a models
 * file, and as the scratch space of rebuilds and `asOf` views. Writes apply at once, so
 * `transaction` only groups them (a memory store never fails half way through).
 *
 * Over 300 lines: the one implementation of the tables port in maps (some thirty methods,
 * a few lines each), with the indexes each query needs.
 */
export class MemoryTables implements ReadModelTables {
  private readonly records = new Map<string, ProcessRecord>();
  private readonly running = new Set<string>();
  /** scope id → process id → grant, and process id → scope id → grant */
  private readonly byScope = new Map<string, Map<string, ProcessHandleGrant>>();
  private readonly byProcess = new Map<string, Map<string, ProcessHandleGrant>>();
  /** session id → process id → how many of its grants are to scopes of that session */
  private readonly bySession = new Map<string, Map<string, number>>();
  private readonly leaseRows = new Map<string, ProcessLease>();
  private readonly wakes = new Map<string, Set<number>>();
  /** process events at index `sequence - 1` */
  private readonly events = new Map<string, ProcessEvent[]>();
  /** process id → event type → its sequences, ascending (countEvents by type) */
  private readonly typeSequences = new Map<string, Map<string, number[]>>();
  /** process id → replay key → where it points */
  private readonly replays = new Map<
    string,
    Map<string, { sequence: number; payloadHash: string }>
  >();
  private readonly snapshots = new Map<string, { revision: number; state: Json }>();
  /**
   * process id → position of the last change to its record, in change order: a change
   * deletes and re-inserts the entry, so iteration order is ascending position.
   */
  private readonly changed = new Map<string, Position>();
  private position: Position = START;
  private logDigest: LogDigest | null = { digest: GENESIS_DIGEST, position: START };
  /** the digest after each position, where the owner keeps one (the memory store) */
  readonly digests?: DigestIndex;

  constructor(options: { digests?: DigestIndex } = {}) {
    if (options.digests) this.digests = options.digests;
  }

  process(processId: string): ProcessRecord | undefined {
    return this.records.get(processId);
  }

  processes(which: 'all' | 'running'): ProcessRecord[] {
    const ids = which === 'all' ? [...this.records.keys()] : [...this.running];
    return ids.sort(byCodeUnits).map((id) => this.records.get(id)!);
  }

  listProcesses(query: ProcessQuery): ProcessRecord[] {
    return listFromRecords(this.records.values(), query, (id) => this.grantsOfProcess(id));
  }

  changedSince(after: Position, limit: number): { position: Position; record: ProcessRecord }[] {
    const page: { position: Position; record: ProcessRecord }[] = [];
    for (const [id, position] of this.changed) {
      if (position <= after) continue;
      page.push({ position, record: this.records.get(id)! });
      if (page.length === limit) break;
    }
    return page;
  }

  grantsOfScope(scopeId: string): ProcessHandleGrant[] {
    const grants = [...(this.byScope.get(scopeId)?.values() ?? [])];
    return grants.sort((a, b) => byCodeUnits(a.processId, b.processId));
  }

  grantsOfProcess(processId: string): ProcessHandleGrant[] {
    return [...(this.byProcess.get(processId)?.values() ?? [])].sort(byGrantOrder);
  }

  hasGrant(scopeId: string, processId: string): boolean {
    return this.byScope.get(scopeId)?.has(processId) ?? false;
  }

  processesOfSession(sessionId: string): string[] {
    return [...(this.bySession.get(sessionId)?.keys() ?? [])].sort(byCodeUnits);
  }

  lease(processId: string): ProcessLease | undefined {
    return this.leaseRows.get(processId);
  }

  leases(): ProcessLease[] {
    return [...this.leaseRows.values()].sort((a, b) => byCodeUnits(a.processId, b.processId));
  }

  unackedWakes(processId: string, afterSequence: number): number[] {
    const set = this.wakes.get(processId);
    if (!set) return [];
    return [...set].filter((s) => s > afterSequence).sort((a, b) => a - b);
  }

  eventsAfter(processId: string, afterSequence: number): ProcessEvent[] {
    return this.events.get(processId)?.slice(afterSequence) ?? [];
  }

  eventsAt(processId: string, sequences: readonly number[]): ProcessEvent[] {
    const events = this.events.get(processId) ?? [];
    return sequences.flatMap((s) => (events[s - 1] ? [events[s - 1]!] : []));
  }

  recentEvents(processId: string, limit: number): ProcessEvent[] {
    const events = this.events.get(processId) ?? [];
    return events.slice(Math.max(0, events.length - limit));
  }

  countEvents(processId: string, eventType: string | undefined, upToSequence: number): number {
    if (eventType === undefined) {
      // sequences are dense from 1: the events up to s are min(s, last)
      return Math.min(upToSequence, this.events.get(processId)?.length ?? 0);
    }
    const sequences = this.typeSequences.get(processId)?.get(eventType) ?? [];
    return countUpTo(sequences, upToSequence);
  }

  replay(processId: string, key: string): { sequence: number; payloadHash: string } | undefined {
    return this.replays.get(processId)?.get(key);
  }

  checkpoint(): Position {
    return this.position;
  }

  write(change: RowChange, position: Position): void {
    switch (change.table) {
      case 'processes': {
        const id = 'touch' in change ? change.touch.processId : change.put.id;
        this.changed.delete(id);
        this.changed.set(id, position);
        if ('touch' in change) {
          const { processId, updatedAtMs } = change.touch;
          const record = this.records.get(processId);
          if (record) this.records.set(processId, deepFreeze({ ...record, updatedAtMs }));
          return;
        }
        const record = deepFreeze(change.put);
        this.records.set(record.id, record);
        if (record.status.state === 'running') this.running.add(record.id);
        else this.running.delete(record.id);
        return;
      }
      case 'grants':
        if ('put' in change) {
          const grant = deepFreeze(change.put);
          this.dropGrant(grant.scopeId, grant.processId);
          inner(this.byScope, grant.scopeId).set(grant.processId, grant);
          inner(this.byProcess, grant.processId).set(grant.scopeId, grant);
          const ofSession = inner(this.bySession, grant.sessionId);
          ofSession.set(grant.processId, (ofSession.get(grant.processId) ?? 0) + 1);
        } else {
          this.dropGrant(change.delete.scopeId, change.delete.processId);
        }
        return;
      case 'leases':
        if ('put' in change) this.leaseRows.set(change.put.processId, deepFreeze(change.put));
        else this.leaseRows.delete(change.delete.processId);
        return;
      case 'wakes': {
        if ('put' in change) {
          const { processId, sequence } = change.put;
          const set = this.wakes.get(processId) ?? new Set<number>();
          set.add(sequence);
          this.wakes.set(processId, set);
        } else {
          const { processId, sequence } = change.delete;
          const set = this.wakes.get(processId);
          set?.delete(sequence);
          if (set?.size === 0) this.wakes.delete(processId);
        }
        return;
      }
      case 'replays': {
        const { processId, key, sequence, payloadHash } = change.put;
        inner(this.replays, processId).set(key, { sequence, payloadHash });
        return;
      }
      case 'events': {
        const event = deepFreeze(change.put.event);
        const list = this.events.get(event.processId) ?? [];
        list[event.sequence - 1] = event;
        this.events.set(event.processId, list);
        const sequences = inner(this.typeSequences, event.processId).get(event.eventType) ?? [];
        // a repeated put of the same event leaves the index as it was
        const at = countUpTo(sequences, event.sequence);
        if (sequences[at - 1] !== event.sequence) sequences.splice(at, 0, event.sequence);
        inner(this.typeSequences, event.processId).set(event.eventType, sequences);
        return;
      }
      case 'all':
        this.purge(change.purge.processId);
        return;
    }
  }

  private purge(processId: string): void {
    this.records.delete(processId);
    this.running.delete(processId);
    for (const scopeId of [...(this.byProcess.get(processId)?.keys() ?? [])]) {
      this.dropGrant(scopeId, processId);
    }
    this.leaseRows.delete(processId);
    this.wakes.delete(processId);
    this.events.delete(processId);
    this.typeSequences.delete(processId);
    this.replays.delete(processId);
    this.snapshots.delete(processId);
    this.changed.delete(processId);
  }

  private dropGrant(scopeId: string, processId: string): void {
    const grant = this.byScope.get(scopeId)?.get(processId);
    if (!grant) return;
    dropFrom(this.byScope, scopeId, processId);
    dropFrom(this.byProcess, processId, scopeId);
    const ofSession = this.bySession.get(grant.sessionId);
    const count = ofSession?.get(processId) ?? 0;
    if (count > 1) ofSession!.set(processId, count - 1);
    else dropFrom(this.bySession, grant.sessionId, processId);
  }

  /** Plain memory tables keep no versions (the memory store's do: see memory-versions.ts). */
  recordTime(_position: Position, _recordedAtMs: number): void {}

  setCheckpoint(position: Position): void {
    this.position = position;
  }

  digest(): LogDigest | null {
    return this.logDigest;
  }

  setDigest(digest: LogDigest | null): void {
    this.logDigest = digest;
  }

  transaction<T>(work: () => T): T {
    return work();
  }

  dump(): { checkpoint: Position; rows: Map<string, Json> } {
    const grants = [...this.byScope.values()].flatMap((m) => [...m.values()]);
    const rows = tableDump({
      processes: [...this.records.values()].map((r) => [r.id, r]),
      running: [...this.running].map((id) => [id, true]),
      changed: [...this.changed].map(([id, position]) => [id, String(position)]),
      grants: grants.map((g) => [`${g.scopeId} ${g.processId}`, g]),
      leases: [...this.leaseRows].map(([id, lease]) => [id, lease]),
      wakes: [...this.wakes].flatMap(([id, set]) =>
        [...set].map((s): [string, unknown] => [`${id} ${s}`, true]),
      ),
      replays: [...this.replays].flatMap(([id, keys]) =>
        [...keys].map(([key, entry]): [string, unknown] => [`${id} ${key}`, entry]),
      ),
      events: [...this.events].flatMap(([id, list]) =>
        list.map((event): [string, unknown] => [`${id} ${event.sequence}`, event]),
      ),
    });
    return { checkpoint: this.position, rows };
  }

  clear(): void {
    for (const map of [
      this.records,
      this.byScope,
      this.byProcess,
      this.bySession,
      this.leaseRows,
      this.wakes,
      this.replays,
      this.changed,
    ]) {
      map.clear();
    }
    this.running.clear();
    this.events.clear();
    this.typeSequences.clear();
    this.snapshots.clear();
    this.position = START;
    this.logDigest = { digest: GENESIS_DIGEST, position: START };
  }

  snapshot(processId: string): { revision: number; state: Json } | undefined {
    return this.snapshots.get(processId);
  }

  saveSnapshot(processId: string, revision: number, state: Json): void {
    this.snapshots.set(processId, { revision, state });
  }
}

const inner = <V>(outer: Map<string, Map<string, V>>, key: string): Map<string, V> => {
  let map = outer.get(key);
  if (!map) {
    map = new Map();
    outer.set(key, map);
  }
  return map;
};

const dropFrom = <V>(outer: Map<string, Map<string, V>>, key: string, innerKey: string): void => {
  const map = outer.get(key);
  if (!map) return;
  map.delete(innerKey);
  if (map.size === 0) outer.delete(key);
};

/** How many of the ascending `sequences` are at most `upTo` (binary search). */
const countUpTo = (sequences: readonly number[], upTo: number): number => {
  let low = 0;
  let high = sequences.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sequences[mid]! <= upTo) low = mid + 1;
    else high = mid;
  }
  return low;
};
