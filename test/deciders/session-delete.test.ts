import { describe, expect, it } from 'vitest';
import { deleteSessionInRounds } from '../../src/commands/session-delete.ts';
import type { SessionDeleteReport } from '../../src/domain/schemas.ts';
import { sessionReport } from '../conformance/fixtures.ts';

/**
 * deleteSessionInRounds, given what each round's re-check finds and what each revocation
 * reports (or that it fails), then the call's report or its failure (`outcome`). A
 * revocation here cancels every process it is handed.
 */
type Step = string[] | 'fails';

const run = (finds: Step[], revokes: Step[]): Promise<SessionDeleteReport> => {
  let found = 0;
  let revoked = 0;
  const failure = new Error('the store failed');
  return deleteSessionInRounds(
    's',
    async () => {
      const step = finds[found++] ?? [];
      if (step === 'fails') throw failure;
      return step;
    },
    async (ids) => {
      const step = revokes[revoked++] ?? ids;
      if (step === 'fails') throw failure;
      return sessionReport('s', { revokedHandleCount: step.length, cancelProcessIds: step });
    },
  );
};

const cases: {
  given: string;
  finds: Step[];
  revokes: Step[];
  outcome: Partial<SessionDeleteReport> | 'fails';
}[] = [
  { given: 'a session without grants', finds: [[]], revokes: [[]], outcome: {} },
  {
    given: 'a grant committed while the first round ran',
    finds: [['p1'], ['p2'], []],
    revokes: [],
    outcome: { revokedHandleCount: 2, cancelProcessIds: ['p1', 'p2'] },
  },
  { given: 'a first re-check that fails', finds: ['fails'], revokes: [], outcome: 'fails' },
  { given: 'a first revocation that fails', finds: [['p1']], revokes: ['fails'], outcome: 'fails' },
  {
    given: 'a later re-check that fails after revocations were stored',
    finds: [['p1'], 'fails'],
    revokes: [],
    outcome: { revokedHandleCount: 1, cancelProcessIds: ['p1'] },
  },
  {
    given: 'a later revocation that fails after revocations were stored',
    finds: [['p1'], ['p2']],
    revokes: [['p1'], 'fails'],
    outcome: { revokedHandleCount: 1, cancelProcessIds: ['p1'] },
  },
  {
    given: 'a later failure when the first round revoked nothing (the grants went meanwhile)',
    finds: [['p1'], ['p2']],
    revokes: [[], 'fails'],
    outcome: 'fails',
  },
  {
    given: 'grants that keep appearing',
    finds: Array.from({ length: 12 }, (_, i) => [`p${i}`]),
    revokes: [],
    // ten rounds, then a grant still appearing is later than the deletion
    outcome: {
      revokedHandleCount: 10,
      cancelProcessIds: Array.from({ length: 10 }, (_, i) => `p${i}`).sort(),
    },
  },
];

describe('deleteSessionInRounds', () => {
  it.each(cases)('given $given', async ({ finds, revokes, outcome: expected }) => {
    const outcome = run(finds, revokes);
    if (expected === 'fails') await expect(outcome).rejects.toThrow('the store failed');
    else expect(await outcome).toEqual(sessionReport('s', expected));
  });
});
