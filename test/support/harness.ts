import { openRegistry, type ProcessRegistry, type RegistryOptions } from '../../src/index.ts';
import { JOURNAL_STREAM_PREFIX } from '../../src/store/eventstoredb-journal.ts';
import { MemoryEventStore } from '../../src/store/memory.ts';
import type { DurabilityTier, EventStore, StoredEvent } from '../../src/store/port.ts';

/**
 * A backend the conformance suite runs on. `connect` gives a new connection to the same
 * backing store each call (a new SQLite handle, a new gRPC client), so two registries opened
 * on two connections are two independent instances sharing one log.
 */
export interface StoreHarness {
  connect(): Promise<EventStore>;
  dispose(): Promise<void>;
  /**
   * Rewrites a stored event in place, behind every connection's back (a repaired row);
   * absent where the store cannot (memory, a real EventStoreDB)
   */
  rewrite?(stream: string, revision: number, event: RawEvent): Promise<void>;
}

/** An event as a store's row holds it: what a repair writes. */
export interface RawEvent {
  type: string;
  data: unknown;
  metadata: unknown;
}

export type HarnessFactory = () => Promise<StoreHarness>;

export interface BackendUnderTest {
  name: string;
  durabilityTier: DurabilityTier;
  harness: HarnessFactory;
  /** options for each registry the suite opens (e.g. a read-models file of its own) */
  registryOptions?: () => RegistryOptions;
  /** a store that cannot remove streams (a namespaced test store): the suite checks the refusal */
  prunes?: false;
  /**
   * false: restoring an archive into the store it was pruned from is refused (`conflict`):
   * EventStoreDB before a scavenge still holds the pruned events' ids
   */
  restoresPruned?: false;
  /** how a registry instance is opened on a connection (default: `openRegistry` in-process) */
  openRegistry?: (store: EventStore, options: RegistryOptions) => Promise<ProcessRegistry>;
}

/** A clock the test moves by hand; every timestamp the registry writes comes from it. */
export class TestClock {
  now = 1_700_000_000_000;
  readonly read = (): number => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}

/** One memory store shared by several registries; closing a registry does not end it. */
export const memoryBackend: BackendUnderTest = {
  name: 'memory',
  durabilityTier: 'inline',
  harness: async () => {
    const shared = new MemoryEventStore();
    return {
      connect: async () => sharedView(shared),
      dispose: () => shared.close(),
    };
  },
};

/**
 * A registry's view of a shared store: closing it leaves the store open. `log only` hides the
 * store's models and versions, so a registry on it folds the feed into tables of its own
 * (as on EventStoreDB) and its `asOf` replays the log.
 */
export const sharedView = (
  store: EventStore,
  keep: 'models' | 'log only' = 'models',
): EventStore => ({
  durabilityTier: store.durabilityTier,
  // the store's inline models: every registry on it reads and writes the same tables
  ...(keep === 'models' && store.models ? { models: store.models } : {}),
  ...(keep === 'models' && store.versions ? { versions: store.versions } : {}),
  ...(store.journal ? { journal: store.journal } : {}),
  appendToStream: (...args) => store.appendToStream(...args),
  appendToStreams: (...args) => store.appendToStreams(...args),
  readStream: (...args) => store.readStream(...args),
  streamRevision: (...args) => store.streamRevision(...args),
  readAll: (...args) => store.readAll(...args),
  subscribeToAll: (...args) => store.subscribeToAll(...args),
  ...(store.deleteStreams ? { deleteStreams: (...args) => store.deleteStreams!(...args) } : {}),
  close: async () => {},
});

/** EventStoreDB's journal streams (`refused-<id>`) and their metadata streams. */
const isJournalStream = (stream: string): boolean =>
  stream.replace(/^\$\$/, '').startsWith(JOURNAL_STREAM_PREFIX);

export const readWholeLog = async (store: EventStore): Promise<StoredEvent[]> => {
  const events: StoredEvent[] = [];
  for await (const event of store.readAll()) events.push(event);
  return events;
};

/** Per-test state: the registry under test, its clock, and ways to look behind it. */
export class ConformanceContext {
  clock = new TestClock();
  private harness: StoreHarness | undefined;
  private readonly opened: ProcessRegistry[] = [];
  private current: ProcessRegistry | undefined;

  constructor(readonly backend: BackendUnderTest) {}

  get registry(): ProcessRegistry {
    if (!this.current) throw new Error('registry not opened');
    return this.current;
  }

  async setUp(): Promise<void> {
    this.clock = new TestClock();
    this.harness = await this.backend.harness();
    this.current = await this.open();
  }

  async tearDown(): Promise<void> {
    for (const registry of this.opened.splice(0)) await registry.close();
    await this.harness?.dispose();
  }

  /** Another registry instance on the same backing store (same clock unless given one). */
  async open(options: RegistryOptions = {}): Promise<ProcessRegistry> {
    const open = this.backend.openRegistry ?? openRegistry;
    const registry = await open(await this.connect(), {
      clock: this.clock.read,
      ...this.backend.registryOptions?.(),
      ...options,
    });
    this.opened.push(registry);
    return registry;
  }

  async connect(): Promise<EventStore> {
    if (!this.harness) throw new Error('harness not set up');
    return this.harness.connect();
  }

  /** Rewrites a stored event in place; false where the store cannot (see StoreHarness). */
  async rewrite(stream: string, revision: number, event: RawEvent): Promise<boolean> {
    if (!this.harness) throw new Error('harness not set up');
    if (!this.harness.rewrite) return false;
    await this.harness.rewrite(stream, revision, event);
    return true;
  }

  /**
   * The registry's stored log, read through a separate connection: every stream but the
   * journal of refused commands, which EventStoreDB keeps in streams of its own.
   */
  async log(): Promise<StoredEvent[]> {
    const store = await this.connect();
    try {
      return (await readWholeLog(store)).filter((e) => !isJournalStream(e.stream));
    } finally {
      await store.close();
    }
  }
}
