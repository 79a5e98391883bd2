import type { Context } from 'hono';
import type { z } from 'zod';
import { parseInput } from '../domain/validation.ts';
import type { ProcessRegistry } from '../registry.ts';
import { ServiceError } from './errors.ts';
import type { Principal } from './tokens.ts';

/** What every request carries once the middleware has run. */
export interface RequestState {
  principal: Principal;
  correlationId: string;
  /** the registry stamping this request's actor and correlation id into what it writes */
  registry: ProcessRegistry;
  /** the registry operation this request runs (metrics and logs), set by its route */
  operation: string;
  /** `ok` or the error code the request ended with (metrics) */
  outcome: string;
}
export type Env = { Variables: RequestState };
export type Ctx = Context<Env>;

/** Largest JSON body a command takes: a batch of appends carries up to 4 MiB of payload. */
export const MAX_JSON_BODY_BYTES = 5 * 1024 * 1024;

/** JSON with bigint (log positions) as decimal strings, the way `exportEvents` writes them. */
export const stringify = (value: unknown): string =>
  JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'null';

export const json = (c: Ctx, value: unknown, status = 200): Response =>
  c.body(stringify(value), status as 200, { 'content-type': 'application/json; charset=utf-8' });

export const noContent = (c: Ctx): Response => c.body(null, 204);

/** Reads the whole body, refusing (413, code invalid) as soon as it passes `maxBytes`. */
export const readBodyText = async (c: Ctx, maxBytes: number): Promise<string> => {
  const declared = Number(c.req.header('content-length') ?? Number.NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const body = c.req.raw.body;
  if (!body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
};

const tooLarge = (maxBytes: number) =>
  new ServiceError(
    'invalid',
    `request body is over the ${maxBytes}-byte limit; send less (store large data elsewhere and append a reference)`,
    413,
  );

/** The JSON body, parsed with `schema` (any mismatch or malformed JSON is `invalid`, 400). */
export const readJson = async <S extends z.ZodType>(
  c: Ctx,
  schema: S,
  what: string,
): Promise<z.output<S>> => {
  const text = await readBodyText(c, MAX_JSON_BODY_BYTES);
  let value: unknown;
  try {
    value = text === '' ? undefined : JSON.parse(text);
  } catch (error) {
    throw new ServiceError(
      'invalid',
      `${what}: the body is not JSON (${(error as Error).message}); send application/json`,
    );
  }
  return parseInput(schema, value, what);
};

/** A non-negative integer query parameter (`after`, `timeoutMs`), else `invalid`. */
export const intQuery = (c: Ctx, name: string, fallback?: number): number | undefined => {
  const raw = c.req.query(name);
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,15}$/.test(raw)) {
    throw new ServiceError('invalid', `query parameter ${name}=${raw} must be a whole number ≥ 0`);
  }
  return Number(raw);
};

/** A path parameter, decoded (ids may hold any character). */
export const pathParam = (c: Ctx, name: string): string => {
  const raw = c.req.param(name);
  if (raw === undefined) throw new ServiceError('invalid', `missing path parameter ${name}`);
  return raw;
};
