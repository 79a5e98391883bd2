import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/domain/canonical.ts';
import { MemoryDigests } from '../src/store/memory-digests.ts';

/**
 * Memory's per-position digests, kept as bytes: given what was recorded, when read back,
 * then each position gives the digest last recorded for it, in position order.
 */

const digest = (n: number) => sha256Hex(String(n));
/** 64 characters that are hex but for one in the middle. */
const broken = `${digest(6).slice(0, 31)}z${digest(6).slice(32)}`;
type Step = [position: number, digest: string];

const rows = (steps: readonly Step[], after = -1, upTo = 1e9) => {
  const index = new MemoryDigests();
  for (const [position, d] of steps) index.record(BigInt(position), d);
  return index.between(BigInt(after), BigInt(upTo));
};
const expected = (steps: readonly Step[]) =>
  steps.map(([position, d]) => ({ position: BigInt(position), digest: d }));

describe('memory digests by position', () => {
  const table: [string, Step[], Step[]][] = [
    ['nothing recorded', [], []],
    [
      'positions in order, with gaps',
      [
        [1, digest(1)],
        [2, digest(2)],
        [5, digest(5)],
      ],
      [
        [1, digest(1)],
        [2, digest(2)],
        [5, digest(5)],
      ],
    ],
    [
      'a position recorded again (replaced)',
      [
        [1, digest(1)],
        [2, digest(2)],
        [1, digest(9)],
      ],
      [
        [1, digest(9)],
        [2, digest(2)],
      ],
    ],
    [
      'a position recorded before the last (put in its place)',
      [
        [1, digest(1)],
        [4, digest(4)],
        [6, digest(6)],
        [3, digest(3)],
      ],
      [
        [1, digest(1)],
        [3, digest(3)],
        [4, digest(4)],
        [6, digest(6)],
      ],
    ],
    [
      'digests that are not SHA-256 hex (kept as given; hex in capitals reads back in lowercase)',
      [
        [1, 'GENESIS'],
        [2, digest(2).toUpperCase()],
        [3, digest(3)],
        [0, 'first'],
        [4, 'g'.repeat(64)],
        [5, digest(5).slice(1)],
        [6, broken],
      ],
      [
        [0, 'first'],
        [1, 'GENESIS'],
        [2, digest(2)],
        [3, digest(3)],
        [4, 'g'.repeat(64)],
        [5, digest(5).slice(1)],
        [6, broken],
      ],
    ],
    [
      'a hex digest replacing another kind',
      [
        [1, 'x'],
        [1, digest(1)],
      ],
      [[1, digest(1)]],
    ],
  ];
  for (const [given, steps, then] of table) {
    it(`given ${given}: reads back each position's last digest`, () => {
      expect(rows(steps)).toEqual(expected(then));
    });
  }

  it('reads the positions in (after, upTo] only', () => {
    const steps: Step[] = [1, 2, 3, 4, 5].map((p) => [p, digest(p)]);
    expect(rows(steps, 2, 4)).toEqual(expected(steps.slice(2, 4)));
    expect(rows(steps, 5, 9)).toEqual([]);
  });

  it('keeps every digest past its first buffer, and none after clear', () => {
    const index = new MemoryDigests();
    const steps: Step[] = Array.from({ length: 5000 }, (_, i) => [i + 1, digest(i)]);
    for (const [position, d] of steps) index.record(BigInt(position), d);
    index.record(2500n, digest(-1));
    steps[2499] = [2500, digest(-1)];
    expect(index.between(0n, 10_000n)).toEqual(expected(steps));
    index.clear();
    expect(index.between(0n, 10_000n)).toEqual([]);
  });
});
