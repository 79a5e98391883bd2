import type { Observable } from 'rxjs';
import { z } from 'zod';
import type { ImportProgress, LineSource } from './commands/import.ts';
import { importLines } from './commands/import.ts';
import type { RecordedDomainEvent } from './domain/codec.ts';
import { isRegistryError, RegistryError } from './domain/errors.ts';
import { streamOf } from './domain/events.ts';
import {
  CursorSchema,
  changeCursor,
  DEFAULT_PAGE_LIMIT,
  PageLimitSchema,
  readChangeCursor,
} from './domain/process-list.ts';
import type { RefusedCommand } from './domain/refusal.ts';
import type { ReplayStep } from './domain/replay.ts';
import {
  type AuditContext,
  AuditContextSchema,
  IdSchema,
  type ProcessAwaitOutput,
  type ProcessEvent,
  type ProcessRecord,
  SequenceSchema,
  type WaitOptions,
} from './domain/schemas.ts';
import { parseInput } from './domain/validation.ts';
import type { ModelProgress } from './projections/runner.ts';
import { AsOfView } from './queries/as-of.ts';
import { type Changes, changesBetween } from './queries/changes.ts';
import { exportLines } from './queries/export.ts';
import {
  type HistoryOf,
  type HistoryOptions,
  HistoryOptionsSchema,
  historyOf,
  iterateHistoryOf,
} from './queries/history.ts';
import { caseOf, replayOf } from './queries/replay.ts';
import { type ProjectionDifference, verifyReadModels } from './queries/verify.ts';
import { processEvents$, processOutcome$ } from './queries/waiters.ts';
import { RegistryIntegrity } from './registry/integrity.ts';
import { type DurabilityTier, START } from './store/port.ts';

export type { RegistryCore } from './registry/base.ts';

/** A page of the change feed (see `processesChangedSince`). */
export interface ChangedProcesses {
  records: ProcessRecord[];
  nextCursor: string;
}

const AsOfPointSchema = z.union([
  z.strictObject({ timeMs: z.number().finite() }),
  z.strictObject({ position: z.union([z.bigint().nonnegative(), z.number().int().nonnegative()]) }),
]);

type PointInput = number | { timeMs: number } | { position: bigint | number };

/** `replay` and `extractCase`: up to a point (as `asOf` takes it), else the whole stream. */
const UntilOptionsSchema = z
  .strictObject({ until: z.union([z.number().finite(), AsOfPointSchema]).optional() })
  .optional();

/**
 * The ProcessRegistry facade. Where to look: the wiring (command runner, read models,
 * waiters' promise) is `registry/base.ts`; the write methods are `registry/commands.ts`;
 * the log digest and its check are `registry/integrity.ts`; the read side is `ReadViews` (`queries/views.ts`, shared with `asOf` views); this file
 * adds the waiters, the log (history, time, export/import) and administration.
 */
export class ProcessRegistry extends RegistryIntegrity {
  get durabilityTier(): DurabilityTier {
    return this.core.store.durabilityTier;
  }

