import { Observable } from 'rxjs';
import { RegistryError } from '../domain/errors.ts';
import { deepFreeze } from '../domain/freeze.ts';
import { type AuditHeaders, type Connection, send, sseError, sseMessages } from './remote-http.ts';

type Query = Record<string, string | number | undefined>;

/**
 * One waiter as an SSE request: the service answers with one `result` or `error` event.
 * The caller's signal (and `close()`) aborts the request; the closed connection aborts the
 * wait inside the service. Nothing is left behind once the promise settles.
 */
export const waitOverSse = <T>(
  conn: Connection,
  audit: AuditHeaders,
  path: string,
  query: Query,
  signal: AbortSignal | undefined,
  what: string,
): Promise<T> => {
  if (signal?.aborted) {
    return Promise.reject(new RegistryError('aborted', `${what}: aborted by the caller`));
  }
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    // the promise settles the moment the signal fires (like the in-process waiter); the
    // request is torn down behind it
    const stop = (reason: unknown) => {
      reject(reason);
      controller.abort(reason);
    };
    const onAbort = () => stop(new RegistryError('aborted', `${what}: aborted by the caller`));
    signal?.addEventListener('abort', onAbort, { once: true });
    conn.open.add(controller);
    const finish = () => {
      signal?.removeEventListener('abort', onAbort);
      conn.open.delete(controller);
      controller.abort();
    };
    (async () => {
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
    })().then(
      (value) => {
        finish();
        resolve(deepFreeze(value));
      },
      (error: unknown) => {
        // aborted by the caller or by close(): its reason (aborted / unavailable) is the outcome
        const reason = controller.signal.aborted ? controller.signal.reason : error;
        finish();
        reject(reason);
      },
    );
  });
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
        if (message.event === eventName) subscriber.next(deepFreeze(parse(message.data)));
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
