import { describe, expect, it } from 'vitest';
import { decideAppend, payloadHashOf } from '../../src/commands/append.ts';
import type { DomainEvent } from '../../src/domain/events.ts';
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
