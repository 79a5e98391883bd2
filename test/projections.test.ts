import { describe, expect, it } from 'vitest';
import type { DomainEvent } from '../src/domain/events.ts';
import { applyToReadModels, createReadModels } from '../src/projections/read-models.ts';
import { wakeEventsAfterOf } from '../src/queries/events.ts';
import { listHandleGrantsIn } from '../src/queries/grants.ts';
import { claimed, completedFor, registered, T0 } from './deciders/fixtures.ts';

/** Given domain events, then the read models: each projection is a fold of the log. */
const given = (events: DomainEvent[]) => {
  const models = createReadModels();
  for (const event of events) applyToReadModels(models, event);
  return models;
};

const wakeAt = (sequence: number): DomainEvent => ({
  type: 'ProcessEventAppended',
  data: {
    payloadHash: 'h',
    wakeTargetScope: { sessionId: 's' },
    event: {
      processId: 'p',
      sequence,
      eventType: 'w',
      payload: null,
      occurredAtMs: T0,
      invocation: {
        scope: 'root',
        subject: { kind: 'processEvent', processId: 'p', sequence, eventType: 'w' },
        causedBy: { kind: 'process', processId: 'p' },
      },
      semantics: { wake: { input: 'i', dedupeKey: `p:${sequence}` } },
    },
  },
});

describe('projections', () => {
  it('given a grant then a transfer, the grant is indexed under the new scope only', () => {
    const models = given([
      registered,
      {
        type: 'HandleGranted',
        data: { processId: 'p', scope: { sessionId: 'a' }, descriptor: { label: 'L' }, atMs: T0 },
      },
      {
        type: 'HandleTransferred',
        data: {
          processId: 'p',
          from: { sessionId: 'a' },
          to: { sessionId: 'b' },
          descriptor: { label: 'L' },
          atMs: T0 + 1,
        },
      },
    ]);
    expect(models.grants.byScope.has('session:a')).toBe(false);
    expect(listHandleGrantsIn(models, { sessionId: 'b' }).map((e) => e.grant.descriptor)).toEqual([
      { label: 'L' },
    ]);
    expect([...(models.grants.byProcess.get('p')?.keys() ?? [])]).toEqual(['session:b']);
  });

  it('given a terminal event, the process leaves the non-terminal set', () => {
    const models = given([registered, completedFor('p')]);
    expect(models.processes.nonTerminal.size).toBe(0);
    expect(models.processes.records.get('p')?.status.state).toBe('completed');
  });

  it('given wakes and an ack, only unacked wakes remain', () => {
    const models = given([
      registered,
      wakeAt(1),
      wakeAt(2),
      { type: 'WakeAcked', data: { processId: 'p', sequence: 1, atMs: T0 } },
    ]);
    expect(wakeEventsAfterOf(models, 'p', 0).map((e) => e.sequence)).toEqual([2]);
  });

  it('given a stale release, the newer lease stays', () => {
    const models = given([
      registered,
      claimed(),
      claimed({ leaseToken: 'tok-2', fencingToken: 2 }),
      {
        type: 'LeaseReleased',
        data: { processId: 'p', leaseToken: 'tok-1', fencingToken: 1, atMs: T0 },
      },
    ]);
    expect(models.leases.get('p')?.leaseToken).toBe('tok-2');
  });
});
