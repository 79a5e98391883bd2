/**
 * Retention on EventStoreDB (the gRPC stand-in in its own process: informational, it is not
 * a server): how fast does `pruneTerminalProcesses` take terminal processes out, archive
 * included (each stream read and written as a synced NDJSON file, the manifest, everything
 * read back and hashed; then each stream's last revision checked, the record appended and
 * one soft delete per stream, and the models purged from `$all`)?
 *
 * Value: processes per second of pruning every process of a freshly seeded namespace, 100
 * per prune. Baseline, same run, on another freshly seeded namespace: the archive step
 * alone (the same streams read and written through the same archive writer, synced, and the
 * manifest), nothing verified or removed. Ratio = prune / archive alone.
 *
 * Seeding goes through the registry (register, 3 lines, complete: 5 events per process),
 * outside the timed part. Each run seeds its own processes (a prune consumes them).
 */
import { join } from 'node:path';
import { openRegistry } from '../src/index.ts';
import { openEventStoreDbStore } from '../src/store/eventstoredb.ts';
import { startStandIn } from './lib/esdb-standin-process.ts';
import { FIXED_NOW, fixedClock, lineRequest, processIds, registration } from './lib/fixtures.ts';
import { collectGarbage, nowMs, paired, type RunPlan } from './lib/measure.ts';
import { archiveAlone, pruneAll, pruneRow } from './lib/prune.ts';
import { runScenario } from './lib/scenario.ts';
import { withTempDir } from './lib/tmp.ts';

const SCENARIO = 'retention (prune), EventStoreDB stand-in';
const PER_PRUNE = 100;
const LINES = 3;

await runScenario(SCENARIO, async ({ quick, log }) => {
  const processes = quick ? 100 : 300;
  const plan: RunPlan = quick ? { warmup: 0, runs: 1 } : { warmup: 1, runs: 3 };
  const standIn = await startStandIn();
  let batches = 0;
  try {
    return await withTempDir(async (dir) => {
      const registry = await openRegistry(standIn.connectionString, { clock: fixedClock });
      // the archive-alone baseline reads the streams through a store of its own
      const reader = await openEventStoreDbStore(standIn.connectionString);
      /** a fresh set of terminal processes (ids never used before in this log) */
      const seed = async (): Promise<string[]> => {
        batches += 1;
        const ids = processIds(`b${batches}-`, processes);
        for (const id of ids) {
          await registry.registerProcess(registration(id));
          for (let n = 0; n < LINES; n++) await registry.appendEvent(id, lineRequest(n));
          await registry.completeProcess(id, { type: 'success', value: 1 });
        }
        return ids;
      };
      const prune = async (): Promise<number> => {
        await seed();
        const archive = join(dir, `archive-${batches}`);
        collectGarbage();
        const { pruned, seconds } = await pruneAll(registry, archive, PER_PRUNE);
        if (pruned !== processes) throw new Error(`pruned ${pruned} of ${processes}`);
        log(`pruned ${pruned} in ${seconds.toFixed(2)} s`);
        return pruned / seconds;
      };
      const archiveOnly = async (): Promise<number> => {
        const ids = await seed();
        const archive = join(dir, `archive-${batches}`);
        collectGarbage();
        const start = nowMs();
        await archiveAlone(reader, ids, archive, PER_PRUNE);
        const seconds = (nowMs() - start) / 1000;
        // the next prune run takes these too: prune them now, untimed
        await registry.pruneTerminalProcesses({
          terminalBeforeMs: FIXED_NOW + 1,
          archiveTo: join(dir, 'untimed'),
          limit: 10_000,
        });
        return processes / seconds;
      };
      const rates = await paired(plan, prune, archiveOnly);
      await registry.close();
      await reader.close();
      return [
        pruneRow(
          SCENARIO,
          PER_PRUNE,
          rates,
          `stand-in, not a server: informational only. ${processes} processes of ${LINES + 2} events per run${quick ? ' (quick: 100, not 300)' : ''}; ${plan.runs} runs after ${plan.warmup} warm-up`,
        ),
      ];
    });
  } finally {
    await standIn.stop();
  }
});
