import { decodeEvent, type RecordedDomainEvent } from '../domain/codec.ts';
import { STREAM_PREFIX, streamOf } from '../domain/events.ts';
import type {
  ProcessEvent,
  ProcessHandleGrant,
  ProcessLease,
  ProcessRecord,
  Scope,
} from '../domain/schemas.ts';
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
    return getProcessIn((await this.processModels(processId)).processes, processId);
  }

  async eventsAfter(processId: string, afterSequence: number): Promise<ProcessEvent[]> {
    return eventsAfterOf(await this.processModels(processId), processId, afterSequence);
  }

  async handleGrantsForProcess(processId: string): Promise<ProcessHandleGrant[]> {
    return handleGrantsForProcessIn(await this.processModels(processId), processId);
  }

  /** The lease stored at that point (it may already have expired by then). */
  async getProcessLease(processId: string): Promise<ProcessLease | undefined> {
    return (await this.processModels(processId)).leases.get(processId);
  }

  async listHandleGrants(scope: Scope): Promise<HandleGrantEntry[]> {
    return listHandleGrantsIn(await this.globalModels(), scope);
  }

  async listNonTerminal(): Promise<ProcessRecord[]> {
    return listNonTerminalIn((await this.globalModels()).processes);
  }

  /** Every process registered by then, running or terminal, by `processId` ascending. */
  async listProcesses(): Promise<ProcessRecord[]> {
    return listProcessesIn((await this.globalModels()).processes);
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
