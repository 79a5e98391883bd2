import { describe, expect, it } from 'vitest';
import { decideAppend, decideAppendBatch, payloadHashOf } from '../../src/commands/append.ts';
import type { DomainEvent } from '../../src/domain/events.ts';
import { fold, initialProcessState } from '../../src/domain/process-state.ts';
import { deciderSpec } from '../support/decider-spec.ts';
import { completedEvent, registered, T0 } from './fixtures.ts';

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
