import { concat, defer, from, Observable, Subject } from 'rxjs';
import { RegistryError } from '../domain/errors.ts';
import { deepFreeze } from '../domain/freeze.ts';
import { chainOf } from '../domain/integrity.ts';
import type { Json } from '../domain/json.ts';
import { MemoryDigests } from './memory-digests.ts';
import { MemoryJournal } from './memory-journal.ts';
import { VersionedMemoryTables } from './memory-versions.ts';
import {
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RefusalJournal,
  START,
  type StoredEvent,
  type StreamRemoval,
  type StreamRevision,
  type StreamWrite,
  type SubscribeOptions,
  WrongExpectedRevisionError,
} from './port.ts';
import type { InlineModels, InlineProjection } from './read-model-tables.ts';
import { appendOneVia, replayedAppend, revisionMatches, sliceStream } from './shared.ts';

/**
 * In-process event store. Positions are 1, 2, 3 ... in append order. Stored data is
 * deep-frozen copies, so callers can neither mutate the log nor see later mutations of
 * what they appended.
 */
export class MemoryEventStore implements EventStore {
  readonly durabilityTier = 'inline' as const;
  readonly models: InlineModels;
  private readonly digests = new MemoryDigests();
  private readonly tables = new VersionedMemoryTables({ digests: this.digests });
  private projection: InlineProjection | undefined;
  private readonly log: StoredEvent[] = [];
  private readonly streams = new Map<string, StoredEvent[]>();
  /** events of removed streams: they keep their places in `log` (positions are indexes) */
  private readonly removed = new WeakSet<StoredEvent>();
  private readonly appended = new Subject<StoredEvent>();
  private closed = false;
  /** on unless `journal: false` (`memory:?journal=off`), as on the durable stores */
  readonly journal: RefusalJournal | undefined;

  constructor(options: { journal?: boolean } = {}) {
    this.journal = options.journal === false ? undefined : new MemoryJournal();
    this.models = {
      tables: this.tables,
      attach: (projection) => {
        this.projection = projection;
      },
      current: () => this.tables.checkpoint() >= BigInt(this.log.length),
      catchUp: async (options = {}) => {
        if (options.rebuild) {
          this.tables.clear();
          this.digests.clear();
        }
        this.projectTail();
        options.onProgress?.(this.tables.checkpoint(), BigInt(this.log.length));
      },
    };
  }

  /** Projects what was appended before a projection was attached (or after a rebuild). */
  private projectTail(): void {
    const tail = this.log.slice(Number(this.tables.checkpoint())).filter(this.present);
    if (!this.projection || tail.length === 0) return;
    this.projection.project(tail, this.tables);
    this.tables.setCheckpoint(BigInt(this.log.length));
  }

  appendToStream(
    stream: string,
    events: readonly NewEvent[],
    options: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    return appendOneVia(this, { stream, events, expectedRevision: options.expectedRevision });
  }

  async appendToStreams(writes: readonly StreamWrite[]): Promise<AppendResult[]> {
    return this.appendNow(writes);
  }

  /** Synchronous, so nothing can interleave with an append (or a removal around one). */
  private appendNow(writes: readonly StreamWrite[]): AppendResult[] {
    this.ensureOpen();
    // Check every write, and project every new event, before storing any: all or nothing.
    this.projectTail();
    const plans = writes.map((write) => this.plan(write));
    const results: AppendResult[] = [];
    const stored: StoredEvent[] = [];
    let position = this.log.length;
    for (const plan of plans) {
      if (plan.replayed) {
        results.push(plan.replayed);
        continue;
      }
      const existing = this.streams.get(plan.write.stream);
      let revision = (existing?.length ?? 0) - 1;
      let before = existing?.at(-1);
      for (const event of plan.write.events) {
        revision += 1;
        position += 1;
        const record: StoredEvent = Object.freeze({
          id: event.id,
          stream: plan.write.stream,
          revision,
          position: BigInt(position),
          type: event.type,
          // the text the writer serialized (procreg's events) is parsed, not made again
          data: event.text ? frozenParse(event.text.data) : frozenCopy(event.data),
          metadata: event.text
            ? linkedParse(event.text.metadata, before)
            : frozenCopy(event.metadata),
        });
        stored.push(record);
        before = record;
      }
      const last = plan.write.events.length > 0 ? BigInt(position) : this.streamEnd(plan.write);
      results.push({ nextRevision: revision, position: last });
    }
    // the projection reads every event before it writes a row, so a refusal writes nothing
    if (this.projection && stored.length > 0) {
      this.projection.project(stored, this.tables);
      this.tables.setCheckpoint(BigInt(position));
    }
    for (const record of stored) {
      this.log.push(record);
      const existing = this.streams.get(record.stream);
      if (existing) existing.push(record);
      else this.streams.set(record.stream, [record]);
    }
    for (const record of stored) this.appended.next(record);
    return results;
  }

