import type { Observable } from 'rxjs';
import type { ImportProgress, LineSource } from './commands/import.ts';
import { importLines } from './commands/import.ts';
import type { RecordedDomainEvent } from './domain/codec.ts';
import { RegistryError } from './domain/errors.ts';
import {
  CursorSchema,
  changeCursor,
  DEFAULT_PAGE_LIMIT,
  PageLimitSchema,
  readChangeCursor,
} from './domain/process-list.ts';
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
import { exportLines } from './queries/export.ts';
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

/**
 * The ProcessRegistry facade. Where to look: the wiring (command runner, read models,
 * waiters' promise) is `registry/base.ts`; the write methods are `registry/commands.ts`;
 * the log per process and in time (history with refusals, asOf, changesBetween, replay,
 * extractCase) is `registry/history.ts`; the log digest and its check are
 * `registry/integrity.ts`; the read side is `ReadViews` (`queries/views.ts`, shared with
 * `asOf` views); this file adds the waiters, export/import and administration.
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
