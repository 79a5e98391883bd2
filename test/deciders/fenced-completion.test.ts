import { describe, expect, it } from 'vitest';
import { decideCompleteWithLease } from '../../src/commands/fenced-completion.ts';
import { decideComplete } from '../../src/commands/terminal.ts';
import type { DomainEvent } from '../../src/domain/events.ts';
import { fold, initialProcessState } from '../../src/domain/process-state.ts';
import type { ProcessAwaitOutput } from '../../src/domain/schemas.ts';
import { deciderSpec } from '../support/decider-spec.ts';
import { claimed, lease, registered, T0 } from './fixtures.ts';

const complete = deciderSpec(decideCompleteWithLease);
const success: ProcessAwaitOutput = { type: 'success', value: 42 };
const released = (leaseToken = 'tok-1', fencingToken = 1, atMs = T0 + 10): DomainEvent => ({
  type: 'LeaseReleased',
  data: { processId: 'p', leaseToken, fencingToken, atMs },
});
/** The terminal events `completeProcess` decides on the given stream (its real payload hash). */
const completion = (given: DomainEvent[], output: ProcessAwaitOutput, now: number) =>
  decideComplete(fold(initialProcessState(), given), { processId: 'p', output, now }).events;

describe('decideCompleteWithLease', () => {
  it('given a live lease, when its holder completes, then the terminal event and the release, in that order', () => {
    const given = [registered, claimed()];
    complete(given)
      .when({ lease: lease(), output: success, now: T0 + 10 })
      .thenResult((record, events) => {
        expect(events).toEqual([...completion(given, success, T0 + 10), released()]);
        expect(events[0]).toMatchObject({
          type: 'ProcessEventAppended',
          data: { event: { eventType: 'process.completed', sequence: 1 } },
        });
        expect(record.status).toEqual({ state: 'completed', awaitOutput: success });
      });
  });

  it.each([
    ['an expired lease', lease(), T0 + 100],
    ['a forged token', lease({ leaseToken: 'forged' }), T0],
    ['another fencing token', lease({ fencingToken: 2 }), T0],
    ['another owner', lease({ ownerId: 'w2' }), T0],
  ])('given a live lease, when completed with %s, then lease_lost', (_what, presented, now) => {
    complete([registered, claimed()])
      .when({ lease: presented, output: success, now })
      .thenThrows('lease_lost', 'missing or expired');
  });

  it('given a superseded lease, when its old holder completes, then lease_lost', () => {
    complete([registered, claimed(), claimed({ leaseToken: 'tok-2', fencingToken: 2 })])
      .when({ lease: lease(), output: success, now: T0 + 10 })
      .thenThrows('lease_lost');
  });

  it('given a released lease, when completed with it, then lease_lost', () => {
    complete([registered, claimed(), released()])
      .when({ lease: lease(), output: success, now: T0 + 20 })
      .thenThrows('lease_lost');
  });

  it('given no process, when completed, then not_found', () => {
    complete([])
      .when({ lease: lease(), output: success, now: T0 })
      .thenThrows('not_found', 'unknown process `p`');
  });

  it('given the same outcome already stored and the lease still held, then only the release', () => {
    const given = [registered, claimed()];
    const stored = [...given, ...completion(given, success, T0 + 5)];
    complete(stored)
      .when({ lease: lease(), output: success, now: T0 + 10 })
      .thenResult((record, events) => {
        expect(events).toEqual([released()]);
        expect(record.status).toEqual({ state: 'completed', awaitOutput: success });
      });
  });

  it('given another outcome already stored, when completed, then already_terminal', () => {
    const given = [registered, claimed()];
    const stored = [...given, ...completion(given, success, T0 + 5)];
    complete(stored)
      .when({
        lease: lease(),
        output: { type: 'failure', class: 'execution', code: 'x', message: 'late' },
        now: T0 + 10,
      })
      .thenThrows('already_terminal');
  });
});
