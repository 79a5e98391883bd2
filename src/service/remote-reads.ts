import { RegistryError } from '../domain/errors.ts';
import {
  type Page,
  PageSchema,
  type ProcessFilter,
  ProcessFilterSchema,
} from '../domain/process-list.ts';
import type { PrunedSince } from '../domain/retention.ts';
import {
  type CountEventsOptions,
  CountEventsOptionsSchema,
  IdSchema,
  type ProcessEvent,
  type ProcessHandleGrant,
  type ProcessLease,
  type ProcessRecord,
  RecentLimitSchema,
  type Scope,
  ScopeSchema,
  SequenceSchema,
} from '../domain/schemas.ts';
import { parseInput } from '../domain/validation.ts';
import type { HandleGrantEntry } from '../queries/grants.ts';
import type { ProcessList } from '../queries/views.ts';
import { type AuditHeaders, type Connection, encodePath, sendJson } from './remote-http.ts';

type Query = Record<string, string | number | boolean | undefined>;

/** A scope as the `/grants` query parameters, validated like the registry's argument. */
const scopeQuery = (scope: Scope): Query => {
  const s = parseInput(ScopeSchema, scope, 'scope');
  return { sessionId: s.sessionId, agentFrameId: s.agentFrameId };
};

/**
 * The read side over HTTP, written once for the remote registry and its `asOf` views (as
 * `ReadViews` is in-process): each method validates its input like the registry does and
 * asks the service, with `?asOf=` when the view is of a past point.
 */
export class RemoteReads {
  constructor(
    protected readonly conn: Connection,
    protected readonly audit: AuditHeaders,
    /** epoch ms or `pos:<n>`; undefined: the live registry */
    readonly point?: string,
  ) {}

  protected json<T>(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    body?: unknown,
    query: Query = {},
  ): Promise<T> {
    return sendJson<T>(this.conn, this.audit, {
      method,
      path,
      body,
      query: this.point === undefined ? query : { ...query, asOf: this.point },
    });
  }

  protected path(processId: string, rest = ''): string {
    return `/processes/${encodePath(this.id(processId))}${rest}`;
  }

  protected id(processId: string): string {
    return parseInput(IdSchema, processId, 'process id');
  }

  async getProcess(processId: string): Promise<ProcessRecord | undefined> {
    return this.json<ProcessRecord>('GET', this.path(processId)).catch((error: unknown) => {
      if (error instanceof RegistryError && error.code === 'not_found') return undefined;
      throw error;
    });
  }

  async eventsAfter(processId: string, afterSequence: number): Promise<ProcessEvent[]> {
    const path = this.path(processId, '/events');
    const after = parseInput(SequenceSchema, afterSequence, 'afterSequence');
    return this.json('GET', path, undefined, { after });
  }

  async wakeEventsAfter(processId: string, afterSequence: number): Promise<ProcessEvent[]> {
    const path = this.path(processId, '/wake-events');
    const after = parseInput(SequenceSchema, afterSequence, 'afterSequence');
    return this.json('GET', path, undefined, { after });
  }

  async recentEvents(processId: string, limit: number): Promise<ProcessEvent[]> {
    const path = this.path(processId, '/recent-events');
    const n = parseInput(RecentLimitSchema, limit, 'limit');
    return this.json('GET', path, undefined, { limit: n });
  }

  async countEvents(processId: string, options?: CountEventsOptions): Promise<number> {
    const path = this.path(processId, '/event-count');
    const opts = parseInput(CountEventsOptionsSchema, options, 'count options');
    const query = { eventType: opts?.eventType, upToSequence: opts?.upToSequence };
    return (await this.json<{ count: number }>('GET', path, undefined, query)).count;
  }

  async handleGrantsForProcess(processId: string): Promise<ProcessHandleGrant[]> {
    return this.json('GET', this.path(processId, '/grants'));
  }

  async getProcessLease(processId: string): Promise<ProcessLease | undefined> {
    const answer = await this.json<{ lease: ProcessLease | null }>(
      'GET',
      this.path(processId, '/lease'),
    );
    return answer.lease ?? undefined;
  }

  async listHandleGrants(scope: Scope): Promise<HandleGrantEntry[]> {
    return this.json('GET', '/grants', undefined, scopeQuery(scope));
  }

  async hasHandleGrant(scope: Scope, processId: string): Promise<boolean> {
    const query = { ...scopeQuery(scope), processId: this.id(processId) };
    return (await this.json<{ granted: boolean }>('GET', '/grants/check', undefined, query))
      .granted;
  }

  async listNonTerminal(): Promise<ProcessRecord[]> {
    return this.json('GET', '/processes');
  }

  async listProcesses(filter?: ProcessFilter, page?: Page): Promise<ProcessList> {
    const f = parseInput(ProcessFilterSchema, filter ?? {}, 'process filter');
    const p = parseInput(PageSchema, page ?? {}, 'page');
    return this.json('GET', '/process-pages', undefined, { ...f, ...p });
  }

  /** Like listHandleGrants, non-terminal processes only. */
  async listLiveHandleGrants(scope: Scope): Promise<HandleGrantEntry[]> {
    return this.json('GET', '/grants', undefined, { ...scopeQuery(scope), live: true });
  }
}

/** The remote counterpart of `AsOfView`: the same reads, as the registry was at a point. */
export class RemoteAsOfView extends RemoteReads {
  /** Every lease stored at the point (possibly expired by then), by process id. */
  async leases(): Promise<ProcessLease[]> {
    return this.json('GET', '/as-of/leases');
  }

  /** The processes pruned after the point (none for a session token). */
  async prunedSince(): Promise<PrunedSince[]> {
    const pruned = await this.json<(PrunedSince & { position: string })[]>('GET', '/as-of/pruned');
    return pruned.map((p) => ({ ...p, position: BigInt(p.position) }));
  }

  /** The last position of the log the view includes. */
  async position(): Promise<bigint> {
    const answer = await this.json<{ position: string }>('GET', '/as-of/position');
    return BigInt(answer.position);
  }
}