  private streamEnd(write: StreamWrite): bigint {
    return this.streams.get(write.stream)?.at(-1)?.position ?? START;
  }

  private plan(write: StreamWrite): { write: StreamWrite; replayed?: AppendResult } {
    const existing = this.streams.get(write.stream) ?? [];
    const actual = existing.length - 1;
    const replayed = replayedAppend(existing, write);
    if (replayed) return { write, replayed };
    if (!revisionMatches(write.expectedRevision, actual)) {
      throw new WrongExpectedRevisionError(write.stream, write.expectedRevision, actual);
    }
    return { write };
  }

  async deleteStreams(
    remove: readonly StreamRemoval[],
    record?: StreamWrite,
  ): Promise<AppendResult | undefined> {
    this.ensureOpen();
    for (const { stream, lastRevision } of remove) {
      const actual = (this.streams.get(stream)?.length ?? 0) - 1;
      if (actual !== lastRevision)
        throw new WrongExpectedRevisionError(stream, lastRevision, actual);
    }
    // the record's projection purges the streams' rows: checked, projected, then removed,
    // in one synchronous step
    const [result] = record ? this.appendNow([record]) : [];
    for (const { stream } of remove) {
      for (const event of this.streams.get(stream) ?? []) this.removed.add(event);
      this.streams.delete(stream);
    }
    return result;
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    this.ensureOpen();
    return sliceStream(this.streams.get(stream) ?? [], options);
  }

  async streamRevision(stream: string): Promise<StreamRevision> {
    this.ensureOpen();
    return (this.streams.get(stream)?.length ?? 0) - 1;
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<StoredEvent> {
    this.ensureOpen();
    yield* this.snapshotAfter(
      options.fromPosition ?? START,
      options.streamPrefix,
      options.maxCount,
    );
  }

  subscribeToAll(options: SubscribeOptions = {}): Observable<StoredEvent> {
    return defer(() => {
      this.ensureOpen();
      // Appends are synchronous, so the snapshot and the live subject cannot interleave:
      // live delivery starts exactly after the snapshot's last position.
      const catchUp = this.snapshotAfter(options.fromPosition ?? START, options.streamPrefix);
      const after = catchUp.at(-1)?.position ?? options.fromPosition ?? START;
      const live = new Observable<StoredEvent>((subscriber) =>
        this.appended.subscribe({
          next: (event) => {
            if (event.position <= after) return;
            if (options.streamPrefix && !event.stream.startsWith(options.streamPrefix)) return;
            subscriber.next(event);
          },
          complete: () => subscriber.complete(),
        }),
      );
      return concat(from(catchUp), live);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.appended.complete();
  }

  private snapshotAfter(position: bigint, prefix?: string, maxCount?: number): StoredEvent[] {
    // positions are 1-based indexes into the log
    const events = this.log.slice(Number(position));
    const filtered = events.filter(
      (e) => this.present(e) && (!prefix || e.stream.startsWith(prefix)),
    );
    return maxCount === undefined ? filtered : filtered.slice(0, maxCount);
  }

  private readonly present = (event: StoredEvent): boolean => !this.removed.has(event);

  private ensureOpen(): void {
    if (this.closed) throw new RegistryError('unavailable', 'the memory store is closed');
  }
}

/** A JSON round trip, as a real store does: `undefined` members vanish, like on disk. */
const frozenCopy = (value: Json): Json => frozenParse(JSON.stringify(value));
const frozenParse = (text: string): Json => deepFreeze(JSON.parse(text) as Json);

/**
 * Metadata parsed from its text, whose `prevHash`, when it is the hash of the event before
 * it in its stream (a chained event's always is), is that event's very string: the log keeps
 * one copy of each hash, not two.
 */
const linkedParse = (text: string, before: StoredEvent | undefined): Json => {
  const metadata = JSON.parse(text) as Json;
  const hash = chainOf(before?.metadata)?.hash;
  if (hash !== undefined && chainOf(metadata)?.prevHash === hash)
    (metadata as { prevHash: string }).prevHash = hash;
  return deepFreeze(metadata);
};
