import type { Observable, Subscription } from 'rxjs';
import type { RecordedDomainEvent } from '../domain/codec.ts';
import { MemoryTables } from '../store/memory-tables.ts';
import type { EventStore, Position, StoredEvent } from '../store/port.ts';
import type { ReadModelTables } from '../store/read-model-tables.ts';
import { EventDispatch } from './event-dispatch.ts';
import { EventReader } from './event-reader.ts';
import { foldLog } from './fold-log.ts';
import { advanceDigest, PrunedSteps } from './log-digest.ts';
import { applyInput, inlineProjection, type ModelInput, readModelInput } from './project.ts';

const RESUBSCRIBE_AFTER_MS = 1_000;

const positionOf = (input: ModelInput): Position =>
  'process' in input ? input.process.position : input.prune.position;
/** Events folded per transaction when the runner feeds its own tables. */
const PAGE = 500;

export interface ModelProgress {
  done: Position;
  head: Position;
}

/**
 * Keeps the read models current and publishes each event to `dispatch` (which hands it to
 * its own process's waiters and feeds, and to `applied$`) once it is in the models.
 *
 * Where the models live:
 * - stores with inline models (memory, SQLite) update them in their append transactions;
 *   the runner attaches the projection, brings the tables up once when they are behind the
 *   log (a file from an older release, rows written around procreg), and only publishes;
 * - other stores (EventStoreDB): the runner folds the store's feed into tables of its own.
 *
 * Invariant: every event is published exactly once, in position order, with no gaps, after
 * the models hold it. Events reach the runner along several paths (the live subscription,
 * catch-up reads after our own appends and before queries); each delivers a contiguous,
 * ordered run of the log, and an event at or below `published` is dropped, so whichever
 * path delivers an event first publishes it. An event that cannot be read stops the
 * runner before it: nothing after it is published or applied until it becomes readable.
 */
export class ProjectionRunner {
  readonly tables: ReadModelTables;
  readonly reader = new EventReader();
  private readonly inline: boolean;
  private published: Position;
  /** routes each published event to its own process's listeners (waiters, feeds) */
  readonly dispatch = new EventDispatch();
  private subscription: Subscription | undefined;
  private failure: Error | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;
  /** what prunes removed, for folds from before them (loaded at start and rebuild) */
  private readonly pruned = new PrunedSteps();

  constructor(
    private readonly store: EventStore,
    tables?: ReadModelTables,
  ) {
    this.inline = store.models !== undefined;
    this.tables = store.models?.tables ?? tables ?? new MemoryTables();
    store.models?.attach(inlineProjection(this.reader, this.pruned));
    if (!store.models) store.attachProjection?.(inlineProjection(this.reader, this.pruned));
    // tables the runner feeds may be persisted (a models file): resume after their checkpoint
    this.published = this.tables.checkpoint();
  }

  /** Events as they are applied to the read models (after the models changed). */
  get applied$(): Observable<RecordedDomainEvent> {
    return this.dispatch.all$;
  }

  get subscriberCount(): number {
    return this.dispatch.listenerCount;
  }

  /** Position of the last event published (and in the models). */
  get position(): Position {
    return this.published;
  }

  /**
   * Brings the models up to the log (for inline models: only what they are behind, which
   * is nothing unless the file predates them), then follows the log live from there.
   */
  async start(onProgress?: (progress: ModelProgress) => void): Promise<void> {
    await this.pruned.load(this.store);
    await this.ensureModels(onProgress);
    // history is in the models; waiters hear only what comes after opening
    if (this.inline) this.published = this.tables.checkpoint();
    this.follow();
  }

  /**
   * Inline models behind the log are caught up by the store, in committed chunks. Cheap
   * when current (two indexed lookups), which is always, unless something wrote around
   * procreg. Throws `unavailable` at an event that cannot be read.
   */
  async ensureModels(onProgress?: (progress: ModelProgress) => void): Promise<void> {
    const models = this.store.models;
    if (!models) {
      await this.catchUp();
      return;
    }
    if (models.current()) return;
    await models.catchUp(onProgress && { onProgress: (done, head) => onProgress({ done, head }) });
  }

