import { pino } from 'pino';
import { openRegistry, type ProcessRegistry, type RegistryOptions } from '../../src/index.ts';
import { type RunningService, startService } from '../../src/service/server.ts';
import type { TokenTable } from '../../src/service/tokens.ts';
import type { EventStore } from '../../src/store/port.ts';

/** Request logs off in tests (set PROCREG_TEST_LOGS=1 to see them). */
export const quietLogger = () => pino({ level: process.env.PROCREG_TEST_LOGS ? 'info' : 'silent' });

/** A service on a free loopback port, in front of an in-process registry on `store`. */
export const serveOn = async (
  store: EventStore | string,
  options: RegistryOptions = {},
  tokens?: TokenTable,
): Promise<{ local: ProcessRegistry; service: RunningService; close(): Promise<void> }> => {
  const local = await openRegistry(store, options);
  const service = await startService({ registry: local, port: 0, tokens, logger: quietLogger() });
  return {
    local,
    service,
    close: async () => {
      await service.close();
      await local.close();
    },
  };
};

/**
 * A remote registry whose `close()` also stops the service behind it and that service's
 * registry: one instance for the conformance suite.
 */
export const remoteInstance = async (
  store: EventStore,
  options: RegistryOptions,
): Promise<ProcessRegistry> => {
  const served = await serveOn(store, options);
  const remote = await openRegistry(served.service.url);
  const closeRemote = remote.close.bind(remote);
  remote.close = async () => {
    await closeRemote();
    await served.close();
  };
  return remote;
};
