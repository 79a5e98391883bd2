import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import { commandArb, type Step, stepArb } from './commands.ts';
import { type BackendName, counts, outcomes, replayCase, runSequence } from './run.ts';

/**
 * Model-based tests (issue #10, item 4): random command sequences over every public
 * operation, run against real registries and against the reference model (reference.ts),
 * comparing every result and error code and, at the end, every query. `npm test` runs a
 * fixed seed and run count; `npm run soak` (PROCREG_SOAK=1) runs many more.
 */
const soak = process.env.PROCREG_SOAK === '1';
const SEED = Number(process.env.PROCREG_SEED ?? 20261127);

const check = async (
  backend: BackendName,
  instances: number,
  arb: fc.Arbitrary<Step[]>,
  numRuns: number,
) => {
  const result = await fc.check(
    fc.asyncProperty(arb, (steps) => runSequence(backend, steps, instances)),
    { numRuns, seed: SEED, endOnFailure: false },
  );
  if (result.failed) {
    const [steps] = result.counterexample ?? [[]];
    throw new Error(
      `model divergence on ${backend} (seed ${result.seed}, path ${result.counterexamplePath}) after ${result.numShrinks} shrinks:\n${String(result.errorInstance)}\n\nreplay it with:\n${replayCase(backend, steps as Step[], instances)}`,
    );
  }
};

/** Every sequence starts with two registrations, so most commands meet a known process. */
const prologue: Step[] = [
  { op: 'register', who: 0, id: 'p1', template: 0 },
  { op: 'register', who: 0, id: 'p2', template: 1 },
];
const sequential = fc
  .array(commandArb(1), { minLength: 1, maxLength: 40, size: 'max' })
  .map((steps): Step[] => [...prologue, ...steps]);
const concurrent = fc
  .array(stepArb(), { minLength: 1, maxLength: 30, size: 'max' })
  .map((steps): Step[] => [...prologue, ...steps]);

describe('model-based: registry vs reference model', () => {
  afterAll(() => {
    console.log(
      `model-based outcomes: ${[...outcomes]
        .sort()
        .map(([k, n]) => `${k}=${n}`)
        .join(' ')}`,
    );
    console.log(
      `model-based runs: ${counts.sequences} sequences, ${counts.commands} commands, ${counts.comparisons} results compared, 0 divergences`,
    );
  });

  it('memory, one instance', () => check('memory', 1, sequential, soak ? 3_000 : 300), 120_000);
  it('sqlite, one instance', () => check('sqlite', 1, sequential, soak ? 1_000 : 150), 120_000);
  it(
    'sqlite, two instances on one file, commands interleaved and concurrent',
    () => check('sqlite', 2, concurrent, soak ? 1_000 : 120),
    120_000,
  );
  it(
    'memory, two instances on one log',
    () => check('memory', 2, concurrent, soak ? 2_000 : 200),
    120_000,
  );
});
