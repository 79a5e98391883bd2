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
  const key = canonicalJson(eventType.payloadSchema);
  const hit = compiled.get(key);
  if (hit) return hit;
  const check = compile(eventType.payloadSchema);
  if (compiled.size >= MAX_COMPILED) compiled.clear();
  compiled.set(key, check);
  return check;
};

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
