import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { openRegistry, type ProcessLease, type ProcessRegistry } from '../src/index.ts';
import { openEventStoreDbStore } from '../src/store/eventstoredb.ts';
import { MemoryEventStore } from '../src/store/memory.ts';
import { openStore } from '../src/store/open.ts';
import { registration } from './conformance/fixtures.ts';
import {
  command,
  compareVersionsWithReplay,
  domainCodes,
  run,
} from './support/command-sequences.ts';
import { startEsdbStandIn } from './support/esdb-standin.ts';
import { testPostgres } from './support/postgres-server.ts';

/**
 * Property: on the memory store, on PostgreSQL and on EventStoreDB (the stand-in) with a
 * models file (whose `asOf` listings come from their versioned tables, as SQLite's do in
 * read-models-property.test.ts; the models file's span log ordinals), the views as of every
 * position and every moment of the run equal a replay of the same log.
 */

const RUNS = Number(process.env.PROCREG_SOAK ? 300 : 25);

const found = await testPostgres('versions-property');
const server = 'server' in found ? found.server : undefined;
afterAll(() => server?.stop());

const property = async (open: (clock: () => number) => Promise<ProcessRegistry>) => {
  let commands = 0;
  let checks = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(command, { minLength: 10, maxLength: 50 }), async (sequence) => {
      const state = { now: 1_000, leases: [] as ProcessLease[] };
      const registry = await open(() => state.now);
      try {
        await registry.registerProcess(registration('a'));
        await registry.registerProcess(registration('b'));
        for (const c of sequence) {
          commands++;
          await run(registry, c, state).catch((error: { code?: string }) => {
            if (!domainCodes.has(error.code ?? '')) throw error;
          });
        }
        checks += await compareVersionsWithReplay(registry, state.now);
      } finally {
        await registry.close();
      }
    }),
    { numRuns: RUNS, seed: Number(process.env.PROCREG_SEED ?? 20261127) },
  );
  return { commands, checks };
};

describe('versioned asOf equals a replay of the log (property, fast-check)', () => {
  it(`on memory (${RUNS} runs)`, async () => {
    const store = () => new MemoryEventStore();
    const { commands, checks } = await property((clock) => openRegistry(store(), { clock }));
    console.log(`memory versions: ${commands} commands, ${checks} asOf points = replay`);
    expect(checks).toBeGreaterThan(RUNS * 10);
  }, 120_000);

  it.skipIf(!server)(
    `on PostgreSQL (${RUNS} runs)`,
    async () => {
      const schemas: (() => Promise<void>)[] = [];
      try {
        const { commands, checks } = await property(async (clock) => {
          const fresh = server!.freshSchema();
          schemas.push(fresh.drop);
          return openRegistry(await openStore(fresh.url), { clock });
        });
        console.log(`postgres versions: ${commands} commands, ${checks} asOf points = replay`);
        expect(checks).toBeGreaterThan(RUNS * 10);
      } finally {
        for (const drop of schemas) await drop();
      }
    },
    240_000,
  );

  it(`on EventStoreDB (the stand-in) with a models file (${RUNS} runs)`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'procreg-esdb-versions-'));
    const servers: { stop(): Promise<void> }[] = [];
    let files = 0;
    try {
      const { commands, checks } = await property(async (clock) => {
        const server = await startEsdbStandIn();
        servers.push(server);
        const store = await openEventStoreDbStore(server.connectionString);
        const readModels = `sqlite:${join(dir, `m${files++}.db`)}`;
        return openRegistry(store, { clock, readModels });
      });
      console.log(
        `esdb models-file versions: ${commands} commands, ${checks} asOf points = replay`,
      );
      expect(checks).toBeGreaterThan(RUNS * 10);
    } finally {
      for (const server of servers) await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
