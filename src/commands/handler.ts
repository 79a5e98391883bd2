import { randomUUID } from 'node:crypto';
import type { OwnEvent } from '../domain/codec.ts';
import { RegistryError } from '../domain/errors.ts';
import { streamOf } from '../domain/events.ts';
import type { AuditContext } from '../domain/schemas.ts';
import { UnreadableEventError } from '../domain/unreadable.ts';
import {
  type AppendResult,
  type EventStore,
  type Position,
  type RefusalJournal,
  type StreamWrite,
  WrongExpectedRevisionError,
} from '../store/port.ts';
import type { ReadModelTables } from '../store/read-model-tables.ts';
import type { Decision, States } from './decision.ts';
import { metadataFor, ownEventsOf, writesFor } from './encode.ts';
import { type CommandNeeds, hydrate, type Lookups, shed } from './lookups.ts';
import { refusalOf } from './refusal.ts';
import { StateCache } from './state-cache.ts';
import { asRegistryError } from './store-errors.ts';
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
  /** where refusals are journaled (see refusal.ts); absent when the journal is off */
  journal?: RefusalJournal;
}

/**
 * Runs commands, one process stream at a time within this instance (StreamLocks), in
 * numbered steps:
 * 1. load the folded states (state-cache.ts; on the first attempt the cache alone, which
 *    only a successful append proves current);
 * 2. decide (a pure function; with lookups, the indexed facts it names go in first);
 * 3. encode the events with the command's metadata and deterministic ids (encode.ts);
 * 4. append with the expected revision the decision was made on, re-sending the same write
 *    after a lost reply;
 * 5. on a conflict with another instance, decide again on states read again, with jittered
 *    backoff, until the retry budget is spent (`concurrency`);
 * 6. remember the events in the cache and bring the read models up to the append.
 * A decision with no events writes nothing to the log. A refusal decided on states read
 * from the store (never on a trusted cache alone) goes to the journal of refused commands
 * before the caller hears of it.
 */
export class CommandHandler {
  private readonly locks = new StreamLocks();
  private readonly states: StateCache;
  private readonly retryBudgetMs: number;

  constructor(private readonly settings: HandlerSettings) {
    this.retryBudgetMs = settings.retryBudgetMs ?? 10_000;
    this.states = new StateCache({
      store: settings.store,
      cacheSize: settings.cacheSize ?? 20_000,
      snapshots: settings.snapshots,
      lookups: settings.lookups,
    });
  }

  /**
   * Forgets the folded states of processes whose streams were removed (retention), so a
   * re-registered id starts from nothing here. Only a shortcut: a stale state would fail
   * its expected revision, or be decided again from the store (see `execute`).
   */
  forget(processIds: readonly string[]): void {
    this.states.forget(processIds);
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
      // 1. load
      const cached = attempt === 0 ? this.states.cached(options.processIds) : undefined;
      const trusted = cached !== undefined;
      const states = cached ?? (await this.states.load(options.processIds));
      // 2. decide
      const now = this.settings.clock();
      let decision: Decision<R>;
      try {
        decision = decide(states, now);
      } catch (error) {
        if (trusted) continue;
        await this.journal(error, options, commandId, states, now);
        throw error;
      }
      if (decision.events.length === 0) {
        if (trusted) continue;
        if (decision.refused) await this.journal(decision.refused, options, commandId, states, now);
        return decision.result;
      }
      // 3. encode
      const metadata = metadataFor(options.command, options.audit, commandId, now);
      const writes = writesFor(decision.events, states, commandId, attempt, metadata);
      const forget = this.settings.announce?.(ownEventsOf(writes));
      // 4. append, retrying lost replies with the same write
      let results: AppendResult[];
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
        // 5. retry a conflict with another instance on states read again
        await sleep(Math.random() * Math.min(100, 2 ** attempt));
        continue;
      }
      // 6. remember and apply: fold into the cache, bring the read models up to the append
      this.states.remember(writes, results);
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
   * Journals a refusal (refusal.ts says which). The caller's answer is the refusal whatever
   * happens here: a journal that cannot be written loses the entry, never the answer.
   */
  private async journal(
    error: unknown,
    options: CommandOptions,
    commandId: string,
    states: States,
    now: number,
  ): Promise<void> {
    const { journal } = this.settings;
    const entry = journal && refusalOf(error, { ...options, commandId }, states, now);
    if (!entry) return;
    await journal.record([entry]).catch(() => {});
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
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
