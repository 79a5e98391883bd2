import type { RecordedDomainEvent } from './codec.ts';
import type { DomainEvent } from './events.ts';
import { foldRecorded, initialProcessState, type ProcessState } from './process-state.ts';

/**
 * What the next command would decide on after one event of a process's stream: the parts
 * of the folded state (`process-state.ts`) that decisions read, as plain values.
 */
export interface FoldedSummary {
  /** `unregistered` before the stream's ProcessRegistered */
  status: 'unregistered' | 'running' | 'completed' | 'failed' | 'cancelled';
  /** revision of the last folded event */
  revision: number;
  lastSequence: number;
  /** scope ids holding a grant, sorted */
  grants: string[];
  /** the stored lease (possibly expired by the next command's time), or null */
  lease: { ownerId: string; fencingToken: number; expiresAtMs: number } | null;
  /** the highest fencing token ever issued: the next claim gets this + 1 */
  maxFencingToken: number;
  /** sequences of events whose wake is not acknowledged yet, ascending */
  pendingWakes: number[];
}

/** One step of a replay: the event, who and what produced it, and the state after it. */
export interface ReplayStep {
  revision: number;
  position: bigint;
  type: DomainEvent['type'];
  recordedAtMs: number;
  /** the public method that wrote the event, and its call's id */
  command: string;
  commandId: string;
  actor: string | null;
  correlationId: string | null;
  causationId: string | null;
  after: FoldedSummary;
}

export const summarize = (state: ProcessState): FoldedSummary => ({
  status: state.record ? state.record.status.state : 'unregistered',
  revision: state.revision,
  lastSequence: state.lastSequence,
  grants: [...state.grants.keys()].sort(),
  lease: state.lease
    ? {
        ownerId: state.lease.ownerId,
        fencingToken: state.lease.fencingToken,
        expiresAtMs: state.lease.expiresAtMs,
      }
    : null,
  maxFencingToken: state.maxFencingToken,
  pendingWakes: [...state.wakeSequences]
    .filter((s) => !state.ackedWakes.has(s))
    .sort((a, b) => a - b),
});

/**
 * Steps through a process's events in stream order, folding each exactly as the command
 * handler does (`foldRecorded`, the fold with revisions), and summarizes the state after each. Pure: the same events give
 * the same steps.
 */
export const replaySteps = (events: readonly RecordedDomainEvent[]): ReplayStep[] => {
  const state = initialProcessState();
  return events.map((recorded) => {
    foldRecorded(state, [recorded]);
    const { metadata } = recorded;
    return {
      revision: recorded.revision,
      position: recorded.position,
      type: recorded.event.type,
      recordedAtMs: metadata.recordedAtMs,
      command: metadata.command,
      commandId: metadata.commandId,
      actor: metadata.actor,
      correlationId: metadata.correlationId,
      causationId: metadata.causationId,
      after: summarize(state),
    };
  });
};