  /**
   * Empties the read models and folds the whole log into them again. Inline models are
   * rebuilt by the store in committed chunks (a crash resumes where it stopped); tables the
   * runner feeds are refolded up to what it has published.
   */
  async rebuild(onProgress?: (progress: ModelProgress) => void): Promise<void> {
    await this.pruned.load(this.store);
    const models = this.store.models;
    if (models) {
      await models.catchUp({
        rebuild: true,
        ...(onProgress ? { onProgress: (done, head) => onProgress({ done, head }) } : {}),
      });
      return;
    }
    const head = this.published;
    this.tables.clear();
    await foldLog(this.store, this.tables, this.reader, {
      upTo: head,
      ...(onProgress ? { onEvent: (r) => onProgress({ done: r.position, head }) } : {}),
    });
  }

  /**
   * Subscribes to the log after the last published position. When the feed fails for good
   * (the adapters already retry transient drops) or meets an unreadable event, it tries
   * again from there after a pause; queries never depend on it (they read the models).
   */
  private follow(): void {
    if (this.stopped) return;
    this.subscription = this.store.subscribeToAll({ fromPosition: this.published }).subscribe({
      next: (stored) => {
        try {
          if (this.deliver(stored)) return;
          // written around procreg: the models take it in before anyone hears of it
          this.subscription?.unsubscribe();
          this.ensureModels().then(
            () => this.follow(),
            (error: Error) => this.halt(error),
          );
        } catch (error) {
          this.subscription?.unsubscribe();
          this.halt(error as Error);
        }
      },
      error: (error: Error) => this.halt(error),
    });
  }

  private halt(error: Error): void {
    this.failure = error;
    if (this.stopped) return;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => this.follow(), RESUBSCRIBE_AFTER_MS);
    this.retry.unref();
  }

  /**
   * Publishes what the log holds after the last published position. With `to`, returns as
   * soon as that position is published (usually at once: the live feed got there first).
   * Tables the runner feeds take the log a page per transaction.
   */
  async catchUp(to?: Position): Promise<void> {
    if (to !== undefined && this.published >= to) return;
    let page: StoredEvent[] = [];
    for await (const stored of this.store.readAll({ fromPosition: this.published })) {
      if (this.inline) {
        // the store's catch-up projects past this event (or throws), so this ends
        while (!this.deliver(stored)) await this.ensureModels();
      } else {
        page.push(stored);
        if (page.length < PAGE && (to === undefined || stored.position < to)) continue;
        this.deliverPage(page);
        page = [];
      }
      if (to !== undefined && this.published >= to) return;
    }
    this.deliverPage(page);
  }

  /** Why the live feed last failed, while it has not recovered. */
  get liveFeedError(): Error | undefined {
    return this.failure;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.subscription?.unsubscribe();
    this.dispatch.close();
  }

  /** False when inline models do not hold the event yet (it was written around procreg). */
  private deliver(stored: StoredEvent): boolean {
    if (this.inline) {
      if (stored.position <= this.published) return true;
      if (stored.position > this.tables.checkpoint()) return false;
      const input = readModelInput(this.reader, stored);
      if (input) this.publish([input]);
    } else {
      this.deliverPage([stored]);
    }
    return true;
  }

  /**
   * Folds a run of the log into tables the runner feeds, in one transaction with the
   * checkpoint, then publishes it. An unreadable event ends the run: what precedes it is
   * kept, and the error stops the caller there.
   */
  private deliverPage(page: readonly StoredEvent[]): void {
    const inputs: ModelInput[] = [];
    const read: StoredEvent[] = [];
    let unreadable: unknown;
    for (const stored of page) {
      if (stored.position <= this.published) continue;
      try {
        const input = readModelInput(this.reader, stored);
        if (input) inputs.push(input);
        if (input && 'process' in input) read.push(stored);
      } catch (error) {
        unreadable = error;
        break;
      }
    }
    if (inputs.length > 0) {
      this.tables.transaction(() => {
        for (const input of inputs) applyInput(this.tables, input);
        advanceDigest(this.tables, read, this.pruned, positionOf(inputs.at(-1)!));
        this.tables.setCheckpoint(positionOf(inputs.at(-1)!));
      });
      this.publish(inputs);
    }
    if (unreadable) throw unreadable;
  }

  /** Process events go to their listeners; a prune only moves the published position. */
  private publish(inputs: readonly ModelInput[]): void {
    for (const input of inputs) {
      this.published = positionOf(input);
      this.failure = undefined;
      if ('process' in input) this.dispatch.publish(input.process);
    }
  }
}
