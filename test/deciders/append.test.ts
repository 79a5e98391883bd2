import { describe, expect, it } from 'vitest';
import { decideAppend, decideAppendBatch, payloadHashOf } from '../../src/commands/append.ts';
import type { RegistryErrorCode } from '../../src/domain/errors.ts';
import type { DomainEvent } from '../../src/domain/events.ts';
import { fold, initialProcessState } from '../../src/domain/process-state.ts';
import { deciderSpec } from '../support/decider-spec.ts';
import { completedEvent, record, registered, T0 } from './fixtures.ts';

const append = deciderSpec(decideAppend);
const when = (request: Parameters<typeof decideAppend>[1]['request'], now = T0 + 1) => ({
  processId: 'p',
  request,
  now,
});

const lineAppended = (sequence: number, replayKey?: string): DomainEvent => ({
  type: 'ProcessEventAppended',
  data: {
    payloadHash: 'unused',
    event: {
      processId: 'p',
      sequence,
      eventType: 'line',
      payload: { n: sequence },
      occurredAtMs: T0,
      invocation: {
        scope: 'root',
        subject: { kind: 'processEvent', processId: 'p', sequence, eventType: 'line' },
        causedBy: { kind: 'process', processId: 'p' },
        ...(replayKey ? { replay: { key: replayKey } } : {}),
      },
      semantics: {},
    },
  },
});

describe('decideAppend', () => {
  it('given two events, when a line is appended, then sequence 3 without a payload hash', () => {
    append([registered, lineAppended(1), lineAppended(2)])
      .when(when({ eventType: 'line', payload: { n: 3 } }))
      .thenResult((result, events) => {
        expect(result.event.sequence).toBe(3);
        expect(result.event.occurredAtMs).toBe(T0 + 1);
        expect(events).toHaveLength(1);
        expect(events[0]?.type).toBe('ProcessEventAppended');
        expect(events[0]?.data).not.toHaveProperty('payloadHash');
      });
  });

  it('given a line, when a keyed line is appended, then it carries the payload hash', () => {
    append([registered, lineAppended(1)])
      .when(when({ eventType: 'line', payload: { n: 2 }, replayKey: 'k2' }))
      .thenResult((result, events) => {
        expect(result.event.invocation.replay).toEqual({ key: 'k2' });
        expect(events[0]?.data).toMatchObject({
          payloadHash: payloadHashOf('line', { n: 2 }),
        });
      });
  });

  it('given no registration, when appended, then not_found', () => {
    append([])
      .when(when({ eventType: 'line', payload: {} }))
      .thenThrows('not_found');
  });

  it('given a terminal process, when another terminal event is appended, then already_terminal', () => {
    append([registered, completedEvent])
      .when(when({ eventType: 'process.failed', payload: { awaitOutput: 'x' }, replayKey: 'f' }))
      .thenThrows('already_terminal', 'is already terminal');
  });

  it('given a terminal process, when a line is appended, then it is accepted', () => {
    append([registered, completedEvent])
      .when(when({ eventType: 'line', payload: {} }))
      .thenResult((result) => expect(result.event.sequence).toBe(2));
  });

  it('given a replay key stored with another payload hash, when replayed, then conflict', () => {
    append([registered, lineAppended(1, 'k')])
      .when(when({ eventType: 'line', payload: { n: 1 }, replayKey: 'k' }))
      .thenThrows('conflict', 'conflicts with an existing event');
  });

  it('given an undeclared type, when appended, then invalid', () => {
    append([registered])
      .when(when({ eventType: 'nope', payload: {} }))
      .thenThrows('invalid', 'undeclared event type');
  });

  it('given a terminal type without replay key, when appended, then invalid', () => {
    append([registered])
      .when(when({ eventType: 'process.completed', payload: {} }))
      .thenThrows('invalid', 'requires a deterministic replay key');
  });
});

/**
 * SPEC "Appending a process event": the rules apply in order and the first failing one is the
 * error. Each row breaks two rules at once; the earlier one must be reported.
 */