  /** A view of this registry whose commands stamp `context` into every event's metadata. */
  withContext(context: AuditContext): ProcessRegistry {
    return new ProcessRegistry(this.core, parseInput(AuditContextSchema, context, 'audit context'));
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

  /**
   * The process's domain events, in order, with metadata, revision, position and time;
   * optionally only a time range (`fromMs`..`toMs`, inclusive) and some event types. With
   * `includeRefused`, the journal's refused commands too, each where it was decided.
   */
  async history<O extends HistoryOptions>(processId: string, options?: O): Promise<HistoryOf<O>[]> {
    // every argument is checked before the lookup: bad input is `invalid`, known process or not
    const opts = parseInput(HistoryOptionsSchema, options, 'history options');
    const id = await this.storedOrPruned(processId);
    const entries = await historyOf(
      this.core.store,
      streamOf(id),
      opts,
      await this.refusals(id, opts),
    );
    // refusals are read only with includeRefused: true, which is what HistoryOf says
    return entries as HistoryOf<O>[];
  }

  /** `history` as an async iterator, read page by page: for long histories. */
  async *iterateHistory<O extends HistoryOptions>(
    processId: string,
    options?: O,
  ): AsyncGenerator<HistoryOf<O>> {
    // every argument is checked before the lookup: bad input is `invalid`, known process or not
    const opts = parseInput(HistoryOptionsSchema, options, 'history options');
    const id = await this.storedOrPruned(processId);
    const refusals = await this.refusals(id, opts);
    for await (const entry of iterateHistoryOf(this.core.store, streamOf(id), opts, refusals)) {
      yield entry as HistoryOf<O>;
    }
  }

  /** The process's journaled refusals when asked for (none when the journal is off). */
  private async refusals(id: string, opts: HistoryOptions): Promise<RefusedCommand[]> {
    if (!opts?.includeRefused) return [];
    return (await this.core.store.journal?.read(id)) ?? [];
  }

  /** The id of a process the store holds; a pruned one's `not_found` names the prune. */
  private async storedOrPruned(processId: string): Promise<string> {
    try {
      return (await this.known(processId)).id;
    } catch (error) {
      if (!isRegistryError(error, 'not_found')) throw error;
      throw await this.unknownOrPruned(this.processId(processId));
    }
  }

  /**
   * A read-only view of the registry as it was at a point: a time (epoch ms on the registry
   * clock) or `{ position }` in the global log (as `history` entries report it).
   */
  asOf(at: PointInput): AsOfView {
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

  /**
   * The change feed: the processes whose record changed after `cursor` (registered, status,
   * external ref, a process event moving updatedAtMs), each once at its latest state, in
   * the order of their last change. `nextCursor` resumes after this page (the same cursor
   * when nothing changed); it is a global log position, stable across restarts. A process
   * that changes again after a page moves behind the cursor, so a follower sees it again.
   */
  async processesChangedSince(cursor?: string, limit?: number): Promise<ChangedProcesses> {
    const c = parseInput(CursorSchema.optional(), cursor, 'cursor');
    const n = parseInput(PageLimitSchema, limit ?? DEFAULT_PAGE_LIMIT, 'limit');
    const after = c === undefined ? START : readChangeCursor(c);
    const rows = (await this.models()).changedSince(after, n);
    return {
      records: rows.map((row) => row.record),
      nextCursor: changeCursor(rows.at(-1)?.position ?? after),
    };
  }

  /**
   * Replay debugging: the process's events up to a point (as `asOf` takes it; default all),
   * each with the command, actor and correlation id that wrote it and the folded state the
   * next command would decide on after it (status, last sequence, grants, lease and fencing
   * token, pending wakes).
   */
  async replay(processId: string, options?: { until?: PointInput }): Promise<ReplayStep[]> {
    const { id, upTo, where } = await this.upTo(processId, options);
    return replayOf(this.core.store, id, upTo, where);
  }

  /**
   * A self-contained case of one process: its events up to a point (default all) as export
   * lines, which `importEvents` loads into an empty store (a fresh `memory:` registry) to
   * answer as this registry's `asOf` that point does for the process.
   */
  async extractCase(processId: string, options?: { until?: PointInput }): Promise<string[]> {
    const { id, upTo, where } = await this.upTo(processId, options);
    return caseOf(this.core.store, id, upTo, where);
  }

  private async upTo(processId: string, options: { until?: PointInput } | undefined) {
    const id = this.processId(processId);
    const until = parseInput(UntilOptionsSchema, options, 'options')?.until;
    if (until === undefined) {
      this.ensureOpen();
      return { id, upTo: undefined, where: 'yet' };
    }
    const view = this.asOf(until);
    const upTo = await view.position();
    return { id, upTo, where: `as of position ${upTo}` };
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
