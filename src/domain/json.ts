import { z } from 'zod';
import { sortedKeys } from './canonical.ts';

/** A JSON value: what the registry accepts as payloads, inputs and metadata. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

type Copied = { ok: true; value: Json } | { ok: false; path: (string | number)[]; message: string };

/**
 * Validates and copies a JSON value in one walk. Accepts only values that survive a JSON
 * round trip unchanged: finite numbers, strings, booleans, null, arrays without holes, plain
 * objects (no undefined members, functions, bigint, Date, NaN or cycles). The copy means a
 * caller mutating its object later can never change what the registry decided on.
 * A failure's path is built on the way out (each level puts its key in front), so the
 * common case, valid JSON, allocates nothing but the copy.
 */
const copyJson = (value: unknown, ancestors: Set<object>): Copied => {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return { ok: true, value };
    case 'number':
      return Number.isFinite(value)
        ? { ok: true, value }
        : { ok: false, path: [], message: 'must be a finite number' };
    case 'object': {
      if (value === null) return { ok: true, value: null };
      if (ancestors.has(value)) return { ok: false, path: [], message: 'must not contain cycles' };
      ancestors.add(value);
      try {
        if (Array.isArray(value)) {
          const out: Json[] = new Array(value.length);
          for (let i = 0; i < value.length; i++) {
            const item = copyJson(value[i], ancestors);
            if (!item.ok) return failedAt(i, item);
            out[i] = item.value;
          }
          return { ok: true, value: out };
        }
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          return { ok: false, path: [], message: 'must be a plain JSON object' };
        }
        const out: JsonObject = {};
        // members in code unit order, as canonical JSON and the stored text have them: what
        // a call returns is what reading it back gives, and hashing it is one stringify
        for (const key of sortedKeys(value as Record<string, unknown>)) {
          const member: unknown = (value as Record<string, unknown>)[key];
          const item = copyJson(member, ancestors);
          if (!item.ok) return failedAt(key, item);
          // defineProperty, so a member named "__proto__" stays data, not a prototype
          Object.defineProperty(out, key, {
            value: item.value,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        return { ok: true, value: out };
      } finally {
        ancestors.delete(value);
      }
    }
    default:
      return { ok: false, path: [], message: `must be JSON, not ${typeof value}` };
  }
};

const failedAt = (key: string | number, failure: Copied & { ok: false }): Copied => {
  failure.path.unshift(key);
  return failure;
};

const jsonSchemaOf = <T extends Json>(accept: (value: Json) => value is T, what: string) =>
  z.unknown().transform((value, ctx): T => {
    const copied = copyJson(value, new Set());
    if (!copied.ok) {
      ctx.addIssue({ code: 'custom', message: copied.message, path: copied.path });
      return z.NEVER;
    }
    if (!accept(copied.value)) {
      ctx.addIssue({ code: 'custom', message: `must be ${what}` });
      return z.NEVER;
    }
    return copied.value;
  });

export const JsonSchema: z.ZodType<Json, unknown> = jsonSchemaOf(
  (_value): _value is Json => true,
  'JSON',
);

export const JsonObjectSchema: z.ZodType<JsonObject, unknown> = jsonSchemaOf(
  (value): value is JsonObject =>
    value !== null && typeof value === 'object' && !Array.isArray(value),
  'a JSON object',
);
