import {
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  START as ESDB_START,
  type EventStoreDBClient,
  excludeSystemEvents,
  streamNameFilter,
} from '@eventstore/db-client';
import { Observable } from 'rxjs';
import { RegistryError } from '../domain/errors.ts';
import { isTransient, unavailable } from './eventstoredb-errors.ts';
import { decodePosition, encodePosition } from './eventstoredb-position.ts';
import { type Position, START, type StoredEvent } from './port.ts';

export interface ResubscribePolicy {
  /** consecutive failed (re)subscriptions before giving up; reset once the server confirms one */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

type RecordedAllEvent = NonNullable<AllStreamResolvedEvent['event']>;

export interface AllSubscriptionSource {
  client: EventStoreDBClient;
  host: string;
  policy: ResubscribePolicy;
  fromPosition: Position;
  streamPrefix?: string;
  /** turns a user event into the port's shape; throws for events the registry cannot read */
  toStored: (event: RecordedAllEvent) => StoredEvent;
  /** lets the store end the subscription on close(); returns the unregister function */
  onClose: (complete: () => void) => () => void;
}

/** System streams and event types (`$settings`, `$stats-…`, `$metadata`, links `$>` …). */
export const isSystemEvent = (event: { type: string; streamId: string }): boolean =>
  event.type.startsWith('$') || event.streamId.startsWith('$');

/**
 * `$all` catch-up then live, filtered server-side to the stream prefix, that survives
 * dropped connections. Invariants:
 * - `last` is the position of the last `$all` event this observable has seen (delivered or
 *   skipped); a resubscription starts strictly after it (ESDB subscriptions are exclusive of
 *   their start position), so nothing is lost, and anything at or before it is dropped, so
 *   nothing repeats even if a server replays its catch-up page;
 * - at most one server subscription is open at a time; a replaced one is cancelled and its
 *   late events are ignored;
 * - retries back off exponentially (with jitter) and stop after `maxAttempts` consecutive
 *   failures, erroring with `RegistryError('unavailable')`; permanent errors fail at once;
 * - unsubscribing or closing the store cancels the server call and the pending retry timer.
 */
export const resilientAllSubscription = (source: AllSubscriptionSource): Observable<StoredEvent> =>
  new Observable<StoredEvent>((subscriber) => {
    const { client, policy, streamPrefix } = source;
    let last = source.fromPosition;
    let current: AllStreamSubscription | undefined;
    let timer: NodeJS.Timeout | undefined;
    let failures = 0;
    let stopped = false;

    const release = (): void => {
      const subscription = current;
      current = undefined;
      // its listeners stay attached but ignore everything once it is no longer `current`
      // (the 'error' listener must stay: a cancelled call may still report an error)
      subscription?.unsubscribe().catch(() => {});
    };

    const fail = (error: unknown): void => {
      stopped = true;
      release();
      subscriber.error(error);
    };

    const retryOrFail = (error: unknown, transient: boolean): void => {
      release();
      if (stopped) return;
      failures += 1;
      if (!transient) {
        fail(unavailable(source.host, 'subscribing to $all', error));
        return;
      }
      if (failures > policy.maxAttempts) {
        fail(
          new RegistryError(
            'unavailable',
            `lost the $all subscription to EventStoreDB at ${source.host} and could not resubscribe after ${policy.maxAttempts} attempts (${
              error instanceof Error ? error.message : String(error)
            }); check that the server is up and reachable, then subscribe again from the last checkpoint`,
            { cause: error },
          ),
        );
        return;
      }
      const backoff = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (failures - 1));
      timer = setTimeout(
        () => {
          timer = undefined;
          start();
        },
        backoff * (0.8 + Math.random() * 0.4),
      );
    };

    const onEvent = (event: RecordedAllEvent): void => {
      const position = encodePosition(event.position);
      if (position <= last) return;
      last = position;
      if (isSystemEvent(event)) return;
      if (streamPrefix !== undefined && !event.streamId.startsWith(streamPrefix)) return;
      let stored: StoredEvent;
      try {
        stored = source.toStored(event);
      } catch (error) {
        fail(error);
        return;
      }
      subscriber.next(stored);
    };

    const start = (): void => {
      if (stopped) return;
      let subscription: AllStreamSubscription;
      try {
        subscription = client.subscribeToAll({
          fromPosition: last === START ? ESDB_START : decodePosition(last),
          filter:
            streamPrefix === undefined
              ? excludeSystemEvents()
              : streamNameFilter({ prefixes: [streamPrefix] }),
        });
      } catch (error) {
        retryOrFail(error, false);
        return;
      }
      current = subscription;
      subscription.on('confirmation', () => {
        failures = 0;
      });
      subscription.on('data', (resolved: AllStreamResolvedEvent) => {
        if (subscription === current && resolved.event) onEvent(resolved.event);
      });
      subscription.on('error', (error: Error) => {
        if (subscription === current) retryOrFail(error, isTransient(error));
      });
      // a subscription never ends by itself; an end means the server closed the call
      subscription.on('end', () => {
        if (subscription === current) {
          retryOrFail(new Error('the server ended the subscription'), true);
        }
      });
    };

    const unregister = source.onClose(() => {
      stopped = true;
      if (timer) clearTimeout(timer);
      release();
      subscriber.complete();
    });
    start();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      release();
      unregister();
    };
  });
