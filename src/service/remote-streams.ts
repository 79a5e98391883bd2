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

/** Reconnects after a stream drops, waiting 100 ms, 200 ms, … up to 5 s each (26 s in all). */
const RESUME_ATTEMPTS = 10;

/** The service said no (a typed error event, or a 4xx): resuming would only repeat it. */
class FinalError extends Error {
  constructor(readonly error: unknown) {
    super('final');
  }
}

const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * An SSE stream as an Observable: subscribing opens the request, unsubscribing closes it
 * (and the service's subscription with it). `event` messages of the given name are parsed
 * and emitted; an `error` event fails the observable with the service's error. With
 * `resume`, a dropped connection or a service shutting down (`end`) is reconnected, asking
 * for what follows the last message id received (`Last-Event-ID`), so each event is still
 * delivered once; after RESUME_ATTEMPTS failed reconnects it fails with `unavailable`.
 * Without `resume`, `end` completes the observable. Closing the registry completes it, as
 * closing an in-process registry completes its streams.
 */
export const followSse = <T>(
  conn: Connection,
  audit: AuditHeaders,
  path: string,
  query: Query,
  eventName: string,
  parse: (data: string) => T,
  resume = false,
): Observable<T> =>
  new Observable<T>((subscriber) => {
    const controller = new AbortController();
    conn.open.add(controller);
    let lastEventId: string | undefined;
    let received = 0;
    const once = async (): Promise<'ended' | 'dropped'> => {
      let response: Awaited<ReturnType<typeof send>>;
      try {
        response = await send(conn, audit, {
          method: 'GET',
          path,
          query: lastEventId === undefined ? query : { ...query, after: lastEventId },
          accept: 'text/event-stream',
          signal: controller.signal,
        });
      } catch (error) {
        // unreachable or shutting down (503) may pass; any other answer is final
        if (error instanceof RegistryError && error.code === 'unavailable') throw error;
        throw new FinalError(error);
      }
      try {
        for await (const message of sseMessages(response)) {
          if (message.event === eventName) {
            const value = deepFreeze(parse(message.data));
            lastEventId = message.id ?? lastEventId;
            received += 1;
            subscriber.next(value);
          } else if (message.event === 'error') {
            throw new FinalError(sseError(message.data, conn.baseUrl));
          } else if (message.event === 'end') return 'ended';
        }
      } catch (error) {
        if (error instanceof FinalError) throw error;
      }
      return 'dropped';
    };
    (async () => {
      for (let attempt = 0; ; ) {
        let outcome: 'ended' | 'dropped' | RegistryError;
        const before = received;
        try {
          outcome = await once();
        } catch (error) {
          if (error instanceof FinalError) throw error.error;
          outcome = error as RegistryError;
        }
        // a connection that delivered something starts the reconnect budget afresh
        if (received > before) attempt = 0;
        // closed with its registry (completed) or unsubscribed: either way nothing follows
        if (controller.signal.aborted) return;
        if (!resume) {
          if (outcome === 'ended') return subscriber.complete();
          throw outcome === 'dropped'
            ? new RegistryError('unavailable', `the stream from ${conn.baseUrl}${path} was cut`)
            : outcome;
        }
        attempt += 1;
        if (attempt > RESUME_ATTEMPTS) {
          throw new RegistryError(
            'unavailable',
            `the stream from the procreg service at ${conn.baseUrl} ended and ${RESUME_ATTEMPTS} reconnects failed; subscribe again later`,
          );
        }
        await pause(Math.min(5_000, 100 * 2 ** (attempt - 1)), controller.signal);
        // closed with its registry (completed) or unsubscribed: either way nothing follows
        if (controller.signal.aborted) return;
      }
    })().then(
      // a stream ends with its registry's close, as in process: it completes
      () => {
        if (conn.closed) subscriber.complete();
      },
      (error: unknown) => {
        if (conn.closed) subscriber.complete();
        else if (!controller.signal.aborted) subscriber.error(error);
      },
    );
    return () => {
      conn.open.delete(controller);
      controller.abort();
    };
  });
