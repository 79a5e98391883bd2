import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe } from 'vitest';
import { openEventStoreDbStore } from '../src/store/eventstoredb.ts';
import { describeConformance } from './support/conformance.ts';
import { startEsdbStandIn } from './support/esdb-standin.ts';
import type { HarnessFactory } from './support/harness.ts';
import { namespacedStore } from './support/namespaced-store.ts';

const fast = {
  operationTimeoutMs: 5_000,
  resubscribe: { maxAttempts: 6, initialDelayMs: 25, maxDelayMs: 200 },
};

/**
 * The full registry conformance suite through the real `@eventstore/db-client` over gRPC to
 * the in-process stand-in (a fresh one per test): this is what runs in `npm test`.
 */
const standIn: HarnessFactory = async () => {
  const server = await startEsdbStandIn();
  return {
    connect: () => openEventStoreDbStore(server.connectionString, fast),
    dispose: () => server.stop(),
    rewrite: async (stream, revision, event) => server.rewriteDirect(stream, revision, event),
  };
};

describeConformance({
  name: 'eventstoredb via the gRPC stand-in',
  durabilityTier: 'durable',
  harness: standIn,
  restoresPruned: false,
});

/**
 * Again with each registry's read models in a SQLite file of its own (readModels=), fed
 * from `$all` after the file's checkpoint instead of folded in memory.
 */
const modelsDir = mkdtempSync(join(tmpdir(), 'procreg-esdb-conformance-'));
afterAll(() => rmSync(modelsDir, { recursive: true, force: true }));
let modelsFiles = 0;
describeConformance({
  name: 'eventstoredb via the gRPC stand-in, read models in SQLite files',
  durabilityTier: 'durable',
  harness: standIn,
  restoresPruned: false,
  registryOptions: () => ({ readModels: `sqlite:${join(modelsDir, `m${modelsFiles++}.db`)}` }),
});

/**
 * The same suite against a real server when EVENTSTORE_URL is set (reported as skipped
 * otherwise). Each test works in its own stream namespace, since the server is shared.
 */
const realServer = process.env.EVENTSTORE_URL;
describe.skipIf(!realServer)('real EventStoreDB at EVENTSTORE_URL', () => {
  describeConformance({
    name: 'eventstoredb (real server)',
    durabilityTier: 'durable',
    // the namespaced store (one namespace per test on a shared server) cannot remove
    // streams: its prefixed names would hide the retention stream from the adapter
    prunes: false,
    harness: async () => {
      const namespace = randomUUID().replaceAll('-', '');
      return {
        connect: async () =>
          namespacedStore(await openEventStoreDbStore(realServer!, fast), namespace),
        dispose: async () => {},
      };
    },
  });
});
