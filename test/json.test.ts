import { describe, expect, it } from 'vitest';
import { JsonObjectSchema, JsonSchema } from '../src/domain/json.ts';

describe('JsonSchema', () => {
  it('accepts JSON values and returns an independent copy', () => {
    const input = { a: [1, 'two', null, true, { b: 2.5 }] };
    const parsed = JsonSchema.parse(input);
    expect(parsed).toEqual(input);
    input.a.push(9);
    expect(parsed).toEqual({ a: [1, 'two', null, true, { b: 2.5 }] });
  });

  it('keeps a member named __proto__ as data', () => {
    const parsed = JsonSchema.parse(JSON.parse('{"__proto__":{"polluted":1}}')) as Record<
      string,
      unknown
    >;
    expect(Object.keys(parsed)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
  });

  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  it.each([
    ['NaN', { a: [1, Number.NaN] }, 'a.1: must be a finite number'],
    ['undefined member', { a: undefined }, 'a: must be JSON, not undefined'],
    ['bigint', { n: 1n }, 'n: must be JSON, not bigint'],
    ['function', [() => 1], '0: must be JSON, not function'],
    ['Date', { d: new Date(0) }, 'd: must be a plain JSON object'],
    ['array hole', new Array(3).fill(1, 0, 1), '1: must be JSON, not undefined'],
    ['cycle', cyclic, 'self: must not contain cycles'],
  ])('rejects %s with the path', (_what, value, message) => {
    const result = JsonSchema.safeParse(value);
    expect(result.success).toBe(false);
    const issue = result.error?.issues[0];
    expect(`${issue?.path.join('.')}: ${issue?.message}`).toBe(message);
  });

  it('accepts a shared (non-cyclic) sub-object twice', () => {
    const shared = { x: 1 };
    expect(JsonSchema.parse({ a: shared, b: shared })).toEqual({ a: { x: 1 }, b: { x: 1 } });
  });

  it('JsonObjectSchema accepts only objects', () => {
    expect(JsonObjectSchema.safeParse([]).success).toBe(false);
    expect(JsonObjectSchema.safeParse('s').success).toBe(false);
    expect(JsonObjectSchema.parse({ k: 'v' })).toEqual({ k: 'v' });
  });
});
