import { RegistryError } from '../domain/errors.ts';
import { streamOf } from '../domain/events.ts';
import { type PrunedSince, prunedAfter } from '../domain/retention.ts';
import type { ProcessLease } from '../domain/schemas.ts';
import type { EventReader } from '../projections/event-reader.ts';
import { foldLog } from '../projections/fold-log.ts';
import { applyEvent } from '../projections/project.ts';
import { MemoryTables } from '../store/memory-tables.ts';
import { type EventStore, type Position, START } from '../store/port.ts';
import type { GlobalReader, ReadModelReader, ReadModelTables } from '../store/read-model-tables.ts';
import { readPrunes } from './retention.ts';
import { ReadViews } from './views.ts';

/** A point in the registry's past: a time on the registry clock, or a global log position. */
export type AsOfPoint = { timeMs: number } | { position: Position };

const describePoint = (point: AsOfPoint): string =>
  'position' in point ? `position ${point.position}` : `${new Date(point.timeMs).toISOString()}`;

/**
 * A read-only view of the registry as it was at a point, answering with the same queries as
 * the live registry.
 *
 * A time means the longest prefix of the log whose events were all recorded (on the
 * registry clock of the instance that wrote each) at or before it: with one clock, every
 * event up to that time; with instances whose clocks disagree, the log stops at the first
 * event stamped later, so the view never shows an event without the ones before it.
 *
 * Global questions (listings) come from versioned tables where the store keeps them (an
 * index lookup, whatever the log's length: SQLite and memory in their models, PostgreSQL
 * in its schema, `store.versions`); elsewhere (EventStoreDB) the log up to the point is
 * folded into scratch tables, once per view. Questions about one process fold only that
 * process's stream.
 */
export class AsOfView extends ReadViews {
  private resolved: Promise<Position> | undefined;
  private global: Promise<GlobalReader> | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly reader: EventReader,
    /** the live models, current with the store */
    private readonly live: () => Promise<ReadModelTables>,
    readonly point: AsOfPoint,
  ) {
    super();
  }

  protected override unknownProcess(processId: string): RegistryError {
    return new RegistryError(
      'not_found',
      `process \`${processId}\` did not exist as of ${describePoint(this.point)}; pick a later point`,
    );
  }

  protected override async models(processId: string): Promise<ReadModelReader> {
    const upTo = await this.upTo();
    const tables = new MemoryTables();
    for (const stored of await this.store.readStream(streamOf(processId))) {
      if (stored.position > upTo) break;
      applyEvent(tables, this.reader.read(stored));
    }
    return tables;
  }

  /** Resolved once per view; a failure (a store outage) is not kept: the next call retries. */
  protected override globalModels(): Promise<GlobalReader> {
    this.global ??= this.foldGlobal().catch((error: unknown) => {
      this.global = undefined;
      throw error;
    });
    return this.global;
  }

  private async foldGlobal(): Promise<GlobalReader> {
    const upTo = await this.upTo();
    const live = await this.live();
    const versions = this.store.versions ?? live.versions;
    if (versions) return versions.at(upTo);
    const tables = new MemoryTables();
    await foldLog(this.store, tables, this.reader, { upTo });
    return tables;
  }

  /**
   * The processes pruned after the point, in log order: the past shows them nowhere else
   * (their versions left with them), so a listing of the past comes with this list.
   */
  async prunedSince(): Promise<PrunedSince[]> {
    return prunedAfter(await readPrunes(this.store), await this.upTo());
  }

  /** Every lease stored at the point (possibly expired by then), by process id. */
  async leases(): Promise<ProcessLease[]> {
    return await (await this.globalModels()).leases();
  }

  /** The last position of the log the view includes. */
  position(): Promise<Position> {
    return this.upTo();
  }

  private upTo(): Promise<Position> {
    this.resolved ??= this.resolve().catch((error: unknown) => {
      this.resolved = undefined;
      throw error;
    });
    return this.resolved;
  }

  private async resolve(): Promise<Position> {
    if ('position' in this.point) return this.point.position;
    const { timeMs } = this.point;
    const live = await this.live();
    const versions = this.store.versions ?? live.versions;
    if (versions) return (await versions.prefixAt(timeMs)) ?? live.checkpoint();
    // no time index: the first event stamped after the time ends the prefix (process events
    // and prunes alike; both carry the registry clock in their metadata)
    let last = START;
    for await (const stored of this.store.readAll()) {
      const recordedAtMs = (stored.metadata as { recordedAtMs?: unknown } | null)?.recordedAtMs;
      if (typeof recordedAtMs === 'number' && recordedAtMs > timeMs) return stored.position - 1n;
      last = stored.position;
    }
    return last;
  }
}
