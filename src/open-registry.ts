import { CommandHandler } from './commands/handler.ts';
import type { Lookups } from './commands/lookups.ts';
import { RegistryError } from './domain/errors.ts';
import { type ModelProgress, ProjectionRunner } from './projections/runner.ts';
import { ProcessRegistry } from './registry.ts';
import {
  defaultStoreUrl,
  openStore,
  openStoreFrom,
  type StoreOptions,
  splitReadModels,
} from './store/open.ts';
import type { EventStore } from './store/port.ts';
import type { ReadModelTables } from './store/read-model-tables.ts';
import type { openModelsFile } from './store/sqlite-models-file.ts';

export interface RegistryOptions {
  /** epoch ms; drives every timestamp the registry writes, lease expiry included */
  clock?: () => number;
  /** how long a command keeps retrying conflicts with other instances (default 10 s) */
  retryBudgetMs?: number;
  /**
   * Progress of building the read models when the store's are behind its log: once, when
   * a file written by procreg 0.1 (events only) is first opened by this release.
   */
  onModelProgress?: (progress: ModelProgress) => void;
  /** how many folded process states the command handler keeps (default 20 000) */
  stateCacheSize?: number;
  /**
   * A SQLite file for the read models of a store that keeps none itself (EventStoreDB;
   * also `readModels=sqlite:<path>` in its URL): a restart then reads only what is new.
   */
  readModels?: string;
  /** bearer token for an `http(s)://` service URL (default: env PROCREG_TOKEN) */
  token?: string;
  /** for an `https://` service: a CA certificate (PEM) to trust besides the system's */
  ca?: string;
}

const isEventStore = (store: unknown): store is EventStore =>
  typeof store === 'object' &&
  store !== null &&
  typeof (store as Partial<EventStore>).appendToStream === 'function';

/**
 * Opens a registry on a store URL (default: env PROCREG_STORE, else sqlite:./procreg.db),
 * on store options (`{ kind: 'sqlite', path }`, `{ kind: 'memory' }`, `{ kind: 'esdb',
 * connectionString }`, `{ url }`) or on an already open EventStore. Durable stores keep
 * their read models next to the events, so opening reads only their checkpoint; models in
 * memory (EventStoreDB) are folded from the store's log before the promise resolves. Then
 * the registry follows the log live. An `http://` or `https://` URL connects to a procreg
 * service (`procreg serve`) with `options.token`.
 */
