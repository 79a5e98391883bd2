/**
 * Question 10, on EventStoreDB: does `asOf` with a `readModels=` file read the file's
 * versions (index lookups, whatever the point) instead of folding the log up to the point?
 *
 * The stand-in (not a server: see esdb-standin.ts) holds a log of processes (registered,
 * 20 lines in one append, half completed). Value: median ms of `listProcesses` (first
 * page) + `listNonTerminal` as of 10%, 50% and 90% of the log, on a registry whose read
 * models (and versions) live in a SQLite file. Baseline, same run, same points: a registry
 * of the same store without the file, whose `asOf` folds the log up to the point.
 */
import { join } from 'node:path';
import { openRegistry, type ProcessRegistry } from '../src/index.ts';
import { startStandIn } from './lib/esdb-standin-process.ts';
import { FIXED_NOW, lineRequest, processIds, registration } from './lib/fixtures.ts';
import { latencies } from './lib/measure.ts';
import type { Row } from './lib/result.ts';
import { comparedRow, runScenario } from './lib/scenario.ts';
import { median } from './lib/stats.ts';
import { withTempDir } from './lib/tmp.ts';

const SCENARIO = 'asOf, EventStoreDB with a models file (stand-in)';

await runScenario(SCENARIO, async ({ quick, log }) => {
  const processes = quick ? 100 : 600;
  const runs = quick ? 5 : 11;
  const standIn = await startStandIn();
  try {
    return await withTempDir(async (dir) => {
      let now = FIXED_NOW;
      const clock = () => now;
      const readModels = `sqlite:${join(dir, 'models.db')}`;
      const withFile = await openRegistry(standIn.connectionString, { clock, readModels });
      log('writing the log');
      const ids = processIds('p', processes);
      for (const [i, id] of ids.entries()) {
        await withFile.registerProcess(registration(id));
        await withFile.appendEvents(
          id,
          Array.from({ length: 20 }, (_, n) => lineRequest(n)),
        );
        if (i % 2 === 0) await withFile.completeProcess(id, { type: 'success', value: i });
        now += 10;
      }
      const positions: bigint[] = [];
      for await (const line of withFile.exportEvents()) {
        positions.push(BigInt((JSON.parse(line) as { position: string }).position));
      }
      const folding = await openRegistry(standIn.connectionString, { clock });
      const views = async (registry: ProcessRegistry, position: bigint) =>
        median(
          await latencies(runs, async () => {
            const view = registry.asOf({ position });
            await view.listProcesses();
            await view.listNonTerminal();
          }),
        );
      const rows: Row[] = [];
      for (const share of [0.1, 0.5, 0.9]) {
        const position = positions[Math.round(positions.length * share) - 1]!;
        await views(withFile, position); // warm-up
        const value = await views(withFile, position);
        const baseline = await views(folding, position);
        rows.push(
          comparedRow(
            SCENARIO,
            `asOf(${share * 100}% of the log): listProcesses (first page) + listNonTerminal, read models in a SQLite file`,
            value,
            'ms',
            {
              what: 'the same views folding the log up to the point (no models file)',
              value: baseline,
            },
            value / baseline,
            `${positions.length.toLocaleString('en')} events, ${processes} processes; ${runs} runs, fresh view each`,
          ),
        );
      }
      await folding.close();
      await withFile.close();
      return rows;
    });
  } finally {
    await standIn.stop();
  }
});
