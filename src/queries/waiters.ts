import { Observable, type Observer, type Subscriber, type Subscription } from 'rxjs';
import type { RecordedDomainEvent } from '../domain/codec.ts';
import { RegistryError, type RegistryErrorCode } from '../domain/errors.ts';
import type { ProcessAwaitOutput, ProcessEvent, WaitOptions } from '../domain/schemas.ts';
import type { EventDispatch, Sink } from '../projections/event-dispatch.ts';
import type { ReadModelReader } from '../store/read-model-tables.ts';
import { type Abortable, AbortGroups } from './abort-groups.ts';
import { DeadlineQueue, type Expiring } from './deadlines.ts';

/** The process event a domain event carries, if it carries one. */
const processEventOf = (recorded: RecordedDomainEvent): ProcessEvent | undefined =>
  recorded.event.type === 'ProcessEventAppended' ? recorded.event.data.event : undefined;

/**
 * A process's live events for one subscriber: after `last`, optionally of one type. While
 * the backlog is being emitted, live events are queued behind it (`goLive` releases them).
 */
class ProcessEventsSink implements Sink {
  private queue: ProcessEvent[] | undefined = [];
  constructor(
    private readonly subscriber: Subscriber<ProcessEvent>,
    private last: number,
    private readonly eventType: string | undefined,
  ) {}

  next(recorded: RecordedDomainEvent): void {
    const event = processEventOf(recorded);
    if (!event || event.sequence <= this.last) return;
    this.last = event.sequence;
    if (this.eventType !== undefined && event.eventType !== this.eventType) return;
    if (this.queue) this.queue.push(event);
    else this.subscriber.next(event);
  }

  complete(): void {
    this.subscriber.complete();
  }

  goLive(): void {
    const queued = this.queue ?? [];
    this.queue = undefined;
    for (const event of queued) {
      if (this.subscriber.closed) return;
      this.subscriber.next(event);
    }
  }
}

/**
 * A process's events after `afterSequence` (only `eventType` ones when given): first those
 * already applied, then live ones, each once and in order. The live subscription is made
 * before the backlog is read out and filters on the backlog's last sequence, so nothing
 * applied in between can be lost or repeated. Fed by the dispatcher: an event of another
 * process never reaches it.
 */
export const processEvents$ = (
  models: ReadModelReader,
  dispatch: EventDispatch,
  processId: string,
  afterSequence: number,
  eventType?: string,
): Observable<ProcessEvent> =>
  new Observable<ProcessEvent>((subscriber) => {
    const backlog = models.eventsAfter(processId, afterSequence);
    const last = backlog.at(-1)?.sequence ?? afterSequence;
    const sink = new ProcessEventsSink(subscriber, last, eventType);
    const handle = dispatch.subscribe(processId, sink);
    for (const event of backlog) {
      if (subscriber.closed) break;
      if (eventType === undefined || event.eventType === eventType) subscriber.next(event);
    }
    sink.goLive();
    return handle;
  });

/** Tells a subscriber the await output of the first terminal event it hears of. */
class OutcomeSink implements Sink {
  constructor(private readonly subscriber: Subscriber<ProcessAwaitOutput>) {}

  next(recorded: RecordedDomainEvent): void {
    const output = processEventOf(recorded)?.semantics.terminal?.awaitOutput;
    if (output !== undefined) this.subscriber.next(output);
  }

  complete(): void {
    this.subscriber.complete();
  }
}

/** The process's await output: at once when it is terminal, else when it becomes so. */
export const processOutcome$ = (
  models: ReadModelReader,
  dispatch: EventDispatch,
  processId: string,
): Observable<ProcessAwaitOutput> =>
  new Observable<ProcessAwaitOutput>((subscriber) => {
    const status = models.process(processId)?.status;
    if (status && status.state !== 'running') {
      subscriber.next(status.awaitOutput);
      subscriber.complete();
      return;
    }
    return dispatch.subscribe(processId, new OutcomeSink(subscriber));
  });

