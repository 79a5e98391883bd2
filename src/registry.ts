import { randomUUID } from 'node:crypto';
import type { Observable } from 'rxjs';
import { z } from 'zod';
import { type AppendOutcome, decideAppend, decideAppendBatch } from './commands/append.ts';
import type { Decision, States } from './commands/decision.ts';
import { decideSetExternalRef } from './commands/external-ref.ts';
import {
  decideDeleteSessionAll,
  decideGrant,
  decideRevoke,
  decideTransfer,
} from './commands/grants.ts';
import type { CommandHandler } from './commands/handler.ts';
import { type ImportProgress, importLines, type LineSource } from './commands/import.ts';
import { decideClaim, decideReleaseLease, decideRenew } from './commands/leases.ts';
import type { CommandNeeds } from './commands/lookups.ts';
import { decideRegister } from './commands/register.ts';
import { completionRequest } from './commands/terminal.ts';
import { decideAckWake } from './commands/wakes.ts';
import type { RecordedDomainEvent } from './domain/codec.ts';
import { RegistryError } from './domain/errors.ts';
import { streamOf } from './domain/events.ts';
import { deepFreeze } from './domain/freeze.ts';
import { recordAfterEvent } from './domain/process-state.ts';
import {
  type AppendRequest,
  AppendRequestSchema,
  type AuditContext,
  AuditContextSchema,
  ExternalRefSchema,
  HandleDescriptorSchema,
  IdSchema,
  LeaseCompletionSchema,
  MAX_PAYLOAD_BYTES,
  type ProcessAwaitOutput,
  ProcessAwaitOutputSchema,
  type ProcessEvent,
  type ProcessHandleGrant,
  type ProcessLease,
  ProcessLeaseSchema,
  type ProcessRecord,
  type ProcessRegistration,
  ProcessRegistrationSchema,
  type Scope,
  ScopeSchema,
  SequenceSchema,
  type SessionDeleteReport,
  TtlSchema,
  type WaitOptions,
  WaitOptionsSchema,
} from './domain/schemas.ts';
import { parseInput } from './domain/validation.ts';
import type { ModelProgress, ProjectionRunner } from './projections/runner.ts';
import { AsOfView } from './queries/as-of.ts';
import { type Changes, changesBetween } from './queries/changes.ts';
import { exportLines } from './queries/export.ts';
import type { HandleGrantEntry } from './queries/grants.ts';
import {
  type HistoryEntry,
  type HistoryOptions,
  HistoryOptionsSchema,
  historyOf,
  iterateHistoryOf,
} from './queries/history.ts';
import { type ProjectionDifference, verifyReadModels } from './queries/verify.ts';
import { ReadViews } from './queries/views.ts';
import { processEvents$, processOutcome$, Waits, waitFirst } from './queries/waiters.ts';
import type { DurabilityTier, EventStore } from './store/port.ts';
import type { ReadModelReader, ReadModelTables } from './store/read-model-tables.ts';

/** The parts one registry instance shares between all its `withContext` views. */
export interface RegistryCore {
  store: EventStore;
  handler: CommandHandler;
  runner: ProjectionRunner;
  closed: boolean;
  /** releases what the registry opened beside the store (a read-models file) */
  release?: () => void;
  /** the waiters' shared timeout queue and abort listeners (made on first use) */
  waits?: Waits;
}

const ProcessIdsSchema = z.array(IdSchema).max(10_000);
const AsOfPointSchema = z.union([
  z.strictObject({ timeMs: z.number().finite() }),
  z.strictObject({ position: z.union([z.bigint().nonnegative(), z.number().int().nonnegative()]) }),
]);

/**
 * The ProcessRegistry facade: validates every input at the edge, runs commands through the
 * handler and answers queries from the read models (the read side is `ReadViews`, shared
 * with `asOf` views). The models are current before a query reads them: inline models are
 * committed with the events, so an instance sees what other instances wrote before the call.
 */
