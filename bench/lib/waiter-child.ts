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
      const { pollIntervalMs, watchFile } = message;
      const store =
        pollIntervalMs === undefined && watchFile === undefined
          ? message.url
          : await openSqliteStore(message.url.slice('sqlite:'.length), {
              ...(pollIntervalMs !== undefined ? { pollIntervalMs } : {}),
              ...(watchFile !== undefined ? { watchFile } : {}),
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
    case 'idle': {
      if (!registry) throw new Error('idle before open');
      const controller = new AbortController();
      const pending = registry
        .waitEventAfter(message.processId, 'producer.line', Number.MAX_SAFE_INTEGER - 1, {
          signal: controller.signal,
        })
        .catch(() => undefined);
      const before = process.cpuUsage();
      await new Promise((resolve) => setTimeout(resolve, message.ms));
      const used = process.cpuUsage(before);
      controller.abort();
      await pending;
      send({ type: 'idled', cpuMs: (used.user + used.system) / 1000 });
      return;
    }
    case 'close':
      await registry?.close();
      process.disconnect();
      return;
  }
}
