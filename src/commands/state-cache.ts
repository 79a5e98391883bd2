import { readStoredEvent } from '../domain/codec.ts';
import { streamOf } from '../domain/events.ts';
import { deepFreeze } from '../domain/freeze.ts';
import { chainOf, linkHashOf } from '../domain/integrity.ts';
import {
  fold,
  foldRecorded,
  initialProcessState,
  type ProcessState,
} from '../domain/process-state.ts';
import type { AppendResult, EventStore } from '../store/port.ts';
import type { ReadModelTables } from '../store/read-model-tables.ts';
import type { ProcessWrite } from './encode.ts';
import { type Lookups, shed } from './lookups.ts';
import { decodeState, encodeState, SNAPSHOT_EVERY } from './snapshot.ts';
import { asRegistryError } from './store-errors.ts';

export interface StateCacheSettings {
  store: EventStore;
  /** how many folded process states to keep (least recently used are dropped) */
  cacheSize: number;
  /** where process-state snapshots persist (durable stores), see snapshot.ts */
  snapshots?: Pick<ReadModelTables, 'snapshot' | 'saveSnapshot'> | undefined;
  /** with lookups, cached states hold no replay keys or wakes (see lookups.ts) */
  lookups?: Lookups | undefined;
}

/**
 * The folded state of each recently used process, with the revision it was folded to: the
 * command handler's memory. Bounded (least recently used dropped) and, on durable stores,
 * backed by persisted snapshots, so neither memory nor the first command on a long stream
 * grows with the stream. Only a successful append proves a cached state current.
 */
export class StateCache {
  private readonly cache = new Map<string, ProcessState>();
  /** revision of the newest persisted snapshot of each cached process */
  private readonly snapshotAt = new Map<string, number>();
  /**
   * id of the last event folded into each cached state: a stream removed by retention and
   * begun again has other events at the same revisions, and this tells them apart.
   */
  private readonly lastIds = new Map<string, string>();

  constructor(private readonly settings: StateCacheSettings) {}

  /** Drops these processes' states (their streams were removed: retention). */
  forget(processIds: readonly string[]): void {
    for (const processId of processIds) this.drop(processId);
  }

  private drop(processId: string): void {
    this.cache.delete(processId);
    this.snapshotAt.delete(processId);
    this.lastIds.delete(processId);
  }

  /** The cached states of all these processes, or undefined when any is not cached. */
  cached(processIds: readonly string[]): Map<string, ProcessState> | undefined {
    const states = new Map<string, ProcessState>();
    for (const processId of processIds) {
      const state = this.cache.get(processId);
      if (!state) return undefined;
      // touch: most recently used last
      this.cache.delete(processId);
      this.cache.set(processId, state);
      states.set(processId, state);
    }
    return states;
  }

  /**
   * Cached state of each process (else its persisted snapshot, else the initial state),
   * brought up to date with whatever was appended since. The read starts at the last event
   * folded: when that is no longer the same event (the stream was removed by retention,
   * and perhaps begun again), the state is folded again from the stream's start.
   */
  async load(processIds: readonly string[]): Promise<Map<string, ProcessState>> {
    const states = new Map<string, ProcessState>();
    for (const processId of processIds) {
      const known = this.cache.has(processId) ? this.lastIds.get(processId) : undefined;
      let state = this.cache.get(processId) ?? this.fromSnapshot(processId);
      this.cache.delete(processId);
      let newer = await this.read(processId, Math.max(state.revision, 0));
      if (state.revision >= 0) {
        const last = newer[0];
        if (last?.revision !== state.revision || (known !== undefined && last.id !== known)) {
          state = initialProcessState();
          newer = await this.read(processId, 0);
        } else newer = newer.slice(1);
      }
      // frozen: decisions hand parts of the state (records, events) back to callers
      foldRecorded(
        state,
        newer.map((stored) => deepFreeze(readStoredEvent(stored))),
      );
      const last = newer.at(-1);
      if (last) state.lastHash = linkHashOf(last);
      if (this.settings.lookups) shed(state);
      this.cache.set(processId, state);
      const lastId = newer.at(-1)?.id;
      if (lastId !== undefined) this.lastIds.set(processId, lastId);
      else if (state.revision < 0) this.lastIds.delete(processId);
      this.maybeSnapshot(processId, state);
      states.set(processId, state);
    }
    while (this.cache.size > this.settings.cacheSize) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.drop(oldest);
    }
    return states;
  }

  private read(processId: string, fromRevision: number) {
    return this.settings.store
      .readStream(streamOf(processId), { fromRevision })
      .catch((error: unknown) => {
        throw asRegistryError(error);
      });
  }

  private fromSnapshot(processId: string): ProcessState {
    const snapshot = this.settings.snapshots?.snapshot(processId);
    const state = snapshot && decodeState(snapshot.state);
    if (!state) return initialProcessState();
    this.snapshotAt.set(processId, state.revision);
    return state;
  }

  /**
   * Persists the state once it is SNAPSHOT_EVERY revisions past the last snapshot. Best
   * effort: a snapshot is only a shortcut, so failing to write one fails nothing.
   */
  private maybeSnapshot(processId: string, state: ProcessState): void {
    const { snapshots } = this.settings;
    if (!snapshots || state.revision - (this.snapshotAt.get(processId) ?? -1) < SNAPSHOT_EVERY) {
      return;
    }
    this.snapshotAt.set(processId, state.revision);
    try {
      snapshots.saveSnapshot(processId, state.revision, encodeState(state));
    } catch {
      // the next fold past SNAPSHOT_EVERY tries again
    }
  }

  /** Folds our own appended events into the cache, so the next command reads nothing. */
  remember(writes: readonly ProcessWrite[], results: readonly AppendResult[]): void {
    writes.forEach((write, i) => {
      const state = this.cache.get(write.processId);
      const result = results[i];
      if (!state || !result) return;
      fold(state, write.domainEvents);
      state.revision = result.nextRevision;
      const lastId = write.events.at(-1)?.id;
      if (lastId !== undefined) this.lastIds.set(write.processId, lastId);
      state.lastHash = chainOf(write.events.at(-1)?.metadata)?.hash ?? state.lastHash;
      if (this.settings.lookups) shed(state);
      this.maybeSnapshot(write.processId, state);
    });
  }
}
