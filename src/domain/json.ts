import { z } from 'zod';

/** A JSON value: what the registry accepts as payloads, inputs and metadata. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Accepts only values that survive a JSON round trip unchanged: finite numbers, plain
 * objects and arrays (no undefined members, functions, bigint, Date, NaN or cycles).
 */
export const JsonSchema: z.ZodType<Json> = z.lazy(() =>
  z.union([
    z.null(),
    z.boolean(),
    z.number().refine(Number.isFinite, 'must be a finite number'),
    z.string(),
    z.array(JsonSchema),
    z.record(z.string(), JsonSchema),
  ]),
);

export type JsonObject = { [key: string]: Json };
export const JsonObjectSchema: z.ZodType<JsonObject> = z.record(z.string(), JsonSchema);