export class ProcessRegistry extends ReadViews {
  constructor(
    private readonly core: RegistryCore,
    private readonly audit?: AuditContext,
  ) {
    super();
  }

  get durabilityTier(): DurabilityTier {
    return this.core.store.durabilityTier;
  }

  /** A view of this registry whose commands stamp `context` into every event's metadata. */
  withContext(context: AuditContext): ProcessRegistry {
    return new ProcessRegistry(this.core, parseInput(AuditContextSchema, context, 'audit context'));
  }

  async registerProcess(registration: ProcessRegistration): Promise<ProcessRecord> {
    const parsed = parseInput(ProcessRegistrationSchema, registration, 'process registration');
    return this.command('registerProcess', [parsed.id], (states, now) =>
      decideRegister(states.get(parsed.id)!, { registration: parsed, now }),
    );
  }

  async setExternalRef(
    processId: string,
    externalRef: z.input<typeof ExternalRefSchema>,
  ): Promise<ProcessRecord> {
    const id = this.processId(processId);
    const ref = parseInput(ExternalRefSchema, externalRef, 'external ref');
    return this.command('setExternalRef', [id], (states, now) =>
      decideSetExternalRef(states.get(id), { processId: id, externalRef: ref, now }),
    );
  }

  async grantHandle(
    scope: Scope,
    processId: string,
    descriptor: z.input<typeof HandleDescriptorSchema> = {},
  ): Promise<ProcessHandleGrant> {
    const s = this.scope(scope);
    const id = this.processId(processId);
    const d = parseInput(HandleDescriptorSchema, descriptor, 'handle descriptor');
    return this.command('grantHandle', [id], (states, now) =>
      decideGrant(states.get(id), { scope: s, processId: id, descriptor: d, now }),
    );
  }

  async revokeHandle(scope: Scope, processId: string): Promise<void> {
    const s = this.scope(scope);
    const id = this.processId(processId);
    return this.command('revokeHandle', [id], (states, now) =>
      decideRevoke(states.get(id), { scope: s, processId: id, now }),
    );
  }

  async transferHandleGrants(from: Scope, to: Scope, processIds: string[]): Promise<void> {
    const f = this.scope(from, 'from scope');
    const t = this.scope(to, 'to scope');
    const ids = parseInput(ProcessIdsSchema, processIds, 'process ids');
    return this.command('transferHandleGrants', ids, (states, now) =>
      decideTransfer(states, { from: f, to: t, processIds: ids, now }),
    );
  }

  async listLiveHandleGrants(scope: Scope): Promise<HandleGrantEntry[]> {
    return (await this.listHandleGrants(scope)).filter((e) => e.record.status.state === 'running');
  }

  /**
   * Revokes every grant of the session (all frames) and reports which live processes lost
   * their last grant. Processes are found through the grants' by-session index and each
   * stream is re-checked under the command's locks; a grant of the session committed to another
   * stream after the processes were chosen (by another instance, before our append) is
   * found by catching up again afterwards and revoked in a further round, until a catch-up
   * finds none. A grant committed after that last catch-up is later than the deletion.
   */
  async deleteSessionProcessState(sessionId: string): Promise<SessionDeleteReport> {
    const sid = parseInput(IdSchema, sessionId, 'session id');
    let revokedHandleCount = 0;
    const outcome = new Map<string, 'cancel' | 'preserve'>();
    for (let round = 0; round < MAX_SESSION_DELETE_ROUNDS; round++) {
      let ids: string[];
      if (round === 0) ids = (await this.models()).processesOfSession(sid);
      else {
        // a re-check that cannot read must not turn the revocations already stored into
        // a failed call (a retry would report them as not revoked)
        const found = await this.models().then(
          (models) => models.processesOfSession(sid),
          () => undefined,
        );
        if (found === undefined || found.length === 0) break;
        ids = found;
      }
      const report = await this.command('deleteSessionProcessState', ids, (states, now) =>
        decideDeleteSessionAll(states, { sessionId: sid, now }),
      );
      revokedHandleCount += report.revokedHandleCount;
      for (const id of report.cancelProcessIds) outcome.set(id, 'cancel');
      for (const id of report.preservedProcessIds) outcome.set(id, 'preserve');
      if (ids.length === 0) break;
    }
    const ids = (kind: 'cancel' | 'preserve') =>
      [...outcome]
        .filter(([, k]) => k === kind)
        .map(([id]) => id)
        .sort();
    return {
      sessionId: sid,
      revokedHandleCount,
      deletedWakeCount: 0,
      cancelProcessIds: ids('cancel'),
      preservedProcessIds: ids('preserve'),
    };
  }

