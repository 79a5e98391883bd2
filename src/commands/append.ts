import { hashJson } from '../domain/canonical.ts';
import { RegistryError } from '../domain/errors.ts';
import type { DomainEvent } from '../domain/events.ts';
import type { Json } from '../domain/json.ts';
import { materializeSemantics, materializeWakeDelivery } from '../domain/materialization.ts';
import { payloadCheckFor } from '../domain/payload-schema.ts';
import { fold, fork, isTerminal, type ProcessState } from '../domain/process-state.ts';
import type {
  AppendRequest,
  ProcessEvent,
  ProcessEventType,
  WakeDelivery,
} from '../domain/schemas.ts';
import { normalizeScope } from '../domain/scope.ts';
import type { Decision } from './decision.ts';
import { requireRecord } from './require.ts';

export interface AppendOutcome {
  event: ProcessEvent;
  wakeDelivery?: WakeDelivery;
}

/** Event types that must carry a replay key: a retried terminal or cancel must not repeat. */
const needsReplayKey = (eventType: ProcessEventType): boolean =>
  eventType.semantics?.terminal !== undefined || eventType.name === 'process.cancel_requested';

export const payloadHashOf = (eventType: string, payload: Json): string =>
  hashJson([eventType, payload]);

/**
 * appendEvent, in the order of docs/SPEC.md ("Appending a process event"); the first
 * failing rule throws and nothing is written.
 * A replayed key with the same payload hash returns the original event, with its wake
 * delivery materialized again for this request's target scope.
 */
export const decideAppend = (
  state: ProcessState | undefined,
  command: { processId: string; request: AppendRequest; now: number },
): Decision<AppendOutcome> => {
  const { processId, request, now } = command;
  const record = requireRecord(state, processId);
  const replayKey = request.replayKey;
  // hashed only when there is a key to compare it under: hashing is a tenth of an append
  const payloadHash =
    replayKey === undefined ? undefined : payloadHashOf(request.eventType, request.payload);

  if (replayKey !== undefined && state) {
    const existing = state.replayKeys.get(replayKey);
    if (existing) {
      if (existing.payloadHash !== payloadHash) {
        throw new RegistryError(
          'conflict',
          `replay key \`${replayKey}\` of process \`${processId}\` conflicts with an existing event (sequence ${existing.event.sequence}) with another type or payload; use a new replay key for a different event`,
        );
      }
      const wakeDelivery = materializeWakeDelivery(record, existing.event, request.wakeTargetScope);
      return { events: [], result: withWake(existing.event, wakeDelivery) };
    }
  }

  const eventType = record.eventTypes.find((t) => t.name === request.eventType);
  if (!eventType) {
    throw new RegistryError(
      'invalid',
      `undeclared event type \`${request.eventType}\` for process \`${processId}\`; declare it in the registration's eventTypes`,
    );
  }
  if (needsReplayKey(eventType) && !replayKey) {
    throw new RegistryError(
      'invalid',
      `event type \`${request.eventType}\` of process \`${processId}\` requires a deterministic replay key; pass replayKey`,
    );
  }
  const payloadError = payloadCheckFor(eventType)(request.payload);
  if (payloadError !== undefined) {
    throw new RegistryError(
      'invalid',
      `invalid \`${request.eventType}\` payload for process \`${processId}\`: ${payloadError}`,
    );
  }

  const sequence = (state?.lastSequence ?? 0) + 1;
  const semantics = materializeSemantics(eventType, request.payload, processId, sequence);
  if (semantics.terminal && isTerminal(record)) {
    throw new RegistryError(
      'already_terminal',
      `process \`${processId}\` is already terminal (${record.status.state}); a second terminal event is not allowed`,
    );
  }
  if (semantics.wake && !request.wakeTargetScope) {
    throw new RegistryError(
      'invalid',
      `event type \`${request.eventType}\` of process \`${processId}\` materialized a wake without a wake target scope; pass wakeTargetScope`,
    );
  }

  // members in key order at every level, so the event's canonical JSON (its hash, the
  // stored text) is JSON.stringify's (domain/canonical.ts)
  const event: ProcessEvent = {
    eventType: request.eventType,
    invocation: {
      causedBy: { kind: 'process', processId },
      ...(replayKey !== undefined ? { replay: { key: replayKey } } : {}),
      scope: record.provenance.ownerScope.sessionId,
      subject: { eventType: request.eventType, kind: 'processEvent', processId, sequence },
    },
    occurredAtMs: now,
    payload: request.payload,
    processId,
    semantics,
    sequence,
  };
  const wakeTargetScope = semantics.wake && request.wakeTargetScope;
  return {
    events: [
      {
        type: 'ProcessEventAppended',
        data: {
          event,
          ...(payloadHash !== undefined ? { payloadHash } : {}),
          ...(wakeTargetScope ? { wakeTargetScope: normalizeScope(wakeTargetScope) } : {}),
        },
      },
    ],
    result: withWake(event, materializeWakeDelivery(record, event, request.wakeTargetScope)),
  };
};

/**
 * appendEvents: several requests decided in order, each on the state the ones before it
 * leave (sequences run on, a replay key used earlier in the batch replays), and stored in
 * one write: all of them or, if any request fails its rules, none.
 */
export const decideAppendBatch = (
  state: ProcessState | undefined,
  command: { processId: string; requests: readonly AppendRequest[]; now: number },
): Decision<AppendOutcome[]> => {
  const { processId, requests, now } = command;
  requireRecord(state, processId);
  // decided on a fork, so the given state stays as it is
  const shadow = fork(state!);
  const events: DomainEvent[] = [];
  const results: AppendOutcome[] = [];
  for (const request of requests) {
    const decision = decideAppend(shadow, { processId, request, now });
    results.push(decision.result);
    fold(shadow, decision.events);
    events.push(...decision.events);
  }
  return { events, result: results };
};

const withWake = (event: ProcessEvent, wakeDelivery: WakeDelivery | undefined): AppendOutcome =>
  wakeDelivery ? { event, wakeDelivery } : { event };
