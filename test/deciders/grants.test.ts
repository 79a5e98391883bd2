import { describe, expect, it } from 'vitest';
import {
  decideDeleteSessionAll,
  decideGrant,
  decideRevoke,
  decideTransfer,
} from '../../src/commands/grants.ts';
import type { DomainEvent } from '../../src/domain/events.ts';
import { fold, initialProcessState } from '../../src/domain/process-state.ts';
import { deciderSpec } from '../support/decider-spec.ts';
import { completedFor, record, registered, T0 } from './fixtures.ts';

const grant = deciderSpec(decideGrant);
const revoke = deciderSpec(decideRevoke);
const granted = (sessionId: string, agentFrameId?: string, processId = 'p'): DomainEvent => ({
  type: 'HandleGranted',
  data: {
    processId,
    scope: { sessionId, ...(agentFrameId ? { agentFrameId } : {}) },
    descriptor: { label: sessionId },
    atMs: T0,
  },
});

describe('decideGrant / decideRevoke', () => {
  it('given a process, when granted, then HandleGranted with the normalized scope', () => {
    grant([registered])
      .when({
        scope: { sessionId: 's', agentFrameId: '' },
        processId: 'p',
        descriptor: { kind: 'k' },
        now: T0,
      })
      .then([
        {
          type: 'HandleGranted',
          data: { processId: 'p', scope: { sessionId: 's' }, descriptor: { kind: 'k' }, atMs: T0 },
        },
      ]);
  });

  it('given the same grant, when granted again, then nothing', () => {
    grant([registered, granted('s')])
      .when({ scope: { sessionId: 's' }, processId: 'p', descriptor: { label: 's' }, now: T0 })
      .then([]);
  });

  it('given no grant, when revoked, then nothing (even without a process)', () => {
    revoke([])
      .when({ scope: { sessionId: 's' }, processId: 'p', now: T0 })
      .then([]);
  });
});

/** Multi-process deciders take a map of states: fold each process's given events. */
const statesOf = (streams: Record<string, DomainEvent[]>) =>
  new Map(Object.entries(streams).map(([id, events]) => [id, fold(initialProcessState(), events)]));
const registeredAs = (id: string): DomainEvent => ({
  type: 'ProcessRegistered',
  data: { record: { ...record, id } },
});

describe('decideTransfer', () => {
  it('given grants to a, when transferred to b, then one HandleTransferred per process', () => {
    const states = statesOf({
      p: [registered, granted('a')],
      q: [registeredAs('q'), granted('a', undefined, 'q')],
    });
    const decision = decideTransfer(states, {
      from: { sessionId: 'a' },
      to: { sessionId: 'b' },
      processIds: ['p', 'q'],
      now: T0,
    });
    expect(
      decision.events.map((e) => [e.type, (e.data as { processId: string }).processId]),
    ).toEqual([
      ['HandleTransferred', 'p'],
      ['HandleTransferred', 'q'],
    ]);
  });

  it('given one process not granted, when transferred, then not_granted and no events', () => {
    const states = statesOf({ p: [registered, granted('a')], q: [registeredAs('q')] });
    expect(() =>
      decideTransfer(states, {
        from: { sessionId: 'a' },
        to: { sessionId: 'b' },
        processIds: ['p', 'q'],
        now: T0,
      }),
    ).toThrow(expect.objectContaining({ code: 'not_granted' }));
  });
});

describe('decideDeleteSessionAll', () => {
  it('given grants across frames and sessions, when deleted, then the SPEC report', () => {
    const states = statesOf({
      solo: [registeredAs('solo'), granted('s', undefined, 'solo'), granted('s', 'f', 'solo')],
      shared: [
        registeredAs('shared'),
        granted('s', 'f', 'shared'),
        granted('t', undefined, 'shared'),
      ],
      ended: [registeredAs('ended'), granted('s', undefined, 'ended'), completedFor('ended')],
    });
    const decision = decideDeleteSessionAll(states, { sessionId: 's', now: T0 });
    expect(decision.events).toHaveLength(4);
    expect(decision.result).toEqual({
      sessionId: 's',
      revokedHandleCount: 4,
      deletedWakeCount: 0,
      cancelProcessIds: ['solo'],
      preservedProcessIds: ['shared'],
    });
  });
});
