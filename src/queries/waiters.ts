import {
  concat,
  defer,
  EmptyError,
  filter,
  firstValueFrom,
  from,
  fromEvent,
  map,
  type Observable,
  of,
  race,
  take,
  timer,
} from 'rxjs';
import type { RecordedDomainEvent } from '../domain/codec.ts';
import { RegistryError } from '../domain/errors.ts';
import type { ProcessAwaitOutput, ProcessEvent, WaitOptions } from '../domain/schemas.ts';
import type { ReadModelReader } from '../store/read-model-tables.ts';

const appendedTo =
  (processId: string) =>
  (source: Observable<RecordedDomainEvent>): Observable<ProcessEvent> =>
    source.pipe(
      map((recorded) => recorded.event),
      filter((event) => event.type === 'ProcessEventAppended'),
      map((event) => event.data.event),
      filter((event) => event.processId === processId),
    );

/**
 * A process's events after `afterSequence`: first those already applied, then live ones.
 * The backlog is read and the live feed subscribed in one synchronous step, and events are
 * applied only between awaits, so nothing can slip between the two and nothing is repeated.
 */
export const processEvents$ = (
  models: ReadModelReader,
  applied$: Observable<RecordedDomainEvent>,
  processId: string,
  afterSequence: number,
): Observable<ProcessEvent> =>
  defer(() => {
    const backlog = models.eventsAfter(processId, afterSequence);
    const last = backlog.at(-1)?.sequence ?? afterSequence;
    const live = applied$.pipe(
      appendedTo(processId),
      filter((event) => event.sequence > last),
    );
    return concat(from(backlog), live);
  });

/** The process's await output: at once when it is terminal, else when it becomes so. */
export const processOutcome$ = (
  models: ReadModelReader,
  applied$: Observable<RecordedDomainEvent>,
  processId: string,
): Observable<ProcessAwaitOutput> =>
  defer(() => {
    const status = models.process(processId)?.status;
    if (status && status.state !== 'running') return of(status.awaitOutput);
    return applied$.pipe(
      appendedTo(processId),
      map((event) => event.semantics.terminal?.awaitOutput),
      filter((output): output is ProcessAwaitOutput => output !== undefined),
    );
  });

/**
 * The first value of `source$`, or a rejection with `aborted` / `timeout`. Whichever comes
 * first wins and `race` unsubscribes the others, so no listener, timer or feed subscription
 * outlives the promise.
 */
export const firstWithin = <T>(
  source$: Observable<T>,
  options: WaitOptions,
  what: string,
): Promise<T> => {
  const signal = options?.signal;
  if (signal?.aborted) {
    return Promise.reject(new RegistryError('aborted', `${what}: aborted by the caller`));
  }
  const stops: Observable<never>[] = [];
  if (signal) {
    stops.push(
      fromEvent(signal, 'abort').pipe(
        map(() => {
          throw new RegistryError('aborted', `${what}: aborted by the caller`);
        }),
      ),
    );
  }
  const timeoutMs = options?.timeoutMs;
  if (timeoutMs !== undefined) {
    stops.push(
      timer(timeoutMs).pipe(
        map(() => {
          throw new RegistryError(
            'timeout',
            `${what}: nothing arrived within ${timeoutMs} ms; wait longer or check that the process is running`,
          );
        }),
      ),
    );
  }
  return firstValueFrom(race(source$.pipe(take(1)), ...stops)).catch((error: unknown) => {
    if (error instanceof EmptyError) {
      throw new RegistryError('unavailable', `${what}: the registry was closed while waiting`);
    }
    throw error;
  });
};