  async appendEvent(processId: string, request: AppendRequest): Promise<AppendOutcome> {
    const id = this.processId(processId);
    const r = parseInput(AppendRequestSchema, request, 'append request');
    checkPayloadSize(id, r.payload);
    return this.command(
      'appendEvent',
      [id],
      (states, now) => decideAppend(states.get(id), { processId: id, request: r, now }),
      { replayKeys: r.replayKey === undefined ? [] : [r.replayKey] },
    );
  }

  /**
   * Appends several process events to one process in one write: each request is decided as
   * `appendEvent` would, in order, and either all are stored (consecutive sequences) or,
   * when any breaks a rule, none. Replayed requests return their original events.
   */
  async appendEvents(processId: string, requests: AppendRequest[]): Promise<AppendOutcome[]> {
    const id = this.processId(processId);
    const batch = parseInput(AppendBatchSchema, requests, 'append requests');
    let bytes = 0;
    for (const request of batch) bytes += checkPayloadSize(id, request.payload);
    if (bytes > MAX_BATCH_BYTES) {
      throw new RegistryError(
        'invalid',
        `append batch for process \`${id}\` carries ${bytes} bytes of payload, over the ${MAX_BATCH_BYTES}-byte limit; split it`,
      );
    }
    if (batch.length === 0) return [];
    return this.command(
      'appendEvents',
      [id],
      (states, now) => decideAppendBatch(states.get(id), { processId: id, requests: batch, now }),
      { replayKeys: batch.flatMap((request) => request.replayKey ?? []) },
    );
  }

  /** The first event of `eventType` after `afterSequence`: at once if stored, else when it arrives. */
  waitEventAfter(
    processId: string,
    eventType: string,
    afterSequence: number,
    options?: WaitOptions,
  ): Promise<ProcessEvent> {
    // inputs are checked before the process is looked up, as everywhere else
    return this.waitFor(processId, options, () => {
      const type = parseInput(IdSchema, eventType, 'event type');
      const after = parseInput(SequenceSchema, afterSequence, 'afterSequence');
      return (id, models, dispatch) => [
        processEvents$(models, dispatch, id, after, type),
        `waiting for \`${type}\` on process \`${id}\``,
      ];
    });
  }

  /** The process's await output: at once if terminal, else when it ends. */
  awaitProcess(processId: string, options?: WaitOptions): Promise<ProcessAwaitOutput> {
    return this.waitFor(processId, options, () => (id, models, dispatch) => [
      processOutcome$(models, dispatch, id),
      `awaiting process \`${id}\``,
    ]);
  }

  /** Catch-up then live: the process's events after `afterSequence`, as they are applied. */
  events$(processId: string, afterSequence = 0): Observable<ProcessEvent> {
    const id = this.processId(processId);
    const after = parseInput(SequenceSchema, afterSequence, 'afterSequence');
    return processEvents$(this.core.runner.tables, this.core.runner.dispatch, id, after);
  }

  /**
   * Every domain event as it is applied to this instance's read models. Each subscriber is
   * told of every event of every process: for monitoring and service-wide feeds; a feed of
   * one process is `events$`, which hears only that process's events.
   */
  get applied$(): Observable<RecordedDomainEvent> {
    return this.core.runner.applied$;
  }

