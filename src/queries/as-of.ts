import { decodeEvent, type RecordedDomainEvent } from '../domain/codec.ts';
import { RegistryError } from '../domain/errors.ts';
import { STREAM_PREFIX, streamOf } from '../domain/events.ts';
import type {
  ProcessEvent,
  ProcessHandleGrant,
  ProcessLease,
  ProcessRecord,
  Scope,
} from '../domain/schemas.ts';
import { IdSchema, ScopeSchema, SequenceSchema } from '../domain/schemas.ts';
import { parseInput } from '../domain/validation.ts';
import {
  applyToReadModels,
  createReadModels,
  type ReadModels,
} from '../projections/read-models.ts';
import type { EventStore, Position } from '../store/port.ts';
import { eventsAfterOf } from './events.ts';
import { type HandleGrantEntry, handleGrantsForProcessIn, listHandleGrantsIn } from './grants.ts';
import { getProcessIn, listNonTerminalIn, listProcessesIn } from './processes.ts';

/** A point in the registry's past: a time on the registry clock, or a global log position. */
export type AsOfPoint = { timeMs: number } | { position: Position };

/**
 * Whether an event belongs to the past at `point`. By position: at or before it. By time:
 * recorded at or before it. The registry clock is monotone per instance; with several
 * instances whose clocks disagree, "as of a time" means "every event those clocks say had
 * happened by then".
 */
const includes = (point: AsOfPoint, recorded: RecordedDomainEvent): boolean =>
  'position' in point
    ? recorded.position <= point.position
    : recorded.metadata.recordedAtMs <= point.timeMs;

const describePoint = (point: AsOfPoint): string =>
  'position' in point ? `position ${point.position}` : `${new Date(point.timeMs).toISOString()}`;

/**
 * A read-only view of the registry as it was at a point. Per-process questions fold only
 * that process's stream; global ones replay the log up to the point, once per view.
 */
export class AsOfView {
  private global: Promise<ReadModels> | undefined;

  constructor(
    private readonly store: EventStore,
    readonly point: AsOfPoint,
  ) {}

  async getProcess(processId: string): Promise<ProcessRecord | undefined> {
    const id = parseInput(IdSchema, processId, 'process id');
    return getProcessIn((await this.processModels(id)).processes, id);
  }

  async eventsAfter(processId: string, afterSequence: number): Promise<ProcessEvent[]> {
    const after = parseInput(SequenceSchema, afterSequence, 'afterSequence');
    const { id, models } = await this.knownProcess(processId);
    return eventsAfterOf(models, id, after);
  }

  async handleGrantsForProcess(processId: string): Promise<ProcessHandleGrant[]> {
    const { id, models } = await this.knownProcess(processId);
    return handleGrantsForProcessIn(models, id);
  }

  /** The lease stored at that point (it may already have expired by then). */
  async getProcessLease(processId: string): Promise<ProcessLease | undefined> {
    const { id, models } = await this.knownProcess(processId);
    return models.leases.get(id);
  }

  async listHandleGrants(scope: Scope): Promise<HandleGrantEntry[]> {
    const s = parseInput(ScopeSchema, scope, 'scope');
    return listHandleGrantsIn(await this.globalModels(), s);
  }

  async listNonTerminal(): Promise<ProcessRecord[]> {
    return listNonTerminalIn((await this.globalModels()).processes);
  }

  /** Every process registered by then, running or terminal, by `processId` ascending. */
  async listProcesses(): Promise<ProcessRecord[]> {
    return listProcessesIn((await this.globalModels()).processes);
  }

  /** Like the live registry: a process unknown at that point is `not_found`. */
  private async knownProcess(processId: string): Promise<{ id: string; models: ReadModels }> {
    const id = parseInput(IdSchema, processId, 'process id');
    const models = await this.processModels(id);
    if (!models.processes.records.has(id)) {
      throw new RegistryError(
        'not_found',
        `process \`${id}\` did not exist as of ${describePoint(this.point)}; pick a later point`,
      );
    }
    return { id, models };
  }

  private async processModels(processId: string): Promise<ReadModels> {
    const models = createReadModels();
    for (const stored of await this.store.readStream(streamOf(processId))) {
      const recorded = decodeEvent(stored);
      if (!includes(this.point, recorded)) break;
      applyToReadModels(models, recorded.event);
    }
    return models;
  }

  private globalModels(): Promise<ReadModels> {
    this.global ??= (async () => {
      const models = createReadModels();
      // Like the per-process fold, each stream contributes a prefix: after its first event
      // outside the point, later events of that stream stay out even if their clock says
      // otherwise, so no read model sees an event without its predecessors.
      const ended = new Set<string>();
      for await (const stored of this.store.readAll({ streamPrefix: STREAM_PREFIX })) {
        if ('position' in this.point && stored.position > this.point.position) break;
        if (ended.has(stored.stream)) continue;
        const recorded = decodeEvent(stored);
        if (includes(this.point, recorded)) applyToReadModels(models, recorded.event);
        else ended.add(stored.stream);
      }
      return models;
    })();
    return this.global;
  }
}
