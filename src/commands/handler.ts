import { randomUUID } from 'node:crypto';
import { encodeEvent, type OwnEvent, readStoredEvent } from '../domain/codec.ts';
import { RegistryError } from '../domain/errors.ts';
import {
  type DomainEvent,
  EVENT_VERSION,
  type EventMetadata,
  processIdOf,
  streamOf,
} from '../domain/events.ts';
import { deepFreeze } from '../domain/freeze.ts';
import {
  fold,
  foldRecorded,
  initialProcessState,
  type ProcessState,
} from '../domain/process-state.ts';
import type { AuditContext } from '../domain/schemas.ts';
import { UnreadableEventError } from '../domain/unreadable.ts';
import {
  type AppendResult,
  type EventStore,
  type Position,
  type StreamWrite,
  WrongExpectedRevisionError,
} from '../store/port.ts';
import type { ReadModelTables } from '../store/read-model-tables.ts';
import type { Decision, States } from './decision.ts';
import { eventIdFor } from './event-ids.ts';
import { type CommandNeeds, hydrate, type Lookups, shed } from './lookups.ts';
import { decodeState, encodeState, SNAPSHOT_EVERY } from './snapshot.ts';
import { StreamLocks } from './stream-locks.ts';

export interface CommandOptions {
  /** the public method name, recorded in every event's metadata */
  command: string;
  audit: AuditContext | undefined;
  /** every process whose stream the command reads or writes */
  processIds: readonly string[];
  /** what the command reads of its (first) process beyond the fold, see lookups.ts */
  needs?: CommandNeeds;
}

export interface HandlerSettings {
  store: EventStore;
  clock: () => number;
  /** brings the read models up to at least this position before the command returns */
  afterAppend: (position: Position) => Promise<void>;
  /** tells the read models which events are about to be appended (see ProjectionRunner) */
  announce?: (events: readonly OwnEvent[]) => () => void;
  /** how long to keep retrying optimistic-concurrency conflicts with other instances */
  retryBudgetMs?: number;
  /** true once the registry is closed: a failing append is then not retried */
  isClosed?: () => boolean;
  /** how many folded process states to keep (least recently used are dropped) */
  cacheSize?: number;
  /** where process-state snapshots persist (durable stores), see snapshot.ts */
  snapshots?: Pick<ReadModelTables, 'snapshot' | 'saveSnapshot'>;
  /** replay keys and wakes by index instead of in the state (durable stores), see lookups.ts */
  lookups?: Lookups;
}

/**
 * Runs commands: load (cached fold + only the newer events; on the first attempt the cache
 * alone) → decide → append with the expected revision it read → on a conflict with another instance, reload and decide again
 * with jittered backoff until the retry budget is spent (`concurrency`) → apply to the read
 * models → return. A decision with no events writes nothing.
 */
export class CommandHandler {
  private readonly locks = new StreamLocks();
  private readonly cache = new Map<string, ProcessState>();
  /** revision of the newest persisted snapshot of each cached process */
  private readonly snapshotAt = new Map<string, number>();
  private readonly retryBudgetMs: number;
  private readonly cacheSize: number;

  constructor(private readonly settings: HandlerSettings) {
    this.retryBudgetMs = settings.retryBudgetMs ?? 10_000;
    this.cacheSize = settings.cacheSize ?? 20_000;
  }

  execute<R>(
    options: CommandOptions,
    decide: (states: States, now: number) => Decision<R>,
  ): Promise<R> {
    const streams = options.processIds.map(streamOf);
    const { lookups } = this.settings;
    const [first] = options.processIds;
    if (!lookups || first === undefined) {
      return this.locks.runExclusive(streams, () => this.attempt(options, decide));
    }
    // the indexed facts go in just before each decision and out right after it
    const indexed = (states: States, now: number): Decision<R> => {
      const state = states.get(first);
      if (state && options.needs) hydrate(state, first, options.needs, lookups);
      try {
        return decide(states, now);
      } finally {
        for (const s of states.values()) if (s) shed(s);
      }
    };
    return this.locks.runExclusive(streams, () => this.attempt(options, indexed));
  }