  async completeProcess(
    processId: string,
    awaitOutput: ProcessAwaitOutput,
  ): Promise<ProcessRecord> {
    const id = this.processId(processId);
    const output = parseInput(ProcessAwaitOutputSchema, awaitOutput, 'await output');
    const request = completionRequest(id, output);
    // The record comes from the command's own state, not from the read models: once the
    // terminal event is stored the call succeeds even if the models cannot catch up now.
    // A replay writes nothing and is decided on the stream as stored, so its record is the
    // terminal one whoever wrote it.
    return this.command(
      'completeProcess',
      [id],
      (states, now) => {
        const state = states.get(id);
        const decision = decideAppend(state, { processId: id, request, now });
        const record = state!.record!;
        return {
          events: decision.events,
          result: deepFreeze(
            decision.events.length > 0 ? recordAfterEvent(record, decision.result.event) : record,
          ),
        };
      },
      { replayKeys: request.replayKey === undefined ? [] : [request.replayKey] },
    );
  }

  async ackWake(processId: string, sequence: number): Promise<void> {
    const id = this.processId(processId);
    const seq = parseInput(SequenceSchema, sequence, 'sequence');
    return this.command(
      'ackWake',
      [id],
      (states, now) => decideAckWake(states.get(id), { processId: id, sequence: seq, now }),
      { wakes: [seq] },
    );
  }

  async claimProcessLease(
    processId: string,
    ownerId: string,
    ttlMs: number,
  ): Promise<ProcessLease> {
    const id = this.processId(processId);
    const owner = parseInput(IdSchema, ownerId, 'owner id');
    const ttl = parseInput(TtlSchema, ttlMs, 'lease ttl');
    // Unguessable: only the holder can renew or release.
    const leaseToken = randomUUID();
    return this.command('claimProcessLease', [id], (states, now) =>
      decideClaim(states.get(id), { processId: id, ownerId: owner, ttlMs: ttl, now, leaseToken }),
    );
  }

  async renewProcessLease(lease: ProcessLease, ttlMs: number): Promise<ProcessLease> {
    const l = parseInput(ProcessLeaseSchema, lease, 'lease');
    const ttl = parseInput(TtlSchema, ttlMs, 'lease ttl');
    return this.command('renewProcessLease', [l.processId], (states, now) =>
      decideRenew(states.get(l.processId), { lease: l, ttlMs: ttl, now }),
    );
  }

  async completeProcessLease(completion: { processId: string; leaseToken: string }): Promise<void> {
    const c = parseInput(LeaseCompletionSchema, completion, 'lease completion');
    return this.command('completeProcessLease', [c.processId], (states, now) =>
      decideReleaseLease(states.get(c.processId), { completion: c, now }),
    );
  }

  /**
   * The process's domain events, in order, with metadata, revision, position and time;
   * optionally only a time range (`fromMs`..`toMs`, inclusive) and some event types.
   */
  async history(processId: string, options?: HistoryOptions): Promise<HistoryEntry[]> {
    // every argument is checked before the lookup: bad input is `invalid`, known process or not
    const opts = parseInput(HistoryOptionsSchema, options, 'history options');
    const { id } = await this.known(processId);
    return historyOf(this.core.store, streamOf(id), opts);
  }

  /** `history` as an async iterator, read page by page: for long histories. */
  async *iterateHistory(processId: string, options?: HistoryOptions): AsyncGenerator<HistoryEntry> {
    // every argument is checked before the lookup: bad input is `invalid`, known process or not
    const opts = parseInput(HistoryOptionsSchema, options, 'history options');
    const { id } = await this.known(processId);
    yield* iterateHistoryOf(this.core.store, streamOf(id), opts);
  }

