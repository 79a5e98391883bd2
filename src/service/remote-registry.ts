/*
 * Over 300 lines: every write and administrative method of ProcessRegistry over HTTP, one
 * short method each (parse the input with the registry's own schemas, send one request).
 * The reads are in remote-reads.ts, the log in remote-log.ts, streams in remote-streams.ts,
 * replay in remote-replay.ts.
 */
import type { Observable } from 'rxjs';
import { z } from 'zod';
import type { AppendOutcome } from '../commands/append.ts';
import type { ImportProgress, LineSource } from '../commands/import.ts';
import type { RecordedDomainEvent } from '../domain/codec.ts';
import { RegistryError } from '../domain/errors.ts';
import { deepFreeze as frozen } from '../domain/freeze.ts';
import type { LogDigest } from '../domain/integrity.ts';
import {
  type IntegrityProgress,
  type IntegrityReport,
  type VerifyIntegrityOptions,
  VerifyIntegrityOptionsSchema,
} from '../domain/integrity-report.ts';
import { CursorSchema, PageLimitSchema } from '../domain/process-list.ts';
import type { ReplayStep } from '../domain/replay.ts';
import {
  type PrunedSince,
  type PruneOptions,
  PruneOptionsSchema,
  type PruneProgress,
  type PruneResult,
} from '../domain/retention.ts';
import {
  AppendBatchSchema,
  type AppendRequest,
  AppendRequestSchema,
  type AuditContext,
  AuditContextSchema,
  ExternalRefSchema,
  HandleDescriptorSchema,
  IdSchema,
  LeaseCompletionSchema,
  type LeaseReclaim,
  LeaseReclaimSchema,
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
} from '../domain/schemas.ts';
import { parseInput } from '../domain/validation.ts';
import type { ModelProgress } from '../projections/runner.ts';
import type { Changes } from '../queries/changes.ts';
import { type HistoryOf, type HistoryOptions, HistoryOptionsSchema } from '../queries/history.ts';
import type { ProjectionDifference } from '../queries/verify.ts';
import type { ChangedProcesses, ProcessRegistry, RegistryDiagnostics } from '../registry.ts';

type IntegrityWireProgress = Omit<IntegrityProgress, 'position' | 'head'> & {
  position: string;
  head: string;
};
interface IntegrityWireReport {
  ok: boolean;
  checked: number;
  problems: (Omit<IntegrityReport['problems'][number], 'position'> & { position: string })[];
  unchained: { events: number; through: string | null };
  digest: { digest: string; position: string };
}

import type { DurabilityTier } from '../store/port.ts';
import { type Connection, encodePath } from './remote-http.ts';
import {
  exportOver,
  historyOver,
  iterateHistoryOver,
  withPosition,
  withProgress,
} from './remote-log.ts';
import { RemoteAsOfView, RemoteReads } from './remote-reads.ts';
import { caseOver, replayOver } from './remote-replay.ts';
import { followSse, waitOverSse } from './remote-streams.ts';

/** The public surface of `ProcessRegistry` (its methods and properties, not its internals). */
export type RegistrySurface = Omit<
  { [K in keyof ProcessRegistry]: ProcessRegistry[K] },
  'asOf' | 'withContext'
> & {
  asOf(at: AsOfPointInput): RemoteAsOfView;
  withContext(context: AuditContext): RegistrySurface;
};

const ProcessIdsSchema = z.array(IdSchema).max(10_000);
const AsOfPointSchema = z.union([
  z.strictObject({ timeMs: z.number().finite() }),
  z.strictObject({ position: z.union([z.bigint().nonnegative(), z.number().int().nonnegative()]) }),
]);
type AsOfPointInput = number | { timeMs: number } | { position: bigint | number };
const UntilOptionsSchema = z
  .strictObject({ until: z.union([z.number().finite(), AsOfPointSchema]).optional() })
  .optional();

/** A point as the service's `asOf`/`from`/`to` parameter, validated like `asOf(point)`. */
const pointParam = (at: AsOfPointInput): string => {
  const point = parseInput(
    AsOfPointSchema,
    typeof at === 'number' ? { timeMs: at } : at,
    'asOf point',
  );
  return 'position' in point ? `pos:${BigInt(point.position)}` : String(point.timeMs);
};

/**
 * A `ProcessRegistry` backed by a procreg service (`openRegistry('http://host:7411', { token })`).
 * Arguments are validated here with the registry's own schemas (so bad input fails the same
 * way and is never sent), then the service runs the same registry. Waiters and streams are
 * SSE requests: aborting a signal, unsubscribing or `close()` closes the connection, which
 * aborts the wait inside the service too. Timestamps come from the service's clock; the
 * audit actor comes from the token (`withContext` actors count only on an open service).
 */