  private async attempt<R>(
    options: CommandOptions,
    decide: (states: States, now: number) => Decision<R>,
  ): Promise<R> {
    const commandId = randomUUID();
    const startedAt = Date.now();
    for (let attempt = 0; ; attempt++) {
      // First attempt: decide on the cached states without reading the store. Only a
      // successful append proves them current (its expected revision matched), so any
      // other outcome of a trusted attempt (an error, a no-op, a conflict) is decided
      // again on states read from the store, at no cost to the retry budget.
      const cached = attempt === 0 ? this.cached(options.processIds) : undefined;
      const trusted = cached !== undefined;
      const states = cached ?? (await this.load(options.processIds));
      const now = this.settings.clock();
      let decision: Decision<R>;
      try {
        decision = decide(states, now);
      } catch (error) {
        if (trusted) continue;
        throw error;
      }
      if (decision.events.length === 0) {
        if (trusted) continue;
        return decision.result;
      }
      const metadata: EventMetadata = {
        eventVersion: EVENT_VERSION,
        command: options.command,
        commandId,
        recordedAtMs: now,
        actor: options.audit?.actor ?? null,
        correlationId: options.audit?.correlationId ?? null,
        causationId: options.audit?.causationId ?? null,
      };
      const writes = writesFor(decision.events, states, commandId, attempt, metadata);
      let results: AppendResult[];
      const forget = this.settings.announce?.(
        writes.flatMap((write) =>
          write.domainEvents.map((event, i) => ({
            // frozen: the same objects go to the read models and back to the caller
            event: deepFreeze(event),
            metadata,
            eventId: write.events[i]!.id,
          })),
        ),
      );
      try {
        results = await this.appendRetryingLostReplies(writes, options, startedAt);
      } catch (error) {
        forget?.();
        if (!(error instanceof WrongExpectedRevisionError)) throw asRegistryError(error);
        if (trusted) continue;
        if (Date.now() - startedAt > this.retryBudgetMs) {
          throw new RegistryError(
            'concurrency',
            `${options.command} on process \`${options.processIds.join('`, `')}\` kept conflicting with concurrent writers for ${this.retryBudgetMs} ms; retry later or reduce contention on this process`,
            { cause: error },
          );
        }
        await sleep(Math.random() * Math.min(100, 2 ** attempt));
        continue;
      }
      this.remember(writes, results);
      try {
        // writes are stored in order, so the last one has the highest position
        await this.settings.afterAppend(results.at(-1)!.position);
      } catch {
        // The write is durable: reporting it as failed would invite a retry that stores it
        // twice. The read models stay behind until the next catch-up, which every query
        // runs first, so this instance still reads its own writes or fails `unavailable`.
      } finally {
        forget?.();
      }
      return decision.result;
    }
  }

  /**
   * Appends, and after a failure that may have lost the reply (`unavailable`: the write may
   * or may not be stored) sends the very same write again (same event ids, same expected
   * revision) until the retry budget is spent. Every store answers an exact retry of a
   * stored write with the first result instead of storing it twice (store/port.ts), and one
   * that was not stored is stored now or meets a conflict; so no call stores an event twice.
   */
  private async appendRetryingLostReplies(
    writes: readonly StreamWrite[],
    options: CommandOptions,
    startedAt: number,
  ): Promise<AppendResult[]> {
    for (let retry = 0; ; retry++) {
      try {
        return await this.append(writes);
      } catch (error) {
        if (error instanceof WrongExpectedRevisionError) throw error;
        const failure = asRegistryError(error);
        if (
          failure.code !== 'unavailable' ||
          failure instanceof UnreadableEventError ||
          this.settings.isClosed?.() ||
          Date.now() - startedAt > this.retryBudgetMs
        ) {
          throw retry === 0
            ? failure
            : new RegistryError(
                'unavailable',
                `${options.command} on process \`${options.processIds.join('`, `')}\` could not reach the event store for ${this.retryBudgetMs} ms (the write may be stored; reading the process tells): ${failure.message}`,
                { cause: error },
              );
        }
        await sleep(Math.random() * Math.min(250, 5 * 2 ** retry));
      }
    }
  }

  /** The cached states of all these processes, or undefined when any is not cached. */
  private cached(processIds: readonly string[]): Map<string, ProcessState> | undefined {
    const states = new Map<string, ProcessState>();
    for (const processId of processIds) {
      const state = this.cache.get(processId);
      if (!state) return undefined;
      // touch: most recently used last
      this.cache.delete(processId);
      this.cache.set(processId, state);
      states.set(processId, state);
    }
    return states;
  }