/**
 * What a registry's waiters share: one deadline queue (one native timer for all timeouts)
 * and one listener per AbortSignal, so a waiter that is only waiting holds no timer and no
 * native listener of its own.
 */
export class Waits {
  readonly deadlines = new DeadlineQueue();
  readonly aborts = new AbortGroups();
  /** waiters not yet settled */
  open = 0;

  get counts(): {
    openWaiters: number;
    timeouts: number;
    nativeTimers: number;
    abortSignals: number;
  } {
    const { timeouts, nativeTimers } = this.deadlines.counts;
    return { openWaiters: this.open, timeouts, nativeTimers, ...this.aborts.counts };
  }
}

/**
 * One pending `firstWithin`: the subscriber of its source, an entry in the deadline queue
 * and in its signal's abort group. Whichever settles it first (a value, the source ending,
 * the deadline, the signal) unhooks it from the other three, so nothing outlives it.
 */
class Waiter<T> implements Observer<T>, Expiring, Abortable {
  deadline = 0;
  queued = false;
  abortGroup: Abortable['abortGroup'] = undefined;
  abortPrev: Abortable | undefined = undefined;
  abortNext: Abortable | undefined = undefined;
  private subscription: Subscription | undefined = undefined;
  private settled = false;

  constructor(
    private readonly waits: Waits,
    private readonly what: string,
    private readonly timeoutMs: number | undefined,
    private readonly resolve: (value: T) => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  start(source$: Observable<T>, signal: AbortSignal | undefined): void {
    this.waits.open += 1;
    const subscription = source$.subscribe(this);
    // settled while subscribing (the value was already there): nothing else to hook up
    if (this.settled) {
      subscription.unsubscribe();
      return;
    }
    this.subscription = subscription;
    if (this.timeoutMs !== undefined) this.waits.deadlines.add(this, this.timeoutMs);
    if (signal) this.waits.aborts.add(this, signal);
  }

  next(value: T): void {
    if (this.settle()) this.resolve(value);
  }

  error(error: unknown): void {
    if (this.settle()) this.reject(error);
  }

  complete(): void {
    if (!this.settle()) return;
    this.reject(endError('unavailable', `${this.what}: the registry was closed while waiting`));
  }

  expire(): void {
    if (!this.settle()) return;
    this.reject(
      endError(
        'timeout',
        `${this.what}: nothing arrived within ${this.timeoutMs} ms; wait longer or check that the process is running`,
      ),
    );
  }

  abort(): void {
    if (this.settle()) this.reject(abortedError(this.what));
  }

  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.waits.open -= 1;
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.waits.deadlines.remove(this);
    this.waits.aborts.remove(this);
    return true;
  }
}

/**
 * The error that ends a waiter, without a stack trace: it could only show the timer, abort
 * dispatch or close that settled the waiter, never the caller's code, and capturing it was
 * most of the cost of aborting many waiters at once.
 */
const endError = (code: RegistryErrorCode, message: string): RegistryError => {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new RegistryError(code, message);
  } finally {
    Error.stackTraceLimit = limit;
  }
};

const abortedError = (what: string) => endError('aborted', `${what}: aborted by the caller`);

/**
 * Settles `resolve` / `reject` with the first value of `source$`, or with `aborted` /
 * `timeout` (or `unavailable` when the registry closes first). The timeout and the abort go
 * through `waits`' shared structures; whichever comes first settles the waiter and releases
 * everything it held.
 */
export const waitFirst = <T>(
  source$: Observable<T>,
  options: WaitOptions,
  what: string,
  waits: Waits,
  resolve: (value: T) => void,
  reject: (error: unknown) => void,
): void => {
  const signal = options?.signal;
  if (signal?.aborted) reject(abortedError(what));
  else new Waiter<T>(waits, what, options?.timeoutMs, resolve, reject).start(source$, signal);
};

/** `waitFirst` as a promise. */
export const firstWithin = <T>(
  source$: Observable<T>,
  options: WaitOptions,
  what: string,
  waits: Waits,
): Promise<T> =>
  new Promise<T>((resolve, reject) => waitFirst(source$, options, what, waits, resolve, reject));
