import { describe, expect, it } from 'vitest';
import { decideRegister } from '../../src/commands/register.ts';
import { initialProcessState as deciderState } from '../../src/domain/process-state.ts';
import { deciderSpec } from '../support/decider-spec.ts';

const register = deciderSpec(decideRegister);
const registration = { id: 'p', input: { type: 't' } };

describe('decideRegister', () => {
  it('given nothing, when registered, then ProcessRegistered with core types and defaults', () => {
    register([])
      .when({ registration, now: 5 })
      .thenResult((record, events) => {
        expect(events).toEqual([{ type: 'ProcessRegistered', data: { record } }]);
        expect(record.eventTypes.map((t) => t.name)).toEqual([
          'process.cancel_requested',
          'process.completed',
          'process.failed',
          'process.cancelled',
        ]);
        expect(record.provenance).toEqual({
          ownerScope: { sessionId: 'root' },
          hostProfileId: 'default',
        });
        expect(record).toMatchObject({
          createdAtMs: 5,
          updatedAtMs: 5,
          status: { state: 'running' },
        });
      });
  });

  it('given the same registration, when registered again later, then nothing and the stored record', () => {
    const first = decideRegister(deciderState(), { registration, now: 5 });
    register(first.events).when({ registration, now: 99 }).then([], first.result);
  });

  it('given another registration under the id, when registered, then conflict', () => {
    const first = decideRegister(deciderState(), { registration, now: 5 });
    register(first.events)
      .when({ registration: { ...registration, input: { type: 'other' } }, now: 6 })
      .thenThrows('conflict', 'registration hash conflict');
  });

  it('given nothing, when a failed terminal type lacks awaitOutput, then invalid', () => {
    register([])
      .when({
        registration: {
          ...registration,
          eventTypes: [
            { name: 'x', payloadSchema: true, semantics: { terminal: { state: 'failed' } } },
          ],
        },
        now: 5,
      })
      .thenThrows('invalid', 'needs an awaitOutput selector');
  });
});
