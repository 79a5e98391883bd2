import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { RegistryError } from '../domain/errors.ts';
import { deepFreeze } from '../domain/freeze.ts';
import { registryErrorOf } from './errors.ts';

export interface Connection {
  baseUrl: string;
  token: string | undefined;
  /** keep-alive connections to the service, destroyed by close() */
  agent: HttpAgent;
  /** set by close(): every later call is `unavailable`, every open stream is aborted */
  closed: boolean;
  /** aborts every open waiter and stream on close() */
  readonly open: Set<AbortController>;
}

/**
 * A pool of keep-alive connections. Idle ones are closed after 15 s, before the service's
 * 30 s keep-alive timeout, so a request never races the server closing its socket. Node's
 * http client (not fetch) because its socket timers are internal: a waiter that settles
 * leaves no timer behind, and close() can end every connection. For https, `ca` (PEM) is
 * trusted besides the system's certificates (a private CA, a self-signed service).
 */
export const connectionAgent = (url: URL, ca?: string): HttpAgent =>
  url.protocol === 'https:'
    ? new HttpsAgent({ keepAlive: true, timeout: 15_000, ...(ca ? { ca } : {}) })
    : new HttpAgent({ keepAlive: true, timeout: 15_000 });

export interface AuditHeaders {
  actor?: string | undefined;
  correlationId?: string | undefined;
  causationId?: string | undefined;
}

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** JSON-serializable (already validated), or raw text */
  body?: unknown;
  rawBody?: string;
  accept?: string;
  signal?: AbortSignal;
}

export const encodePath = (id: string): string => encodeURIComponent(id);

const closedError = () =>
  new RegistryError('unavailable', 'the registry is closed; open a new one (openRegistry)');

const readAll = async (stream: AsyncIterable<Buffer>): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
};

/**
 * One HTTP exchange with the service; resolves with the response once its headers are in
 * (the body is still to be read). Non-2xx answers become the `RegistryError` the service
 * reported (same code, same message); an unreachable service is `unavailable`.
 */
export const send = async (
  conn: Connection,
  audit: AuditHeaders,
  spec: RequestSpec,
): Promise<IncomingMessage> => {
  if (conn.closed) throw closedError();
  // relative to the base URL, so a service behind a path prefix works too
  const url = new URL(spec.path.replace(/^\//, ''), conn.baseUrl);
  for (const [key, value] of Object.entries(spec.query ?? {})) {
    if (value !== undefined) url.searchParams.set(key, String(value));
  }
  const headers: Record<string, string> = { accept: spec.accept ?? 'application/json' };
  if (conn.token) headers.authorization = `Bearer ${conn.token}`;
  if (audit.actor) headers['x-procreg-actor'] = audit.actor;
  if (audit.correlationId) headers['x-correlation-id'] = audit.correlationId;
  if (audit.causationId) headers['x-causation-id'] = audit.causationId;
  let body: Buffer | undefined;
  if (spec.rawBody !== undefined) {
    body = Buffer.from(spec.rawBody, 'utf8');
    headers['content-type'] = 'application/x-ndjson';
  } else if (spec.body !== undefined) {
    body = Buffer.from(JSON.stringify(spec.body), 'utf8');
    headers['content-type'] = 'application/json';
  }
  if (body) headers['content-length'] = String(body.length);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(url, {
      method: spec.method,
      headers,
      agent: conn.agent,
      ...(spec.signal ? { signal: spec.signal } : {}),
    });
    req.once('response', resolve);
    // `on`, not `once`: an aborted request can report more than one error
    req.on('error', (error) => {
      if (spec.signal?.aborted) reject(spec.signal.reason);
      else
        reject(
          new RegistryError(
            'unavailable',
            `cannot reach the procreg service at ${conn.baseUrl} (${error.message}); is \`procreg serve\` running?`,
            { cause: error },
          ),
        );
    });
    req.end(body);
  });
  // errors after this point (an aborted body) surface where the body is read
  response.on('error', () => undefined);
  const status = response.statusCode ?? 0;
  if (status >= 200 && status < 300) return response;
  const text = await readAll(response).catch(() => '');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  throw registryErrorOf(status, parsed, conn.baseUrl);
};

/** The JSON answer, deep-frozen like the registry's own results (snapshots, not live state). */
export const sendJson = async <T>(
  conn: Connection,
  audit: AuditHeaders,
  spec: RequestSpec,
): Promise<T> => {
  const response = await send(conn, audit, spec);
  const text = await readAll(response);
  if (response.statusCode === 204 || text === '') return undefined as T;
  return deepFreeze(JSON.parse(text) as T);
};

/** The lines of a streamed text body (NDJSON), without their newlines. */
export async function* lines(body: IncomingMessage): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const value of body as AsyncIterable<Buffer>) {
      buffer += decoder.decode(value, { stream: true });
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        yield buffer.slice(0, newline).replace(/\r$/, '');
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf('\n');
      }
    }
    buffer += decoder.decode();
    if (buffer !== '') yield buffer;
  } finally {
    body.destroy();
  }
}

export interface SseMessage {
  event: string;
  id: string | undefined;
  data: string;
}

/** Server-Sent Events from a streamed body (comments skipped, multi-line data joined). */
export async function* sseMessages(body: IncomingMessage): AsyncGenerator<SseMessage> {
  let event = 'message';
  let id: string | undefined;
  let data: string[] = [];
  for await (const line of lines(body)) {
    if (line === '') {
      if (data.length > 0) yield { event, id, data: data.join('\n') };
      event = 'message';
      id = undefined;
      data = [];
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'id') id = value;
    else if (field === 'data') data.push(value);
  }
}

/** An SSE `error` event's body back into the registry error it reports. */
export const sseError = (data: string, where: string): RegistryError => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    parsed = undefined;
  }
  return registryErrorOf(500, { error: parsed }, where);
};
