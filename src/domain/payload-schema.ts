import { z } from 'zod';
import { canonicalJson } from './canonical.ts';
import type { Json } from './json.ts';
import type { ProcessEventType } from './schemas.ts';

export type PayloadCheck = (payload: Json) => string | undefined;

/**
 * Compiled payload validators, memoized by the schema's canonical JSON. A compiled schema
 * depends only on that text, so the cache never changes a result; it keeps JSON Schema
 * compilation off the append path.
 */
const compiled = new Map<string, PayloadCheck>();
const MAX_COMPILED = 10_000;

/** Returns a check giving an error text for a non-matching payload; throws for a schema
 * zod cannot compile (the registration is then `invalid`). */
export const payloadCheckFor = (eventType: ProcessEventType): PayloadCheck => {
  // The record's event types are long-lived objects: look them up by identity first, so
  // the hot append path does not serialize the schema every time.
  const known = byEventType.get(eventType);
  if (known) return known;
  const key = canonicalJson(eventType.payloadSchema);
  let check = compiled.get(key);
  if (!check) {
    check = compile(eventType.payloadSchema);
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(key, check);
  }
  byEventType.set(eventType, check);
  return check;
};

const byEventType = new WeakMap<ProcessEventType, PayloadCheck>();

const compile = (schema: boolean | { [key: string]: Json }): PayloadCheck => {
  if (schema === true || (typeof schema === 'object' && Object.keys(schema).length === 0)) {
    return () => undefined;
  }
  // zod's types for JSON Schema documents are narrower than Json; the document was already
  // parsed as JSON and zod validates it while converting.
  const zodSchema = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
  return (payload) => {
    const result = zodSchema.safeParse(payload);
    return result.success ? undefined : z.prettifyError(result.error).replaceAll('\n', ' ');
  };
};
