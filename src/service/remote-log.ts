import { RegistryError } from '../domain/errors.ts';
import { deepFreeze } from '../domain/freeze.ts';
import type { HistoryItem, HistoryOptions } from '../queries/history.ts';
import { registryErrorOf } from './errors.ts';
import {
  type AuditHeaders,
  type Connection,
  encodePath,
  lines,
  send,
  sendJson,
} from './remote-http.ts';

/**
 * The remote registry's log-wide reads and long operations: history (whole or streamed
 * page by page as NDJSON), export, and the operations that report progress (import,
 * verify, rebuild). Log positions travel as decimal strings and come back as bigint.
 */

export const withPosition = <T extends { position: unknown }>(entry: T): T => ({
  ...entry,
  position: BigInt(entry.position as string),
});

const historyQuery = (opts: HistoryOptions) => ({
  fromMs: opts?.fromMs,
  toMs: opts?.toMs,
  types: opts?.types?.join(','),
  pageSize: opts?.pageSize,
  includeRefused: opts?.includeRefused === undefined ? undefined : String(opts.includeRefused),
});

/** A history entry off the wire: events carry a position, refusals none. */
const historyItem = (entry: HistoryItem): HistoryItem =>
  deepFreeze('refused' in entry ? entry : withPosition(entry));

export const historyOver = async (
  conn: Connection,
  audit: AuditHeaders,
  id: string,
  opts: HistoryOptions,
): Promise<HistoryItem[]> => {
  const entries = await sendJson<HistoryItem[]>(conn, audit, {
    method: 'GET',
    path: `/processes/${encodePath(id)}/history`,
    query: historyQuery(opts),
  });
  return entries.map(historyItem);
};

export async function* iterateHistoryOver(
  conn: Connection,
  audit: AuditHeaders,
  id: string,
  opts: HistoryOptions,
): AsyncGenerator<HistoryItem> {
  const response = await send(conn, audit, {
    method: 'GET',
    path: `/processes/${encodePath(id)}/history`,
    query: historyQuery(opts),
    accept: 'application/x-ndjson',
  });
  for await (const line of lines(response)) if (line) yield historyItem(JSON.parse(line));
}

export async function* exportOver(conn: Connection, audit: AuditHeaders): AsyncGenerator<string> {
  const response = await send(conn, audit, {
    method: 'GET',
    path: '/export',
    accept: 'application/x-ndjson',
  });
  for await (const line of lines(response)) {
    // export lines begin with their stream; a failure the service met ends the body instead
    if (line.startsWith('{"error":')) throw registryErrorOf(500, JSON.parse(line), conn.baseUrl);
    if (line) yield `${line}\n`;
  }
}

/**
 * A long operation: the service answers NDJSON `{"progress":…}` lines, then one
 * `{"result":…}` or `{"error":…}` line, which becomes the same `RegistryError`.
 */
export const withProgress = async <P, R>(
  conn: Connection,
  audit: AuditHeaders,
  path: string,
  rawBody: string | undefined,
  onProgress: (p: P) => void,
): Promise<R> => {
  const response = await send(conn, audit, {
    method: 'POST',
    path,
    accept: 'application/x-ndjson',
    ...(rawBody !== undefined ? { rawBody } : {}),
  });
  for await (const line of lines(response)) {
    if (!line) continue;
    const message = JSON.parse(line) as { progress?: P; result?: R; error?: unknown };
    if (message.progress !== undefined) onProgress(message.progress);
    else if (message.error) throw registryErrorOf(500, { error: message.error }, conn.baseUrl);
    else return message.result as R;
  }
  throw new RegistryError(
    'unavailable',
    `the procreg service at ${conn.baseUrl} ended ${path} without a result`,
  );
};
