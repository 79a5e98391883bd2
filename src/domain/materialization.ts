import { hashJson, stringOf } from './canonical.ts';
import type { Json } from './json.ts';
import type {
  DedupeKey,
  ProcessAwaitOutput,
  ProcessEvent,
  ProcessEventType,
  ProcessRecord,
  Scope,
  TerminalState,
  WakeDelivery,
} from './schemas.ts';
import { ProcessAwaitOutputSchema } from './schemas.ts';
import { scopeIdOf } from './scope.ts';
import { isTruthy, selectValue } from './selectors.ts';

/**
 * Materialization: what a process event means beyond its payload, computed once when it is
 * appended and stored with it. Its event type's semantics select a terminal outcome and a
 * wake (input, dedupe key) from the payload; a wake becomes a delivery for a target scope
 * whose id depends only on the target and the dedupe key.
 */

export const materializeSemantics = (
  eventType: ProcessEventType,
  payload: Json,
  processId: string,
  sequence: number,
): ProcessEvent['semantics'] => {
  const semantics: ProcessEvent['semantics'] = {};
  const terminal = eventType.semantics?.terminal;
  if (terminal) {
    const selected =
      terminal.awaitOutput === undefined
        ? payload
        : selectValue(terminal.awaitOutput, payload, processId);
    semantics.terminal = {
      awaitOutput: awaitOutputFor(terminal.state, selected, terminal.awaitOutput !== undefined),
      state: terminal.state,
    };
  }
  const wake = eventType.semantics?.wake;
  if (wake && (wake.when === undefined || isTruthy(selectValue(wake.when, payload, processId)))) {
    const input = stringOf(selectValue(wake.input, payload, processId));
    // keys in order: the event's canonical JSON is JSON.stringify's (domain/canonical.ts)
    semantics.wake = {
      dedupeKey: dedupeKeyFor(wake.dedupeKey, payload, processId, sequence),
      input,
    };
  }
  return semantics;
};

/**
 * The awaitOutput of a terminal event: the selected value when it parses as one, otherwise
 * built from the terminal state (docs/SPEC.md, "Appending a process event", Terminal).
 */
export const awaitOutputFor = (
  state: TerminalState,
  value: Json,
  fromSelector: boolean,
): ProcessAwaitOutput => {
  if (fromSelector) {
    const parsed = ProcessAwaitOutputSchema.safeParse(value);
    if (parsed.success) return parsed.data;
  }
  switch (state) {
    case 'completed':
      return { type: 'success', value };
    case 'failed':
      return {
        type: 'failure',
        class: 'execution',
        code: 'process_failed',
        message: stringOf(value),
        raw: value,
      };
    case 'cancelled':
      return { type: 'cancelled', message: stringOf(value), raw: value };
  }
};

const dedupeKeyFor = (
  dedupeKey: DedupeKey | undefined,
  payload: Json,
  processId: string,
  sequence: number,
): string => {
  if (!dedupeKey || dedupeKey.kind === 'eventIdentity') return `${processId}:${sequence}`;
  if (dedupeKey.kind === 'const') return dedupeKey.value;
  return stringOf(selectValue(dedupeKey.selector, payload, processId));
};

/**
 * The wake delivery of an event for a target scope. Its id depends only on the target and
 * the dedupe key, so the same wake for the same target always has the same `wakeId`.
 */
export const materializeWakeDelivery = (
  record: ProcessRecord,
  event: ProcessEvent,
  target: Scope | undefined,
): WakeDelivery | undefined => {
  const wake = event.semantics.wake;
  if (!wake || !target) return undefined;
  const targetScopeId = scopeIdOf(target);
  const causedBy = record.provenance.causedBy;
  return {
    wakeId: `wake:${hashJson([targetScopeId, wake.dedupeKey])}`,
    targetSessionId: target.sessionId,
    targetScopeId,
    processId: event.processId,
    sequence: event.sequence,
    eventType: event.eventType,
    eventInvocation: event.invocation,
    ...(causedBy !== undefined ? { processCausedBy: causedBy } : {}),
    dedupeKey: wake.dedupeKey,
    input: wake.input,
    createdAtMs: event.occurredAtMs,
  };
};