describe('decideAppend: the first failing rule wins', () => {
  const strict = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };
  const strictRecord = {
    ...record,
    eventTypes: [
      ...record.eventTypes,
      // terminal and waking, with a payload schema: breaks rules 4, 5, 6 and 7 on demand
      {
        name: 'done',
        payloadSchema: strict,
        semantics: {
          terminal: { state: 'completed' as const },
          wake: { input: { kind: 'const' as const, value: 'finished' } },
        },
      },
      {
        name: 'waking',
        payloadSchema: strict,
        semantics: { wake: { input: { kind: 'const' as const, value: 'hi' } } },
      },
    ],
  };
  const strictRegistered: DomainEvent = {
    type: 'ProcessRegistered',
    data: { record: strictRecord },
  };
  const running = [strictRegistered];
  const ended = [strictRegistered, completedEvent];
  const rows: [
    string,
    DomainEvent[],
    Parameters<typeof decideAppend>[1]['request'],
    RegistryErrorCode,
    string,
  ][] = [
    [
      '1 unknown process before 3 undeclared type',
      [],
      { eventType: 'nope', payload: {} },
      'not_found',
      'unknown process `p`',
    ],
    [
      '1 unknown process before 4 missing replay key',
      [],
      { eventType: 'done', payload: { ok: true } },
      'not_found',
      'unknown process',
    ],
    [
      '2 replay key conflict before 3 undeclared type',
      [strictRegistered, lineAppended(1, 'k')],
      { eventType: 'nope', payload: {}, replayKey: 'k' },
      'conflict',
      'conflicts with an existing event',
    ],
    [
      '4 missing replay key before 5 bad payload',
      running,
      { eventType: 'done', payload: { ok: 'no' } },
      'invalid',
      'requires a deterministic replay key',
    ],
    [
      '4 blank replay key before 5 bad payload',
      running,
      { eventType: 'done', payload: {}, replayKey: '' },
      'invalid',
      'requires a deterministic replay key',
    ],
    [
      '5 bad payload before 6 already terminal',
      ended,
      { eventType: 'done', payload: { ok: 1 }, replayKey: 'd' },
      'invalid',
      'invalid `done` payload',
    ],
    [
      '5 bad payload before 7 missing wake target',
      running,
      { eventType: 'waking', payload: {} },
      'invalid',
      'invalid `waking` payload',
    ],
    [
      '6 already terminal before 7 missing wake target',
      ended,
      { eventType: 'done', payload: { ok: true }, replayKey: 'd' },
      'already_terminal',
      'is already terminal',
    ],
  ];
  it.each(rows)('given %s, then that rule’s error', (_rules, given, request, code, message) => {
    append(given).when(when(request)).thenThrows(code, message);
  });

  it('given a running process, when the same waking terminal event has a target, then it ends the process and wakes', () => {
    append(running)
      .when(
        when({
          eventType: 'done',
          payload: { ok: true },
          replayKey: 'd',
          wakeTargetScope: { sessionId: 's' },
        }),
      )
      .thenResult((result, events) => {
        expect(result.event.semantics.terminal).toEqual({
          state: 'completed',
          awaitOutput: { type: 'success', value: { ok: true } },
        });
        expect(result.wakeDelivery?.input).toBe('finished');
        expect(events).toHaveLength(1);
      });
  });
});

describe('decideAppendBatch', () => {
  const batch = deciderSpec(decideAppendBatch);
  const request = (n: number, replayKey?: string) => ({
    eventType: 'line',
    payload: { n },
    ...(replayKey ? { replayKey } : {}),
  });

  it('given one event, when three are batched, then sequences 2..4 in one decision', () => {
    batch([registered, lineAppended(1)])
      .when({ processId: 'p', requests: [request(2), request(3), request(4)], now: T0 })
      .thenResult((results, events) => {
        expect(results.map((r) => r.event.sequence)).toEqual([2, 3, 4]);
        expect(events.map((e) => e.type)).toEqual(Array(3).fill('ProcessEventAppended'));
      });
  });

  it('given nothing stored, when a key repeats in the batch, then one event and a replay', () => {
    batch([registered])
      .when({ processId: 'p', requests: [request(1, 'k'), request(1, 'k')], now: T0 })
      .thenResult((results, events) => {
        expect(events).toHaveLength(1);
        expect(results[1]?.event).toBe(results[0]?.event);
      });
  });

  it('given a running process, when the batch ends it twice, then already_terminal', () => {
    const end = (key: string) => ({
      eventType: 'process.completed',
      payload: { awaitOutput: { type: 'success', value: key } },
      replayKey: key,
    });
    batch([registered])
      .when({ processId: 'p', requests: [end('a'), end('b')], now: T0 })
      .thenThrows('already_terminal');
  });

  it('never changes the given state', () => {
    const state = fold(initialProcessState(), [registered, lineAppended(1)]);
    decideAppendBatch(state, {
      processId: 'p',
      requests: [request(2, 'k2'), request(3)],
      now: T0 + 50,
    });
    expect(state.lastSequence).toBe(1);
    expect(state.replayKeys.has('k2')).toBe(false);
    expect(state.record?.updatedAtMs).toBe(T0);
  });
});