export class RemoteRegistry extends RemoteReads implements RegistrySurface {
  constructor(
    conn: Connection,
    readonly durabilityTier: DurabilityTier,
    audit: AuditContext = {},
  ) {
    super(conn, audit);
  }

  async processesChangedSince(cursor?: string, limit?: number): Promise<ChangedProcesses> {
    const c = parseInput(CursorSchema.optional(), cursor, 'cursor');
    const n = parseInput(PageLimitSchema.optional(), limit, 'limit');
    return this.json('GET', '/process-changes', undefined, { cursor: c, limit: n });
  }

  withContext(context: AuditContext): RemoteRegistry {
    const audit = parseInput(AuditContextSchema, context, 'audit context');
    return new RemoteRegistry(this.conn, this.durabilityTier, audit);
  }

  async registerProcess(registration: ProcessRegistration): Promise<ProcessRecord> {
    const r = parseInput(ProcessRegistrationSchema, registration, 'process registration');
    return this.json('POST', '/processes', r);
  }

  async setExternalRef(
    processId: string,
    externalRef: z.input<typeof ExternalRefSchema>,
  ): Promise<ProcessRecord> {
    const id = this.id(processId);
    const ref = parseInput(ExternalRefSchema, externalRef, 'external ref');
    return this.json('PUT', `/processes/${encodePath(id)}/external-ref`, ref);
  }

  async grantHandle(
    scope: Scope,
    processId: string,
    descriptor: z.input<typeof HandleDescriptorSchema> = {},
  ): Promise<ProcessHandleGrant> {
    const s = parseInput(ScopeSchema, scope, 'scope');
    const id = this.id(processId);
    const d = parseInput(HandleDescriptorSchema, descriptor, 'handle descriptor');
    return this.json('PUT', '/grants', { scope: s, processId: id, descriptor: d });
  }

  async revokeHandle(scope: Scope, processId: string): Promise<void> {
    const s = parseInput(ScopeSchema, scope, 'scope');
    return this.json('POST', '/grants/revoke', { scope: s, processId: this.id(processId) });
  }

  async transferHandleGrants(from: Scope, to: Scope, processIds: string[]): Promise<void> {
    const f = parseInput(ScopeSchema, from, 'from scope');
    const t = parseInput(ScopeSchema, to, 'to scope');
    const ids = parseInput(ProcessIdsSchema, processIds, 'process ids');
    return this.json('POST', '/grants/transfer', { from: f, to: t, processIds: ids });
  }

  async deleteSessionProcessState(sessionId: string): Promise<SessionDeleteReport> {
    const sid = parseInput(IdSchema, sessionId, 'session id');
    return this.json('DELETE', `/sessions/${encodePath(sid)}/process-state`);
  }

  async appendEvent(processId: string, request: AppendRequest): Promise<AppendOutcome> {
    const id = this.id(processId);
    const r = parseInput(AppendRequestSchema, request, 'append request');
    return this.json('POST', `/processes/${encodePath(id)}/events`, r);
  }

  async appendEvents(processId: string, requests: AppendRequest[]): Promise<AppendOutcome[]> {
    const id = this.id(processId);
    const batch = parseInput(AppendBatchSchema, requests, 'append requests');
    return this.json('POST', `/processes/${encodePath(id)}/event-batches`, batch);
  }

  async waitEventAfter(
    processId: string,
    eventType: string,
    afterSequence: number,
    options?: WaitOptions,
  ): Promise<ProcessEvent> {
    const type = parseInput(IdSchema, eventType, 'event type');
    const after = parseInput(SequenceSchema, afterSequence, 'afterSequence');
    const opts = parseInput(WaitOptionsSchema, options, 'wait options');
    const id = this.id(processId);
    return waitOverSse(
      this.conn,
      this.audit,
      `/processes/${encodePath(id)}/wait`,
      { eventType: type, after, timeoutMs: opts?.timeoutMs },
      opts?.signal,
      `waiting for \`${type}\` on process \`${id}\``,
    );
  }

  async awaitProcess(processId: string, options?: WaitOptions): Promise<ProcessAwaitOutput> {
    const opts = parseInput(WaitOptionsSchema, options, 'wait options');
    const id = this.id(processId);
    return waitOverSse(
      this.conn,
      this.audit,
      `/processes/${encodePath(id)}/outcome`,
      { timeoutMs: opts?.timeoutMs },
      opts?.signal,
      `awaiting process \`${id}\``,
    );
  }

  events$(processId: string, afterSequence = 0): Observable<ProcessEvent> {
    const id = this.id(processId);
    const after = parseInput(SequenceSchema, afterSequence, 'afterSequence');
    return followSse<ProcessEvent>(
      this.conn,
      this.audit,
      `/processes/${encodePath(id)}/events`,
      { after },
      'event',
      (data) => JSON.parse(data),
      true,
    );
  }

