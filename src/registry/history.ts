import { isRegistryError, RegistryError } from '../domain/errors.ts';
import { streamOf } from '../domain/events.ts';
import type { RefusedCommand } from '../domain/refusal.ts';
import type { ReplayStep } from '../domain/replay.ts';
import { parseInput } from '../domain/validation.ts';
import { AsOfView } from '../queries/as-of.ts';
import { type Changes, changesBetween } from '../queries/changes.ts';
import {
  type HistoryOf,
  type HistoryOptions,
  HistoryOptionsSchema,
  historyOf,
  iterateHistoryOf,
} from '../queries/history.ts';
import { caseOf, replayOf } from '../queries/replay.ts';
import { AsOfPointSchema, type PointInput, positionUntil, UntilOptionsSchema } from './points.ts';
import { RetentionMethods } from './retention.ts';

/**
 * The registry's reads of the log, per process and in time: history (with the journal's
 * refusals when asked), asOf views, changesBetween, replay and extractCase. The facade
 * (`../registry.ts`) adds waiters, export/import and administration.
 */
export class ProcessHistory extends RetentionMethods {
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

  /** The id of a process the store holds; a pruned one's `not_found` names the prune. */
  private async storedOrPruned(processId: string): Promise<string> {
    try {
      return (await this.known(processId)).id;
    } catch (error) {
      if (!isRegistryError(error, 'not_found')) throw error;
      throw await this.unknownOrPruned(this.processId(processId));
    }
  }

  /** The process's journaled refusals when asked for (none when the journal is off). */
  private async refusals(id: string, opts: HistoryOptions): Promise<RefusedCommand[]> {
    if (!opts?.includeRefused) return [];
    return (await this.core.store.journal?.read(id)) ?? [];
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
    this.ensureOpen();
    return { id, ...(await positionUntil(until, (point) => this.asOf(point))) };
  }
}
