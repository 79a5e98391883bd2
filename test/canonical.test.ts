import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalObject } from '../src/domain/canonical.ts';

/**
 * canonicalJson writes values whose keys are already in order with JSON.stringify and only
 * the rest member by member: given any value, then the text is the one the plain
 * definition gives (keys sorted by code unit at every level, `undefined` members left out,
 * `undefined` array items and anything JSON has no text for written as `null`), so every
 * hash taken before the fast path stays the same.
 */

/** The definition, written plainly: what canonicalJson wrote before it had a fast path. */
const reference = (value: unknown): string => {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value))
    return `[${value.map((item: unknown) => (item === undefined ? 'null' : reference(item))).join(',')}]`;
  const members = Object.keys(value)
    .sort()
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .map((key) => `${JSON.stringify(key)}:${reference((value as Record<string, unknown>)[key])}`);
  return `{${members.join(',')}}`;
};

/** The same value with every object's keys inserted in sorted order (what procreg builds). */
const sortedCopy = (value: unknown): unknown => {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(sortedCopy);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    // defined, not assigned: an own `__proto__` stays a member
    Object.defineProperty(out, key, {
      value: sortedCopy((value as Record<string, unknown>)[key]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
};

/** Keys that order differently by insertion, by code unit and by integer value. */
const key = fc.oneof(
  fc.string({ maxLength: 4 }),
  fc.constantFrom('10', '9', '01', '__proto__', 'toJSON', 'hash', 'a', 'B', 'é', '\ud83d'),
);

/** JSON values plus what JSON has no text for: `undefined` members and items, odd numbers. */
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.double(),
    fc.string({ maxLength: 6 }),
    fc.constant(undefined),
  ),
  node: fc.oneof(
    { depthSize: 'small' },
    tie('leaf'),
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(key, tie('node'), { maxKeys: 5 }),
  ),
})).node;

describe('canonicalJson', () => {
  it('equals the definition for any value, in any key order (property, fast-check)', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(canonicalJson(v)).toBe(reference(v));
      }),
      { numRuns: 2000, seed: 20261128 },
    );
  });

  it('equals the definition and JSON.stringify for values built in key order (property)', () => {
    fc.assert(
      fc.property(value, (v) => {
        const sorted = sortedCopy(v);
        expect(canonicalJson(sorted)).toBe(reference(v));
        if (typeof sorted === 'object' && sorted !== null && !hasIntegerKey(sorted))
          expect(canonicalJson(sorted)).toBe(JSON.stringify(sorted));
      }),
      { numRuns: 2000, seed: 20261129 },
    );
  });

  const table: [string, unknown, string][] = [
    ['keys in order', { a: 1, b: [2, { c: 3 }] }, '{"a":1,"b":[2,{"c":3}]}'],
    ['keys out of order', { b: 1, a: 2 }, '{"a":2,"b":1}'],
    [
      'out of order only deep inside',
      { a: { y: [{ z: 1, x: 2 }] }, b: { c: 1 } },
      '{"a":{"y":[{"x":2,"z":1}]},"b":{"c":1}}',
    ],
    ['integer keys (insertion puts 9 before 10)', { 9: 'a', 10: 'b' }, '{"10":"b","9":"a"}'],
    ['undefined members and items', { a: undefined, b: [undefined, 1] }, '{"b":[null,1]}'],
    ['a function member (JSON.stringify would leave it out)', { a: () => 1 }, '{"a":null}'],
    [
      'a toJSON member (JSON.stringify would call it)',
      { toJSON: () => 'x', a: 1 },
      '{"a":1,"toJSON":null}',
    ],
    ['an array with its own toJSON', Object.assign([1], { toJSON: () => 'x' }), '[1]'],
    ['a Date (no own keys)', { at: new Date(0) }, '{"at":{}}'],
    [
      'an object with a null prototype',
      Object.assign(Object.create(null), { b: 1, a: 2 }),
      '{"a":2,"b":1}',
    ],
    ['an own __proto__ key', JSON.parse('{"__proto__":1,"a":2}'), '{"__proto__":1,"a":2}'],
    ['non-finite numbers and -0', [Number.NaN, Number.POSITIVE_INFINITY, -0], '[null,null,0]'],
    ['a string with a lone surrogate', ['\ud800'], '["\\ud800"]'],
    [
      'the same object twice',
      ((o) => ({ b: o, a: o }))({ y: 1, x: 2 }),
      '{"a":{"x":2,"y":1},"b":{"x":2,"y":1}}',
    ],
  ];
  for (const [given, input, text] of table) {
    it(`given ${given}, then ${text}`, () => {
      expect(canonicalJson(input)).toBe(text);
      expect(reference(input)).toBe(text);
    });
  }

  it('a key inherited from Object.prototype is left out, as JSON.stringify does', () => {
    for (const [name, value] of [
      ['zz', 1],
      ['a', 1],
      ['m', () => 1],
    ] as const) {
      Object.defineProperty(Object.prototype, name, {
        value,
        enumerable: true,
        configurable: true,
        writable: true,
      });
      try {
        for (const v of [
          { b: 1, c: { d: 2 } },
          { c: 1, b: 2 },
        ])
          expect(canonicalJson(v)).toBe(reference(v));
        expect(canonicalJson({ b: 1, c: { d: 2 } })).toBe('{"b":1,"c":{"d":2}}');
      } finally {
        delete (Object.prototype as Record<string, unknown>)[name];
      }
    }
  });

  it('canonicalObject leaves out the member it is told to, at the top level only', () => {
    expect(canonicalObject({ hash: 'h', b: { hash: 1 }, a: 2 }, 'hash')).toBe(
      '{"a":2,"b":{"hash":1}}',
    );
  });
});

const hasIntegerKey = (value: object): boolean =>
  Array.isArray(value)
    ? value.some(
        (item: unknown) => typeof item === 'object' && item !== null && hasIntegerKey(item),
      )
    : Object.entries(value).some(
        ([k, v]) =>
          /^(0|[1-9]\d*)$/.test(k) ||
          (typeof v === 'object' && v !== null && hasIntegerKey(v as object)),
      );
