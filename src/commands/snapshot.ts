import { deepFreeze } from '../domain/freeze.ts';
import type { Json } from '../domain/json.ts';
import type { GrantState, ProcessState, ReplayEntry } from '../domain/process-state.ts';
import type { ProcessLease, ProcessRecord } from '../domain/schemas.ts';

/**
 * Persisted process-state snapshots: the fold of a stream up to a revision, so the first
 * command on a long stream reads the snapshot and the events after it instead of folding
 * the whole stream. A snapshot is derived data: a stream's events never change, so the
 * state at a revision is the same forever, and a snapshot of any revision is a valid
 * starting point. Bump SNAPSHOT_VERSION whenever ProcessState changes shape: snapshots of
 * another version are ignored (and replaced as streams are folded again).
 */
export const SNAPSHOT_VERSION = 2;

/** A new snapshot once a cached state is this many revisions past the last one. */
export const SNAPSHOT_EVERY = 500;

interface EncodedState {
  v: number;
  revision: number;
  record: ProcessRecord | null;
  lastSequence: number;
  replayKeys: [string, ReplayEntry][];
  grants: [string, GrantState][];
  wakeSequences: number[];
  ackedWakes: number[];
  lease: ProcessLease | null;
  maxFencingToken: number;
  lastHash: string | null;
}

export const encodeState = (state: ProcessState): Json => {
  const encoded: EncodedState = {
    v: SNAPSHOT_VERSION,
    revision: state.revision,
    record: state.record ?? null,
    lastSequence: state.lastSequence,
    replayKeys: [...state.replayKeys],
    grants: [...state.grants],
    wakeSequences: [...state.wakeSequences],
    ackedWakes: [...state.ackedWakes],
    lease: state.lease ?? null,
    maxFencingToken: state.maxFencingToken,
    lastHash: state.lastHash,
  };
  return JSON.parse(JSON.stringify(encoded)) as Json;
};

/** The state a snapshot holds, or undefined when it is of another version. */
export const decodeState = (json: Json): ProcessState | undefined => {
  const encoded = json as unknown as EncodedState;
  if (encoded?.v !== SNAPSHOT_VERSION) return undefined;
  // frozen: decisions hand parts of the state (records, events) back to callers
  deepFreeze(encoded);
  return {
    revision: encoded.revision,
    record: encoded.record ?? undefined,
    lastSequence: encoded.lastSequence,
    replayKeys: new Map(encoded.replayKeys),
    grants: new Map(encoded.grants),
    wakeSequences: new Set(encoded.wakeSequences),
    ackedWakes: new Set(encoded.ackedWakes),
    lease: encoded.lease ?? undefined,
    maxFencingToken: encoded.maxFencingToken,
    lastHash: encoded.lastHash,
  };
};