  /**
   * A read-only view of the registry as it was at a point: a time (epoch ms on the registry
   * clock) or `{ position }` in the global log (as `history` entries report it).
   */
  asOf(at: number | { timeMs: number } | { position: bigint | number }): AsOfView {
    this.ensureOpen();
    const point = parseInput(
      AsOfPointSchema,
      typeof at === 'number' ? { timeMs: at } : at,
      'asOf point',
    );
    return new AsOfView(
      this.core.store,
      this.core.runner.reader,
      () => this.models(),
      'position' in point ? { position: BigInt(point.position) } : point,
    );
  }

  /**
   * What changed between two points (times on the registry clock or `{ position }`s), per
   * process: registrations, terminal outcomes, grants added/removed/transferred, leases
   * claimed/renewed/released/expired, wakes acked, events appended. Reads the window only.
   */
  async changesBetween(
    from: number | { timeMs: number } | { position: bigint | number },
    to: number | { timeMs: number } | { position: bigint | number },
  ): Promise<Changes> {
    const start = this.asOf(from);
    const end = this.asOf(to);
    const [fromPosition, toPosition] = [await start.position(), await end.position()];
    if (toPosition < fromPosition) {
      throw new RegistryError(
        'invalid',
        `changesBetween: \`to\` (position ${toPosition}) is before \`from\` (position ${fromPosition}); swap them`,
      );
    }
    return changesBetween(
      this.core.store,
      this.core.runner.reader,
      {
        from: fromPosition,
        to: toPosition,
        ...('timeMs' in start.point ? { fromMs: start.point.timeMs } : {}),
        ...('timeMs' in end.point ? { toMs: end.point.timeMs } : {}),
      },
      await start.leases(),
    );
  }

  /** The whole log as NDJSON lines, in log order (see `importEvents`). */
  async *exportEvents(): AsyncGenerator<string> {
    this.ensureOpen();
    yield* exportLines(this.core.store);
  }

  /**
   * Imports an export into this registry's store, which must hold no procreg events. Every
   * line is checked before anything is written; `source` is called twice (check, write).
   */
  async importEvents(
    source: LineSource,
    onProgress?: (progress: ImportProgress) => void,
  ): Promise<{ imported: number }> {
    this.ensureOpen();
    if (typeof source !== 'function') {
      throw new RegistryError(
        'invalid',
        'importEvents takes a function returning the lines (it reads them twice)',
      );
    }
    const result = await importLines(this.core.store, source, onProgress);
    await this.models();
    return result;
  }

  /**
   * Rebuilds every read model from the log in a scratch space and returns where it differs
   * from the live models: empty when the projections are healthy.
   */
  async verifyProjections(
    onProgress?: (progress: { events: number; position: bigint; upTo: bigint }) => void,
  ): Promise<ProjectionDifference[]> {
    await this.models();
    const { runner, store } = this.core;
    return verifyReadModels(store, runner.reader, runner.tables, onProgress);
  }

  /**
   * Empties the read models and rebuilds them from the log, in committed chunks on durable
   * stores: a crash mid-way resumes from the last chunk at the next open or rebuild.
   */
  async rebuildProjections(onProgress?: (progress: ModelProgress) => void): Promise<void> {
    this.ensureOpen();
    await this.core.runner.rebuild(onProgress);
  }

  /**
   * Live-feed subscribers (waiters, events$ and applied$ consumers) and what pending waiters
   * hold: for leak checks and monitoring. `feedSubscribers` = per-process listeners + global
   * ones; `nativeTimers` is 0 or 1 (one timer serves every waiter's timeout).
   */
  diagnostics(): RegistryDiagnostics {
    const { runner } = this.core;
    const feeds = runner.dispatch.counts;
    return {
      feedSubscribers: feeds.processListeners + feeds.globalListeners,
      ...feeds,
      ...(this.core.waits?.counts ?? {
        openWaiters: 0,
        timeouts: 0,
        nativeTimers: 0,
        abortSignals: 0,
      }),
      position: runner.position,
      ...(runner.liveFeedError ? { liveFeedError: runner.liveFeedError.message } : {}),
    };
  }

  async close(): Promise<void> {
    if (this.core.closed) return;
    this.core.closed = true;
    this.core.runner.stop();
    await this.core.store.close();
    this.core.release?.();
  }

