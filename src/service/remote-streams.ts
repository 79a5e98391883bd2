import { Observable } from 'rxjs';
import { RegistryError } from '../domain/errors.ts';
import { type AuditHeaders, type Connection, send, sseError, sseMessages } from './remote-http.ts';

type Query = Record<string, string | number | undefined>;

/**
 * One waiter as an SSE request: the service answers with one `result` or `error` event.
 * The caller's signal (and `close()`) aborts the request; the closed connection aborts the
 * wait inside the service. Nothing is left behind once the promise settles.
 */
export const waitOverSse = async <T>(
  conn: Connection,
  audit: AuditHeaders,
  path: string,
  query: Query,
  signal: AbortSignal | undefined,
  what: string,
): Promise<T> => {
  if (signal?.aborted) throw new RegistryError('aborted', `${what}: aborted by the caller`);
  const controller = new AbortController();
  const onAbort = () =>
    controller.abort(new RegistryError('aborted', `${what}: aborted by the caller`));
  signal?.addEventListener('abort', onAbort, { once: true });
  conn.open.add(controller);
  try {
    const response = await send(conn, audit, {
      method: 'GET',
      path,
      query,
      accept: 'text/event-stream',
      signal: controller.signal,
    });
    for await (const message of sseMessages(response)) {
      if (message.event === 'result') return JSON.parse(message.data) as T;
      if (message.event === 'error') throw sseError(message.data, conn.baseUrl);
      if (message.event === 'end') break;
    }
    throw new RegistryError(
      'unavailable',
      `${what}: the service ended the wait (shutting down); retry`,
    );
  } catch (error) {
    // aborted by the caller or by close(): its reason (aborted / unavailable) is the outcome
    throw controller.signal.aborted ? controller.signal.reason : error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    conn.open.delete(controller);
    controller.abort();
  }
};

/**
 * An SSE stream as an Observable: subscribing opens the request, unsubscribing closes it
 * (and the service's subscription with it). `event` messages of the given name are parsed
 * and emitted; `error` fails the observable with the service's error; `end` completes it.
 */
export const followSse = <T>(
  conn: Connection,
  audit: AuditHeaders,
  path: string,
  query: Query,
  eventName: string,
  parse: (data: string) => T,
): Observable<T> =>
  new Observable<T>((subscriber) => {
    const controller = new AbortController();
    conn.open.add(controller);
    (async () => {
      const response = await send(conn, audit, {
        method: 'GET',
        path,
        query,
        accept: 'text/event-stream',
        signal: controller.signal,
      });
      for await (const message of sseMessages(response)) {
        if (message.event === eventName) subscriber.next(parse(message.data));
        else if (message.event === 'error') throw sseError(message.data, conn.baseUrl);
        else if (message.event === 'end') break;
      }
      subscriber.complete();
    })().catch((error: unknown) => {
      if (!controller.signal.aborted || conn.closed) subscriber.error(error);
    });
    return () => {
      conn.open.delete(controller);
      controller.abort();
    };
  });
