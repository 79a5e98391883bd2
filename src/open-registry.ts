import { CommandHandler } from './commands/handler.ts';
import { RegistryError } from './domain/errors.ts';
import { type ModelProgress, ProjectionRunner } from './projections/runner.ts';
import { ProcessRegistry } from './registry.ts';
import { defaultStoreUrl, openStore, openStoreFrom, type StoreOptions } from './store/open.ts';
import type { EventStore } from './store/port.ts';

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
 * the registry follows the log live.
 */
export const openRegistry = async (
  store?: string | StoreOptions | EventStore,
  options: RegistryOptions = {},
): Promise<ProcessRegistry> => {
  // checked before opening anything, so a bad option leaves no store open
  if (options.clock !== undefined && typeof options.clock !== 'function') {
    throw new RegistryError('invalid', 'options.clock must be a function returning epoch ms');
  }
  const { stateCacheSize } = options;
  if (stateCacheSize !== undefined && !(Number.isInteger(stateCacheSize) && stateCacheSize >= 0)) {
    throw new RegistryError('invalid', 'options.stateCacheSize must be a whole number ≥ 0');
  }
  const eventStore = isEventStore(store)
    ? store
    : typeof store === 'object' && store !== null
      ? await openStoreFrom(store)
      : await openStore(store ?? defaultStoreUrl());
  const clock = options.clock ?? Date.now;
  const runner = new ProjectionRunner(eventStore);
  try {
    await runner.start(options.onModelProgress);
  } catch (error) {
    await eventStore.close();
    throw error;
  }
  const handler = new CommandHandler({
    store: eventStore,
    clock,
    afterAppend: (position) => runner.catchUp(position),
    announce: (events) => runner.reader.announce(events),
    ...(eventStore.durabilityTier === 'durable' && eventStore.models
      ? { snapshots: eventStore.models.tables }
      : {}),
    ...(stateCacheSize !== undefined ? { cacheSize: stateCacheSize } : {}),
    ...(options.retryBudgetMs !== undefined ? { retryBudgetMs: options.retryBudgetMs } : {}),
  });
  return new ProcessRegistry({ store: eventStore, handler, runner, closed: false });
};

export type { EventStore, StoreOptions };