  private command<R>(
    command: string,
    processIds: readonly string[],
    decide: (states: States, now: number) => Decision<R>,
    needs?: CommandNeeds,
  ): Promise<R> {
    this.ensureOpen();
    return this.core.handler.execute(
      { command, audit: this.audit, processIds, ...(needs ? { needs } : {}) },
      decide,
    );
  }

  /** The read models, current with the store (see the class comment). */
  protected override async models(_processId?: string): Promise<ReadModelTables> {
    this.ensureOpen();
    await this.core.runner.ensureModels();
    return this.core.runner.tables;
  }

  protected override globalModels(): Promise<ReadModelTables> {
    return this.models();
  }

  protected override unknownProcess(processId: string): RegistryError {
    return new RegistryError(
      'not_found',
      `unknown process \`${processId}\`; register it first (registerProcess)`,
    );
  }

  /**
   * A waiter's one promise: the process must be known (after catching up), then the first
   * value of the source wins against the timeout and the signal. Built as a single promise
   * rather than an async method returning one, which would hold a second promise and its
   * link for as long as the waiter waits.
   */
  private waitFor<T>(
    processId: string,
    options: WaitOptions | undefined,
    /** checks the caller's other inputs, then returns what to wait on and how to name it */
    prepare: () => (
      id: string,
      models: ReadModelReader,
      dispatch: ProjectionRunner['dispatch'],
    ) => readonly [Observable<T>, string],
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const source = prepare();
      const opts = parseInput(WaitOptionsSchema, options, 'wait options');
      this.known(processId)
        .then(({ id, models }) => {
          const [source$, what] = source(id, models, this.core.runner.dispatch);
          waitFirst(source$, opts, what, this.waits, resolve, reject);
        })
        .catch(reject);
    });
  }

  private get waits(): Waits {
    this.core.waits ??= new Waits();
    return this.core.waits;
  }

  private processId(processId: string): string {
    return parseInput(IdSchema, processId, 'process id');
  }

  private scope(scope: Scope, what = 'scope'): Scope {
    return parseInput(ScopeSchema, scope, what);
  }

  private ensureOpen(): void {
    if (this.core.closed) {
      throw new RegistryError(
        'unavailable',
        'the registry is closed; open a new one (openRegistry)',
      );
    }
  }
}

export interface RegistryDiagnostics {
  /** every live-feed subscription: processListeners + globalListeners */
  feedSubscribers: number;
  /** subscriptions to one process's events (waiters, events$) */
  processListeners: number;
  /** subscriptions to every event (applied$) */
  globalListeners: number;
  /** processes with at least one listener */
  processes: number;
  /** awaitProcess / waitEventAfter calls not yet settled */
  openWaiters: number;
  /** pending waiter timeouts, all served by at most one native timer */
  timeouts: number;
  nativeTimers: number;
  /** distinct AbortSignals waiters listen to (one native listener each) */
  abortSignals: number;
  position: bigint;
  liveFeedError?: string;
}

/** The payload's size in bytes of JSON; over the limit is `invalid`. */
const checkPayloadSize = (processId: string, payload: unknown): number => {
  const bytes = Buffer.byteLength(JSON.stringify(payload));
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw new RegistryError(
      'invalid',
      `payload for process \`${processId}\` is ${bytes} bytes, over the ${MAX_PAYLOAD_BYTES}-byte limit; store large data elsewhere and append a reference`,
    );
  }
  return bytes;
};

/** Rounds of session deletion before the grants still appearing count as later than it. */
const MAX_SESSION_DELETE_ROUNDS = 10;

/** One batch is one write: at most this many events and bytes of payload. */
const MAX_BATCH_EVENTS = 1_000;
const MAX_BATCH_BYTES = 4 * MAX_PAYLOAD_BYTES;
const AppendBatchSchema = z.array(AppendRequestSchema).max(MAX_BATCH_EVENTS);
