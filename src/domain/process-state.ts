import type { RecordedDomainEvent } from './codec.ts';
import type { DomainEvent } from './events.ts';
import type {
  ExternalRef,
  HandleDescriptor,
  ProcessEvent,
  ProcessLease,
  ProcessRecord,
  Scope,
} from './schemas.ts';
import { scopeIdOf } from './scope.ts';

/** What a process's replay key points at: enough to answer a replayed append. */
export interface ReplayEntry {
  event: ProcessEvent;
  payloadHash: string;
}

export interface GrantState {
  scope: Scope;
  descriptor: HandleDescriptor;
  grantedAtMs: number;
}

/**
 * The folded state of one process stream: everything a command needs to decide, and no
 * more. Its size grows with replay keys and grants, never with plain events, so folding
 * (and appending) costs the same on a long stream as on a short one.
 */
export interface ProcessState {
  /** revision of the last folded event; -1 before the stream exists */
  revision: number;
  record: ProcessRecord | undefined;
  lastSequence: number;
  replayKeys: Map<string, ReplayEntry>;
  /** by scope id */
  grants: Map<string, GrantState>;
  /** sequences of events that materialized a wake */
  wakeSequences: Set<number>;
  ackedWakes: Set<number>;
  lease: ProcessLease | undefined;
  /** highest fencing token ever issued; monotone across release and expiry */
  maxFencingToken: number;
  /**
   * what the next event names as `prevHash` (integrity.ts): the last folded event's hash;
   * null before the stream exists. Set by whoever folds stored events (the state cache),
   * since the hash is the stored event's, not the domain event's.
   */
  lastHash: string | null;
}

export const initialProcessState = (): ProcessState => ({
  revision: -1,
  record: undefined,
  lastSequence: 0,
  replayKeys: new Map(),
  grants: new Map(),
  wakeSequences: new Set(),
  ackedWakes: new Set(),
  lease: undefined,
  maxFencingToken: 0,
  lastHash: null,
});

/**
 * Folds one domain event into the state. Deterministic, no I/O. It updates `state` in place
 * (copying maps on every event would make an append cost O(stream)), so it stays private:
 * callers fold a state they own (`fold`), or a `fork` of one they must keep.
 */
const evolve = (state: ProcessState, event: DomainEvent): ProcessState => {
  switch (event.type) {
    case 'ProcessRegistered':
      state.record = event.data.record;
      break;
    case 'ExternalRefSet':
      if (state.record) {
        state.record = recordWithExternalRef(state.record, event.data.externalRef, event.data.atMs);
      }
      break;
    case 'HandleGranted':
      state.grants.set(scopeIdOf(event.data.scope), {
        scope: event.data.scope,
        descriptor: event.data.descriptor,
        grantedAtMs: event.data.atMs,
      });
      break;
    case 'HandleRevoked':
      state.grants.delete(scopeIdOf(event.data.scope));
      break;
    case 'HandleTransferred':
      state.grants.delete(scopeIdOf(event.data.from));
      state.grants.set(scopeIdOf(event.data.to), {
        scope: event.data.to,
        descriptor: event.data.descriptor,
        grantedAtMs: event.data.atMs,
      });
      break;
    case 'ProcessEventAppended': {
      const appended = event.data.event;
      state.lastSequence = appended.sequence;
      const key = appended.invocation.replay?.key;
      if (key !== undefined && event.data.payloadHash !== undefined) {
        state.replayKeys.set(key, { event: appended, payloadHash: event.data.payloadHash });
      }
      if (appended.semantics.wake) state.wakeSequences.add(appended.sequence);
      if (state.record) state.record = recordAfterEvent(state.record, appended);
      break;
    }
    case 'WakeAcked':
      state.ackedWakes.add(event.data.sequence);
      break;
    case 'LeaseClaimed':
      state.lease = event.data.lease;
      state.maxFencingToken = Math.max(state.maxFencingToken, event.data.lease.fencingToken);
      break;
    case 'LeaseRenewed':
      if (state.lease && state.lease.leaseToken === event.data.leaseToken) {
        state.lease = { ...state.lease, expiresAtMs: event.data.expiresAtMs };
      }
      break;
    case 'LeaseReleased':
      if (state.lease && state.lease.leaseToken === event.data.leaseToken) state.lease = undefined;
      break;
  }
  return state;
};

/**
 * Folds events into a state the caller owns, in place, and returns it. The one way states
 * change: the handler folds its cached states, decisions fold a `fork`.
 */
export const fold = (state: ProcessState, events: readonly DomainEvent[]): ProcessState => {
  for (const event of events) evolve(state, event);
  return state;
};

/** A copy that folding leaves the original untouched by (records and events are frozen). */
export const fork = (state: ProcessState): ProcessState => ({
  ...state,
  replayKeys: new Map(state.replayKeys),
  grants: new Map(state.grants),
  wakeSequences: new Set(state.wakeSequences),
  ackedWakes: new Set(state.ackedWakes),
});

/** A record with an external ref set at `atMs` (setExternalRef overwrites). */
export const recordWithExternalRef = (
  record: ProcessRecord,
  externalRef: ExternalRef,
  atMs: number,
): ProcessRecord => ({ ...record, externalRef, updatedAtMs: atMs });

/** A record after one of its process events: terminal events set the status. */
export const recordAfterEvent = (record: ProcessRecord, event: ProcessEvent): ProcessRecord => ({
  ...record,
  updatedAtMs: event.occurredAtMs,
  status: event.semantics.terminal
    ? { state: event.semantics.terminal.state, awaitOutput: event.semantics.terminal.awaitOutput }
    : record.status,
});

export const foldRecorded = (
  state: ProcessState,
  events: readonly RecordedDomainEvent[],
): ProcessState => {
  for (const recorded of events) {
    evolve(state, recorded.event);
    state.revision = recorded.revision;
  }
  return state;
};

export const isTerminal = (record: ProcessRecord): boolean => record.status.state !== 'running';