  get applied$(): Observable<RecordedDomainEvent> {
    return followSse<RecordedDomainEvent>(this.conn, this.audit, '/feed', {}, 'applied', (data) =>
      withPosition(JSON.parse(data)),
    );
  }

  async completeProcess(
    processId: string,
    awaitOutput: ProcessAwaitOutput,
  ): Promise<ProcessRecord> {
    const id = this.id(processId);
    const output = parseInput(ProcessAwaitOutputSchema, awaitOutput, 'await output');
    return this.json('POST', `/processes/${encodePath(id)}/completion`, output);
  }

  async ackWake(processId: string, sequence: number): Promise<void> {
    const id = this.id(processId);
    const seq = parseInput(SequenceSchema, sequence, 'sequence');
    return this.json('POST', `/processes/${encodePath(id)}/wake-acks`, { sequence: seq });
  }

  async claimProcessLease(
    processId: string,
    ownerId: string,
    ttlMs: number,
  ): Promise<ProcessLease> {
    const id = this.id(processId);
    const owner = parseInput(IdSchema, ownerId, 'owner id');
    const ttl = parseInput(TtlSchema, ttlMs, 'lease ttl');
    return this.json('POST', `/processes/${encodePath(id)}/lease`, { ownerId: owner, ttlMs: ttl });
  }

  async renewProcessLease(lease: ProcessLease, ttlMs: number): Promise<ProcessLease> {
    const l = parseInput(ProcessLeaseSchema, lease, 'lease');
    const ttl = parseInput(TtlSchema, ttlMs, 'lease ttl');
    return this.json('POST', `/processes/${encodePath(l.processId)}/lease/renewal`, {
      lease: l,
      ttlMs: ttl,
    });
  }

  async completeProcessLease(completion: { processId: string; leaseToken: string }): Promise<void> {
    const c = parseInput(LeaseCompletionSchema, completion, 'lease completion');
    return this.json('POST', `/processes/${encodePath(c.processId)}/lease/release`, {
      leaseToken: c.leaseToken,
    });
  }

  async completeProcessWithLease(
    lease: ProcessLease,
    awaitOutput: ProcessAwaitOutput,
  ): Promise<ProcessRecord> {
    const l = parseInput(ProcessLeaseSchema, lease, 'lease');
    const output = parseInput(ProcessAwaitOutputSchema, awaitOutput, 'await output');
    return this.json('POST', `/processes/${encodePath(l.processId)}/lease/completion`, {
      lease: l,
      awaitOutput: output,
    });
  }

  async reclaimProcessLease(processId: string, reclaim: LeaseReclaim): Promise<ProcessLease> {
    const id = this.id(processId);
    const r = parseInput(LeaseReclaimSchema, reclaim, 'lease reclaim');
    return this.json('POST', `/processes/${encodePath(id)}/lease/reclaim`, r);
  }

  async history<O extends HistoryOptions>(processId: string, options?: O): Promise<HistoryOf<O>[]> {
    const id = this.id(processId);
    const opts = parseInput(HistoryOptionsSchema, options, 'history options');
    // the service sends refusals only with includeRefused: true, which is what HistoryOf says
    return (await historyOver(this.conn, this.audit, id, opts)) as HistoryOf<O>[];
  }

  async *iterateHistory<O extends HistoryOptions>(
    processId: string,
    options?: O,
  ): AsyncGenerator<HistoryOf<O>> {
    const id = this.id(processId);
    const opts = parseInput(HistoryOptionsSchema, options, 'history options');
    for await (const entry of iterateHistoryOver(this.conn, this.audit, id, opts)) {
      yield entry as HistoryOf<O>;
    }
  }

  async replay(processId: string, options?: { until?: AsOfPointInput }): Promise<ReplayStep[]> {
    const id = this.id(processId);
    return replayOver(this, id, parseInput(UntilOptionsSchema, options, 'options')?.until);
  }

  async extractCase(processId: string, options?: { until?: AsOfPointInput }): Promise<string[]> {
    const id = this.id(processId);
    return caseOver(this, id, parseInput(UntilOptionsSchema, options, 'options')?.until);
  }

  asOf(at: AsOfPointInput): RemoteAsOfView {
    this.ensureOpen();
    return new RemoteAsOfView(this.conn, this.audit, pointParam(at));
  }

  async changesBetween(from: AsOfPointInput, to: AsOfPointInput): Promise<Changes> {
    const query = { from: pointParam(from), to: pointParam(to) };
    const changes = await this.json<Changes>('GET', '/changes', undefined, query);
    return {
      ...changes,
      from: { ...changes.from, position: BigInt(changes.from.position) },
      to: { ...changes.to, position: BigInt(changes.to.position) },
    };
  }

