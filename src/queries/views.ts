import type { RegistryError } from '../domain/errors.ts';
import {
  DEFAULT_PAGE_LIMIT,
  listCursor,
  MAX_PAGE_LIMIT,
  type Page,
  PageSchema,
  type ProcessFilter,
  ProcessFilterSchema,
  readListCursor,
} from '../domain/process-list.ts';
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
import { scopeIdOf } from '../domain/scope.ts';
import { parseInput } from '../domain/validation.ts';
import type { Awaitable, GlobalReader, ReadModelReader } from '../store/read-model-tables.ts';
import type { HandleGrantEntry } from './grants.ts';

/** A page of `listProcesses`: `nextCursor` is absent on the last page. */
export interface ProcessList {
  records: ProcessRecord[];
  nextCursor?: string;
}

/**
 * The read side, written once for the live registry and for `asOf` views: each method
 * validates its input, gets the read models that answer it (the live tables, caught up; or
 * a fold of the log up to a point) and reads them. A process the models do not know is
 * `not_found`, with advice that fits the view.
 */
export abstract class ReadViews {
  /** The models that answer a question about one process. */
  protected abstract models(processId: string): Promise<ReadModelReader>;
  /** The models that answer questions about all processes. */
  protected abstract globalModels(): Promise<GlobalReader>;
  protected abstract unknownProcess(processId: string): RegistryError;

  async getProcess(processId: string): Promise<ProcessRecord | undefined> {
    const id = parseInput(IdSchema, processId, 'process id');
    return (await this.models(id)).process(id);
  }

  async eventsAfter(processId: string, afterSequence: number): Promise<ProcessEvent[]> {
    // every argument is checked before the lookup: bad input is `invalid`, known process or not
    const after = parseInput(SequenceSchema, afterSequence, 'afterSequence');
    const { id, models } = await this.known(processId);
    return models.eventsAfter(id, after);
  }

  /** Events after `afterSequence` that carry a wake not yet acked, ascending. */
  async wakeEventsAfter(processId: string, afterSequence: number): Promise<ProcessEvent[]> {
    // every argument is checked before the lookup: bad input is `invalid`, known process or not
    const after = parseInput(SequenceSchema, afterSequence, 'afterSequence');
    const { id, models } = await this.known(processId);
    return models.eventsAt(id, models.unackedWakes(id, after));
  }

  /** The last `limit` (1 to 1 000) events of the process, ascending: a tail, read by index. */
  async recentEvents(processId: string, limit: number): Promise<ProcessEvent[]> {
    // every argument is checked before the lookup: bad input is `invalid`, known process or not
    const n = parseInput(RecentLimitSchema, limit, 'limit');
    const { id, models } = await this.known(processId);
    return models.recentEvents(id, n);
  }

  /**
   * How many events the process has, of `eventType` only when given, with a sequence up to
   * `upToSequence` (default: all): one index lookup, whatever the stream's length.
   */
  async countEvents(processId: string, options?: CountEventsOptions): Promise<number> {
    const opts = parseInput(CountEventsOptionsSchema, options, 'count options');
    const { id, models } = await this.known(processId);
    return models.countEvents(id, opts?.eventType, opts?.upToSequence ?? Number.MAX_SAFE_INTEGER);
  }

  /** A process's grants by sessionId, then scope id. */
  async handleGrantsForProcess(processId: string): Promise<ProcessHandleGrant[]> {
    const { id, models } = await this.known(processId);
    return models.grantsOfProcess(id);
  }

  /** The stored lease (possibly expired), or undefined when none is held. */
  async getProcessLease(processId: string): Promise<ProcessLease | undefined> {
    const { id, models } = await this.known(processId);
    return models.lease(id);
  }

  /** The scope's grants with their records, by processId ascending. */
  async listHandleGrants(scope: Scope): Promise<HandleGrantEntry[]> {
    const scopeId = scopeIdOf(parseInput(ScopeSchema, scope, 'scope'));
    const models = await this.globalModels();
    // live tables answer synchronously: the grants and their records come from one state
    return then(models.grantsOfScope(scopeId), (grants) =>
      then(all(grants.map((grant) => models.process(grant.processId))), (records) =>
        grants.flatMap((grant, i) => {
          const record = records[i];
          return record ? [{ grant, record }] : [];
        }),
      ),
    );
  }

  /** Like listHandleGrants, non-terminal processes only. */
  async listLiveHandleGrants(scope: Scope): Promise<HandleGrantEntry[]> {
    return (await this.listHandleGrants(scope)).filter((e) => e.record.status.state === 'running');
  }

  async hasHandleGrant(scope: Scope, processId: string): Promise<boolean> {
    const scopeId = scopeIdOf(parseInput(ScopeSchema, scope, 'scope'));
    const id = parseInput(IdSchema, processId, 'process id');
    return (await this.models(id)).hasGrant(scopeId, id);
  }

  /** Running processes by processId ascending: the recovery sweep's worklist. */
  async listNonTerminal(): Promise<ProcessRecord[]> {
    return await (await this.globalModels()).processes('running');
  }

  /**
   * A page of the processes that match `filter`, in (createdAtMs, id) order, with the
   * cursor of the next page when there may be more (see domain/process-list.ts).
   */
  async listProcesses(filter?: ProcessFilter, page?: Page): Promise<ProcessList> {
    const f = parseInput(ProcessFilterSchema, filter ?? {}, 'process filter');
    const p = parseInput(PageSchema, page ?? {}, 'page');
    const after = p.cursor === undefined ? undefined : readListCursor(p.cursor);
    const limit = p.limit ?? DEFAULT_PAGE_LIMIT;
    const models = await this.globalModels();
    // one more than asked: whether a next page exists, without a second query
    const rows = await models.listProcesses({
      filter: f,
      ...(after ? { after } : {}),
      limit: limit + 1,
    });
    const records = rows.slice(0, limit);
    return rows.length > limit ? { records, nextCursor: listCursor(records.at(-1)!) } : { records };
  }

  /** The process id, once the models know it; else `not_found`. */
  protected async known(processId: string): Promise<{ id: string; models: ReadModelReader }> {
    const id = parseInput(IdSchema, processId, 'process id');
    const models = await this.models(id);
    if (!models.process(id)) throw this.unknownProcess(id);
    return { id, models };
  }
}

/** Every process matching `filter`, page by page: a listing of any length (tooling). */
export async function* everyProcess(
  view: Pick<ReadViews, 'listProcesses'>,
  filter?: ProcessFilter,
): AsyncGenerator<ProcessRecord> {
  let cursor: string | undefined;
  do {
    const page = await view.listProcesses(filter, {
      limit: MAX_PAGE_LIMIT,
      ...(cursor === undefined ? {} : { cursor }),
    });
    yield* page.records;
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}

/** `next(value)`, at once when `value` is not a promise (no await between two sync reads). */
const then = <T, R>(value: Awaitable<T>, next: (value: T) => Awaitable<R>): Awaitable<R> =>
  value instanceof Promise ? value.then(next) : next(value);

/** The values, at once when none is a promise. */
const all = <T>(values: readonly Awaitable<T>[]): Awaitable<T[]> => {
  const now: T[] = [];
  for (const value of values) {
    if (value instanceof Promise) return Promise.all(values);
    now.push(value);
  }
  return now;
};