export const openRegistry = async (
  store?: string | StoreOptions | EventStore,
  options: RegistryOptions = {},
): Promise<ProcessRegistry> => {
  // checked before opening anything, so a bad option leaves no store open
  if (options.clock !== undefined && typeof options.clock !== 'function') {
    throw new RegistryError('invalid', 'options.clock must be a function returning epoch ms');
  }
  const serviceUrl = serviceUrlOf(store ?? defaultStoreUrl());
  if (serviceUrl !== undefined) {
    if (options.clock !== undefined) {
      throw new RegistryError(
        'invalid',
        'a procreg service uses its own clock; drop options.clock',
      );
    }
    // The remote registry has the same public surface; TypeScript treats the class type as
    // nominal (private members), hence the cast at this one place.
    // the HTTP client loads only for a service URL, like every store driver
    const { openRemoteRegistry } = await import('./service/remote-open.ts');
    return (await openRemoteRegistry(serviceUrl, options)) as unknown as ProcessRegistry;
  }
  const { stateCacheSize } = options;
  if (stateCacheSize !== undefined && !(Number.isInteger(stateCacheSize) && stateCacheSize >= 0)) {
    throw new RegistryError('invalid', 'options.stateCacheSize must be a whole number ≥ 0');
  }
  const { retryBudgetMs, onModelProgress } = options;
  if (retryBudgetMs !== undefined && !(Number.isFinite(retryBudgetMs) && retryBudgetMs >= 0)) {
    throw new RegistryError('invalid', 'options.retryBudgetMs must be a number of ms ≥ 0');
  }
  if (onModelProgress !== undefined && typeof onModelProgress !== 'function') {
    throw new RegistryError('invalid', 'options.onModelProgress must be a function');
  }
  const { target, readModels: fromStore } = modelsFileOf(store ?? defaultStoreUrl());
  const readModels = fromStore ?? options.readModels?.replace(/^sqlite:/, '');
  const eventStore = isEventStore(target)
    ? target
    : typeof target === 'string'
      ? await openStore(target)
      : await openStoreFrom(target);
  let modelsFile: ReturnType<typeof openModelsFile> | undefined;
  let runner: ProjectionRunner;
  try {
    if (readModels !== undefined) {
      if (eventStore.models) {
        throw new RegistryError(
          'invalid',
          'readModels is for stores that keep no read models (EventStoreDB, PostgreSQL); memory and SQLite stores keep their own',
        );
      }
      // loaded on demand, like every store driver: only this option needs SQLite here
      const { openModelsFile } = await import('./store/sqlite-models-file.ts');
      modelsFile = openModelsFile(readModels, eventStore.source ?? 'an unnamed event store', {
        // asOf reads the store's own versions where it keeps them (PostgreSQL's schema)
        versions: eventStore.versions === undefined,
      });
    }
    runner = new ProjectionRunner(eventStore, modelsFile?.tables);
    await runner.start(options.onModelProgress);
  } catch (error) {
    modelsFile?.close();
    await eventStore.close();
    throw error;
  }
  const clock = options.clock ?? Date.now;
  const persisted = eventStore.models?.tables ?? modelsFile?.tables;
  let closed = (): boolean => false;
  const handler = new CommandHandler({
    store: eventStore,
    clock,
    isClosed: () => closed(),
    afterAppend: (position) => runner.catchUp(position),
    announce: (events) => runner.reader.announce(events),
    ...(eventStore.durabilityTier === 'durable' && persisted ? { snapshots: persisted } : {}),
    // only models committed with the events can stand in for the state (see lookups.ts)
    ...(eventStore.durabilityTier === 'durable' && eventStore.models
      ? { lookups: lookupsIn(eventStore.models.tables) }
      : {}),
    ...(eventStore.journal ? { journal: eventStore.journal } : {}),
    ...(stateCacheSize !== undefined ? { cacheSize: stateCacheSize } : {}),
    ...(options.retryBudgetMs !== undefined ? { retryBudgetMs: options.retryBudgetMs } : {}),
  });
  const core = {
    store: eventStore,
    handler,
    runner,
    clock,
    closed: false,
    release: () => modelsFile?.close(),
  };
  closed = () => core.closed;
  return new ProcessRegistry(core);
};

/** Replay keys and unacked wakes read from the store's own tables. */
const lookupsIn = (tables: ReadModelTables): Lookups => ({
  replay: (processId, key) => {
    const found = tables.replay(processId, key);
    const [event] = found ? tables.eventsAt(processId, [found.sequence]) : [];
    return found && event && { event, payloadHash: found.payloadHash };
  },
  unackedWake: (processId, sequence) =>
    tables.unackedWakes(processId, sequence - 1)[0] === sequence,
});

/** The URL of a procreg service (`http(s)://…`, as a string or `{ url }`), else undefined. */
const serviceUrlOf = (store: string | StoreOptions | EventStore): string | undefined => {
  const url =
    typeof store === 'string'
      ? store
      : !isEventStore(store) && 'url' in store && typeof store.url === 'string'
        ? store.url
        : undefined;
  return url !== undefined && /^https?:\/\//i.test(url) ? url : undefined;
};

/** An EventStoreDB or PostgreSQL store named with a read-models file: the store, and the file apart. */
const modelsFileOf = (
  store: string | StoreOptions | EventStore,
): { target: string | StoreOptions | EventStore; readModels?: string | undefined } => {
  if (typeof store === 'string') {
    const { url, readModels } = splitReadModels(store);
    return { target: url, readModels: readModels?.replace(/^sqlite:/, '') };
  }
  if (
    isEventStore(store) ||
    !('kind' in store) ||
    (store.kind !== 'esdb' && store.kind !== 'postgres')
  ) {
    return { target: store };
  }
  const { readModels, ...rest } = store;
  return { target: rest, readModels: readModels?.replace(/^sqlite:/, '') };
};

export type { EventStore, StoreOptions };
