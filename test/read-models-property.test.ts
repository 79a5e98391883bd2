import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry, type ProcessLease, type ProcessRegistry } from '../src/index.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { registration } from './conformance/fixtures.ts';
import {
  command,
  compareVersionsWithReplay,
  domainCodes,
  run,
} from './support/command-sequences.ts';

/**
 * Property: whatever commands run, the read models a SQLite store persisted inline equal a
 * fresh rebuild of its log in memory (verifyProjections compares every row), and so do the
 * models of a second instance that only followed the file.
 */

const RUNS = Number(process.env.PROCREG_SOAK ? 500 : 40);

/** countEvents and recentEvents (read by index) agree with the full list of events. */
const compareCountsWithEvents = async (registry: ProcessRegistry) => {
  const types = ['producer.line', 'producer.wake', 'process.completed', 'process.cancelled'];
  for (const { id } of (await registry.listProcesses({}, { limit: 1000 })).records) {
    const events = await registry.eventsAfter(id, 0);
    for (const upToSequence of [0, 1, 3, 100]) {
      const upTo = events.filter((e) => e.sequence <= upToSequence);
      expect(await registry.countEvents(id, { upToSequence })).toBe(upTo.length);
      for (const eventType of types) {
        const count = await registry.countEvents(id, { eventType, upToSequence });
        expect(count, `${id} ${eventType} ≤ ${upToSequence}`).toBe(
          upTo.filter((e) => e.eventType === eventType).length,
        );
      }
    }
    for (const limit of [1, 2, 5]) {
      expect(await registry.recentEvents(id, limit)).toEqual(events.slice(-limit));
    }
  }
};

let versionChecks = 0;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'procreg-prop-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('persisted read models (property, fast-check)', () => {
  it(`equal a fresh rebuild of the log after any command sequence (${RUNS} runs)`, async () => {
    let file = 0;
    let commands = 0;
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 10, maxLength: 60 }), async (sequence) => {
        const url = `sqlite:${join(dir, `p${file++}.db`)}`;
        const state = { now: 1_000, leases: [] as ProcessLease[] };
        const registry = await openRegistry(url, { clock: () => state.now });
        const follower = await openRegistry(url, { clock: () => state.now });
        try {
          // most commands need a registered process: register two of the three up front
          await registry.registerProcess(registration('a'));
          await registry.registerProcess(registration('b'));
          for (const c of sequence) {
            commands++;
            await run(registry, c, state).then(
              () => accepted++,
              (error: { code?: string }) => {
                if (!domainCodes.has(error.code ?? '')) throw error;
              },
            );
          }
          expect(await registry.verifyProjections()).toEqual([]);
          await compareCountsWithEvents(follower);
          expect(await follower.verifyProjections()).toEqual([]);
          expect(await follower.listProcesses()).toEqual(await registry.listProcesses());
          versionChecks += await compareVersionsWithReplay(registry, state.now);
          // a rebuild writes the same rows and versions, in chunks of 3 events: most
          // versions begin in one chunk (transaction) and end in a later one
          const store = await openSqliteStore(join(dir, `p${file - 1}.db`), { catchUpChunk: 3 });
          const rebuilt = await openRegistry(store, { clock: () => state.now });
          try {
            await rebuilt.rebuildProjections();
            expect(await rebuilt.verifyProjections()).toEqual([]);
            versionChecks += await compareVersionsWithReplay(rebuilt, state.now);
          } finally {
            await rebuilt.close();
          }
        } finally {
          await follower.close();
          await registry.close();
        }
      }),
      { numRuns: RUNS, seed: Number(process.env.PROCREG_SEED ?? 20261127) },
    );
    console.log(
      `read-model property: ${RUNS} sequences, ${commands} commands (${accepted} accepted), ${versionChecks} asOf points versions = replay, 0 differences`,
    );
    expect(accepted).toBeGreaterThan(commands / 3);
  }, 240_000);
});
