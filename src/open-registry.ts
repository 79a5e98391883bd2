import { CommandHandler } from './commands/handler.ts';
import { RegistryError } from './domain/errors.ts';
import { ProjectionRunner } from './projections/runner.ts';
import { ProcessRegistry } from './registry.ts';
import { defaultStoreUrl, openStore, openStoreFrom, type StoreOptions } from './store/open.ts';
import type { EventStore } from './store/port.ts';

export interface RegistryOptions {
  /** epoch ms; drives every timestamp the registry writes, lease expiry included */
  clock?: () => number;
  /** how long a command keeps retrying conflicts with other instances (default 10 s) */
  retryBudgetMs?: number;
}

const isEventStore = (store: unknown): store is EventStore =>
  typeof store === 'object' &&
  store !== null &&
  typeof (store as Partial<EventStore>).appendToStream === 'function';

/**
 * Opens a registry on a store URL (default: env PROCREG_STORE, else sqlite:./procreg.db),
 * on store options (`{ kind: 'sqlite', path }`, `{ kind: 'memory' }`, `{ kind: 'esdb',
 * connectionString }`, `{ url }`) or on an already open EventStore. The read models are rebuilt from the store's log before
 * the promise resolves, then follow it live.
 */
export const openRegistry = async (
  store?: string | StoreOptions | EventStore,
  options: RegistryOptions = {},
): Promise<ProcessRegistry> => {
  // checked before opening anything, so a bad option leaves no store open
  if (options.clock !== undefined && typeof options.clock !== 'function') {
    throw new RegistryError('invalid', 'options.clock must be a function returning epoch ms');
  }
  const eventStore = isEventStore(store)
    ? store
    : typeof store === 'object' && store !== null
      ? await openStoreFrom(store)
      : await openStore(store ?? defaultStoreUrl());
  const clock = options.clock ?? Date.now;
  const runner = new ProjectionRunner(eventStore);
  try {
    await runner.start();
  } catch (error) {
    await eventStore.close();
    throw error;
  }
  const handler = new CommandHandler({
    store: eventStore,
    clock,
    afterAppend: (position) => runner.catchUp(position),
    announce: (events) => runner.announce(events),
    ...(options.retryBudgetMs !== undefined ? { retryBudgetMs: options.retryBudgetMs } : {}),
  });
  return new ProcessRegistry({ store: eventStore, handler, runner, closed: false });
};

export type { EventStore, StoreOptions };