  /**
   * Cached state of each process (else its persisted snapshot, else the initial state),
   * brought up to date with whatever was appended since.
   */
  private async load(processIds: readonly string[]): Promise<Map<string, ProcessState>> {
    const states = new Map<string, ProcessState>();
    for (const processId of processIds) {
      const state = this.cache.get(processId) ?? this.fromSnapshot(processId);
      this.cache.delete(processId);
      const newer = await this.settings.store
        .readStream(streamOf(processId), { fromRevision: state.revision + 1 })
        .catch((error: unknown) => {
          throw asRegistryError(error);
        });
      // frozen: decisions hand parts of the state (records, events) back to callers
      foldRecorded(
        state,
        newer.map((stored) => deepFreeze(readStoredEvent(stored))),
      );
      if (this.settings.lookups) shed(state);
      this.cache.set(processId, state);
      this.maybeSnapshot(processId, state);
      states.set(processId, state);
    }
    while (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
      this.snapshotAt.delete(oldest);
    }
    return states;
  }

  private fromSnapshot(processId: string): ProcessState {
    const snapshot = this.settings.snapshots?.snapshot(processId);
    const state = snapshot && decodeState(snapshot.state);
    if (!state) return initialProcessState();
    this.snapshotAt.set(processId, state.revision);
    return state;
  }

  /**
   * Persists the state once it is SNAPSHOT_EVERY revisions past the last snapshot. Best
   * effort: a snapshot is only a shortcut, so failing to write one fails nothing.
   */
  private maybeSnapshot(processId: string, state: ProcessState): void {
    const { snapshots } = this.settings;
    if (!snapshots || state.revision - (this.snapshotAt.get(processId) ?? -1) < SNAPSHOT_EVERY) {
      return;
    }
    this.snapshotAt.set(processId, state.revision);
    try {
      snapshots.saveSnapshot(processId, state.revision, encodeState(state));
    } catch {
      // the next fold past SNAPSHOT_EVERY tries again
    }
  }

  private append(writes: readonly StreamWrite[]): Promise<AppendResult[]> {
    const { store } = this.settings;
    const [only] = writes;
    if (writes.length === 1 && only) {
      return store
        .appendToStream(only.stream, only.events, { expectedRevision: only.expectedRevision })
        .then((result) => [result]);
    }
    return store.appendToStreams(writes);
  }

  /** Folds our own appended events into the cache, so the next command reads nothing. */
  private remember(writes: readonly ProcessWrite[], results: readonly AppendResult[]): void {
    writes.forEach((write, i) => {
      const state = this.cache.get(write.processId);
      const result = results[i];
      if (!state || !result) return;
      fold(state, write.domainEvents);
      state.revision = result.nextRevision;
      if (this.settings.lookups) shed(state);
      this.maybeSnapshot(write.processId, state);
    });
  }
}

interface ProcessWrite extends StreamWrite {
  processId: string;
  domainEvents: DomainEvent[];
}

/** One write per touched stream, expecting the revision the decision was made on. */
const writesFor = (
  events: readonly DomainEvent[],
  states: ReadonlyMap<string, ProcessState>,
  commandId: string,
  attempt: number,
  metadata: EventMetadata,
): ProcessWrite[] => {
  const byProcess = new Map<string, DomainEvent[]>();
  for (const event of events) {
    const processId = processIdOf(event);
    const list = byProcess.get(processId);
    if (list) list.push(event);
    else byProcess.set(processId, [event]);
  }
  return [...byProcess].map(([processId, domainEvents]) => {
    const revision = states.get(processId)?.revision ?? -1;
    const stream = streamOf(processId);
    return {
      processId,
      domainEvents,
      stream,
      expectedRevision: revision === -1 ? 'no_stream' : revision,
      events: domainEvents.map((event, index) =>
        encodeEvent(eventIdFor(commandId, attempt, stream, index), event, metadata),
      ),
    };
  });
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Store failures that are not ours become `unavailable`: the caller may retry. */
export const asRegistryError = (error: unknown): RegistryError =>
  error instanceof RegistryError
    ? error
    : new RegistryError(
        'unavailable',
        `the event store failed: ${(error as Error)?.message ?? String(error)}; check that the store is reachable and retry`,
        { cause: error },
      );
