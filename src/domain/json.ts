import { z } from 'zod';

/** A JSON value: what the registry accepts as payloads, inputs and metadata. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Accepts only values that survive a JSON round trip unchanged: finite numbers, plain
 * objects and arrays (no undefined members, functions, bigint, Date, NaN or cycles).
 */
const JsonTree: z.ZodType<Json> = z.lazy(() =>
  z.union([
    z.null(),
    z.boolean(),
    z.number().refine(Number.isFinite, 'must be a finite number'),
    z.string(),
    z.array(JsonTree),
    z.record(z.string(), JsonTree),
  ]),
);

/** True when no object or array contains itself (JSON cannot express a cycle). */
const isAcyclic = (value: unknown, ancestors = new Set<object>()): boolean => {
  if (value === null || typeof value !== 'object') return true;
  if (ancestors.has(value)) return false;
  ancestors.add(value);
  for (const child of Object.values(value)) {
    if (!isAcyclic(child, ancestors)) return false;
  }
  ancestors.delete(value);
  return true;
};

export const JsonSchema: z.ZodType<Json> = JsonTree.refine(isAcyclic, 'must not contain cycles');

export type JsonObject = { [key: string]: Json };
export const JsonObjectSchema: z.ZodType<JsonObject> = z.record(z.string(), JsonSchema);
