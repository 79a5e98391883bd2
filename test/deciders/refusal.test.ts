import { describe, expect, it } from 'vitest';
import { refusalOf } from '../../src/commands/refusal.ts';
import { RegistryError, type RegistryErrorCode } from '../../src/domain/errors.ts';
import { initialProcessState, type ProcessState } from '../../src/domain/process-state.ts';
import type { ProcessRecord } from '../../src/domain/schemas.ts';

const record = { createdAtMs: 42 } as ProcessRecord;
const at = (revision: number): ProcessState => ({
  ...initialProcessState(),
  revision,
  record: revision < 0 ? undefined : record,
});
const states = new Map([
  ['p', at(4)],
  ['q', at(0)],
  ['fresh', at(-1)],
]);
const command = (processIds: string[]) => ({
  command: 'someCommand',
  commandId: 'cmd-1',
  audit: { actor: 'w1', correlationId: 'c1' },
  processIds,
});

describe('refusalOf: what the journal of refused commands records', () => {
  const journaled: RegistryErrorCode[] = [
    'lease_lost',
    'lease_held',
    'not_granted',
    'conflict',
    'already_terminal',
  ];
  for (const code of journaled) {
    it(`given a ${code} refusal of a known process, then an entry after its revision`, () => {
      expect(refusalOf(new RegistryError(code, 'why'), command(['p']), states, 7)).toEqual({
        processId: 'p',
        command: 'someCommand',
        commandId: 'cmd-1',
        code,
        message: 'why',
        actor: 'w1',
        correlationId: 'c1',
        causationId: null,
        recordedAtMs: 7,
        processCreatedAtMs: 42,
        afterRevision: 4,
      });
    });
  }

  const ignored: RegistryErrorCode[] = [
    'invalid',
    'not_found',
    'unavailable',
    'concurrency',
    'timeout',
    'aborted',
  ];
  for (const code of ignored) {
    it(`given ${code}, then nothing`, () => {
      expect(refusalOf(new RegistryError(code, 'x'), command(['p']), states, 7)).toBeUndefined();
    });
  }

  it('given a plain Error, then nothing', () => {
    expect(refusalOf(new Error('bug'), command(['p']), states, 7)).toBeUndefined();
  });

  it('given a refusal over several processes, then under the one its error names, else nothing', () => {
    const named = new RegistryError('not_granted', 'x', { processId: 'q' });
    expect(refusalOf(named, command(['p', 'q']), states, 7)).toMatchObject({
      processId: 'q',
      afterRevision: 0,
    });
    expect(
      refusalOf(new RegistryError('not_granted', 'x'), command(['p', 'q']), states, 7),
    ).toBeUndefined();
  });

  it('given a refusal naming a process with no stream, then nothing', () => {
    const ghost = new RegistryError('not_granted', 'x', { processId: 'ghost' });
    expect(refusalOf(ghost, command(['ghost']), states, 7)).toBeUndefined();
    expect(
      refusalOf(new RegistryError('conflict', 'x'), command(['fresh']), states, 7),
    ).toBeUndefined();
  });
});
