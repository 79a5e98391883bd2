/**
 * The other OS process of the cross-process waiter benchmark: opens a registry on the same
 * SQLite file and, on request, waits for an event and reports the monotonic time it saw
 * it (CLOCK_MONOTONIC is shared by all processes on the machine).
 */
import { openRegistry, type ProcessRegistry } from '../../src/index.ts';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import { fixedClock } from './fixtures.ts';
import { type FromChild, type ToChild, waitFor } from './waiters.ts';

let registry: ProcessRegistry | undefined;

const send = (message: FromChild): void => {
  process.send?.(message);
};

process.on('message', (message: ToChild) => {
  void handle(message).catch((error: unknown) => {
    send({ type: 'failed', message: (error as Error).message });
  });
});

async function handle(message: ToChild): Promise<void> {
  switch (message.type) {
    case 'open': {
      const store =
        message.pollIntervalMs === undefined
          ? message.url
          : await openSqliteStore(message.url.slice('sqlite:'.length), {
              pollIntervalMs: message.pollIntervalMs,
            });
      registry = await openRegistry(store, { clock: fixedClock });
      send({ type: 'opened' });
      return;
    }
    case 'wait': {
      if (!registry) throw new Error('wait before open');
      const seen = waitFor(registry, message.mode, message.processId, message.after);
      send({ type: 'ready' });
      send({ type: 'resolved', at: await seen });
      return;
    }
    case 'close':
      await registry?.close();
      process.disconnect();
      return;
  }
}
