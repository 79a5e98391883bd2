/**
 * The waiter design before issue #15, rebuilt on the registry's global feed (`applied$`) for
 * same-run comparisons: every waiter subscribes to every applied event and filters it
 * itself, with an RxJS timer and `fromEvent` listener of its own (the old `firstWithin`).
 */
import { filter, firstValueFrom, fromEvent, map, type Observable, race, take, timer } from 'rxjs';
import type { ProcessAwaitOutput, ProcessRegistry } from '../../src/index.ts';

export const legacyAwaitProcess = (
  registry: ProcessRegistry,
  processId: string,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<ProcessAwaitOutput> => {
  const outcome$ = registry.applied$.pipe(
    map((recorded) => recorded.event),
    filter((event) => event.type === 'ProcessEventAppended'),
    map((event) => event.data.event),
    filter((event) => event.processId === processId),
    map((event) => event.semantics.terminal?.awaitOutput),
    filter((output): output is ProcessAwaitOutput => output !== undefined),
  );
  const stops: Observable<never>[] = [];
  if (options.signal) {
    stops.push(
      fromEvent(options.signal, 'abort').pipe(
        map(() => {
          throw new Error('aborted');
        }),
      ),
    );
  }
  if (options.timeoutMs !== undefined) {
    stops.push(
      timer(options.timeoutMs).pipe(
        map(() => {
          throw new Error('timeout');
        }),
      ),
    );
  }
  return firstValueFrom(race(outcome$.pipe(take(1)), ...stops));
};
