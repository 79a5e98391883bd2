import type { RecordedDomainEvent } from '../domain/codec.ts';
import { RegistryError } from '../domain/errors.ts';
import { streamOf } from '../domain/events.ts';
import type { EventReader } from '../projections/event-reader.ts';
import { foldLog } from '../projections/fold-log.ts';
import { applyEvent } from '../projections/project.ts';
import { MemoryTables } from '../store/memory-tables.ts';
import type { EventStore, Position } from '../store/port.ts';
import type { ReadModelReader } from '../store/read-model-tables.ts';
import { ReadViews } from './views.ts';

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
 * A read-only view of the registry as it was at a point, answering with the same queries as
 * the live registry. Per-process questions fold only that process's stream; global ones
 * fold the log up to the point into scratch tables, once per view.
 */
export class AsOfView extends ReadViews {
  private global: Promise<ReadModelReader> | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly reader: EventReader,
    readonly point: AsOfPoint,
  ) {
    super();
  }

  protected override models(processId?: string): Promise<ReadModelReader> {
    return processId === undefined ? this.globalModels() : this.processModels(processId);
  }

  protected override unknownProcess(processId: string): RegistryError {
    return new RegistryError(
      'not_found',
      `process \`${processId}\` did not exist as of ${describePoint(this.point)}; pick a later point`,
    );
  }

  private async processModels(processId: string): Promise<ReadModelReader> {
    const tables = new MemoryTables();
    for (const stored of await this.store.readStream(streamOf(processId))) {
      const recorded = this.reader.read(stored);
      if (!includes(this.point, recorded)) break;
      applyEvent(tables, recorded);
    }
    return tables;
  }

  /** Folded once per view; a failed fold (a store outage) is not kept, the next call retries. */
  private globalModels(): Promise<ReadModelReader> {
    this.global ??= this.foldGlobal().catch((error: unknown) => {
      this.global = undefined;
      throw error;
    });
    return this.global;
  }

  private async foldGlobal(): Promise<ReadModelReader> {
    const tables = new MemoryTables();
    // Like the per-process fold, each stream contributes a prefix: after its first event
    // outside the point, later events of that stream stay out even if their clock says
    // otherwise, so no read model sees an event without its predecessors.
    const ended = new Set<string>();
    await foldLog(this.store, tables, this.reader, {
      ...('position' in this.point ? { upTo: this.point.position } : {}),
      include: (recorded) => {
        if (ended.has(recorded.stream)) return false;
        if (includes(this.point, recorded)) return true;
        ended.add(recorded.stream);
        return false;
      },
    });
    return tables;
  }
}