  async *exportEvents(): AsyncGenerator<string> {
    yield* exportOver(this.conn, this.audit);
  }

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
    // the service reads the text twice (check, then write); it is sent once
    let text = '';
    for await (const chunk of source()) text += chunk.endsWith('\n') ? chunk : `${chunk}\n`;
    return withProgress(this.conn, this.audit, '/import', text, (p: ImportProgress) =>
      onProgress?.(p),
    );
  }

  /** The archive directory is on the service's machine (`archiveTo` names it there). */
  async pruneTerminalProcesses(
    options: PruneOptions,
    onProgress?: (progress: PruneProgress) => void,
  ): Promise<PruneResult> {
    this.ensureOpen();
    const o = parseInput(PruneOptionsSchema, options, 'prune options');
    const result = await withProgress<
      PruneProgress,
      Omit<PruneResult, 'position'> & { position?: string }
    >(this.conn, this.audit, '/prune', JSON.stringify(o), (p) => onProgress?.(p));
    const { position, ...rest } = result;
    return { ...rest, ...(position === undefined ? {} : { position: BigInt(position) }) };
  }

  async importArchive(
    dir: string,
    onProgress?: (progress: ImportProgress) => void,
  ): Promise<{ imported: number; processes: number }> {
    this.ensureOpen();
    const body = JSON.stringify({ dir: parseInput(z.string().min(1), dir, 'archive directory') });
    return withProgress(this.conn, this.audit, '/import-archive', body, (p: ImportProgress) =>
      onProgress?.(p),
    );
  }

  async prunedProcess(processId: string): Promise<PrunedSince | undefined> {
    const id = this.id(processId);
    const { pruned } = await this.json<{ pruned: (PrunedSince & { position: string }) | null }>(
      'GET',
      `/pruned/${encodePath(id)}`,
    );
    return pruned ? { ...pruned, position: BigInt(pruned.position) } : undefined;
  }

  async verifyProjections(
    onProgress?: (progress: { events: number; position: bigint; upTo: bigint }) => void,
  ): Promise<ProjectionDifference[]> {
    return withProgress(
      this.conn,
      this.audit,
      '/verify',
      undefined,
      (p: { events: number; position: string; upTo: string }) =>
        onProgress?.({ events: p.events, position: BigInt(p.position), upTo: BigInt(p.upTo) }),
    );
  }

  async digest(): Promise<LogDigest> {
    const wire = await this.json<{ digest: string; position: string }>('GET', '/digest');
    return frozen({ digest: wire.digest, position: BigInt(wire.position) });
  }

  async verifyIntegrity(options: VerifyIntegrityOptions = {}): Promise<IntegrityReport> {
    const { against, onProgress } = parseInput(VerifyIntegrityOptionsSchema, options, 'options');
    const body = against
      ? JSON.stringify({ against: { digest: against.digest, position: String(against.position) } })
      : '';
    const wire = await withProgress<IntegrityWireProgress, IntegrityWireReport>(
      this.conn,
      this.audit,
      '/verify/integrity',
      body,
      (p) => onProgress?.({ ...p, position: BigInt(p.position), head: BigInt(p.head) }),
    );
    return frozen({
      ...wire,
      problems: wire.problems.map((p) => ({ ...p, position: BigInt(p.position) })),
      unchained: {
        events: wire.unchained.events,
        through: wire.unchained.through === null ? null : BigInt(wire.unchained.through),
      },
      digest: { digest: wire.digest.digest, position: BigInt(wire.digest.position) },
    });
  }

  async rebuildProjections(onProgress?: (progress: ModelProgress) => void): Promise<void> {
    await withProgress(
      this.conn,
      this.audit,
      '/rebuild',
      undefined,
      (p: { done: string; head: string }) =>
        onProgress?.({ done: BigInt(p.done), head: BigInt(p.head) }),
    );
  }

  /** Open waiters and streams of this client; `position` is the service's, not known here (0n). */
  /**
   * What this client holds open: its waits and event streams (each one HTTP request). The
   * service's feeds, timers and position are the service's own (its /metrics), so they
   * read 0 here.
   */
  diagnostics(): RegistryDiagnostics {
    const open = this.conn.open.size;
    return {
      feedSubscribers: open,
      processListeners: open,
      globalListeners: 0,
      processes: 0,
      openWaiters: open,
      timeouts: 0,
      nativeTimers: 0,
      abortSignals: 0,
      position: 0n,
    };
  }

  async close(): Promise<void> {
    if (this.conn.closed) return;
    this.conn.closed = true;
    // aborting removes each from the set; a Set iterator tolerates that
    for (const controller of this.conn.open) {
      controller.abort(new RegistryError('unavailable', 'the registry was closed while waiting'));
    }
    this.conn.agent.destroy();
  }

  private ensureOpen(): void {
    if (this.conn.closed)
      throw new RegistryError(
        'unavailable',
        'the registry is closed; open a new one (openRegistry)',
      );
  }
}
