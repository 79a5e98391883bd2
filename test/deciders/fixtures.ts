import type { DomainEvent } from '../../src/domain/events.ts';
import type { ProcessLease, ProcessRecord } from '../../src/domain/schemas.ts';

export const T0 = 1_000;

export const record: ProcessRecord = {
  id: 'p',
  registrationHash: 'h',
  input: { type: 't' },
  eventTypes: [
    { name: 'line', payloadSchema: true },
    {
      name: 'process.completed',
      payloadSchema: true,
      semantics: {
        terminal: { state: 'completed', awaitOutput: { kind: 'pointer', pointer: '/awaitOutput' } },
      },
    },
    {
      name: 'process.failed',
      payloadSchema: true,
      semantics: {
        terminal: { state: 'failed', awaitOutput: { kind: 'pointer', pointer: '/awaitOutput' } },
      },
    },
  ],
  provenance: { ownerScope: { sessionId: 'root' }, hostProfileId: 'default' },
  createdAtMs: T0,
  updatedAtMs: T0,
  status: { state: 'running' },
};

export const registered: DomainEvent = { type: 'ProcessRegistered', data: { record } };

export const lease = (over: Partial<ProcessLease> = {}): ProcessLease => ({
  schemaVersion: 1,
  processId: 'p',
  ownerId: 'w1',
  leaseToken: 'tok-1',
  fencingToken: 1,
  claimedAtMs: T0,
  expiresAtMs: T0 + 100,
  ...over,
});

export const claimed = (over: Partial<ProcessLease> = {}): DomainEvent => ({
  type: 'LeaseClaimed',
  data: { lease: lease(over) },
});

/** `process.completed` appended as sequence 1 of `processId`. */
export const completedFor = (processId: string): DomainEvent => ({
  type: 'ProcessEventAppended',
  data: {
    payloadHash: 'x',
    event: {
      processId,
      sequence: 1,
      eventType: 'process.completed',
      payload: { awaitOutput: { type: 'success', value: 1 } },
      occurredAtMs: T0,
      invocation: {
        scope: 'root',
        subject: {
          kind: 'processEvent',
          processId: 'p',
          sequence: 1,
          eventType: 'process.completed',
        },
        causedBy: { kind: 'process', processId: 'p' },
        replay: { key: 'process:p:terminal:process.completed' },
      },
      semantics: { terminal: { state: 'completed', awaitOutput: { type: 'success', value: 1 } } },
    },
  },
});

export const completedEvent = completedFor('p');
