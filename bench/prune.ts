/**
 * Retention: how fast does `pruneTerminalProcesses` take terminal processes out of a SQLite
 * store, archive included (each process's stream read and written as a synced NDJSON file,
 * the manifest written, everything read back and hashed, then the streams, their rows and
 * their versions removed with the prune's record in one transaction per prune)?
 *
 * Value: processes per second of pruning every process of a fresh copy of the store, 500
 * per prune. Baseline, same run, on another fresh copy: the archive step alone (the same
 * streams read and written through the same archive writer, synced, and the manifest),
 * with nothing verified and nothing removed. Ratio = prune / archive alone (1.0: verifying
 * and removing would cost nothing).
 *
 * The store is written directly (lib/synthetic-log.ts): 20 domain events per process, all
 * completed (every one qualifies).
 */
import { closeSync, copyFileSync, fsyncSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openRegistry } from '../src/index.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { fixedClock, processIds } from './lib/fixtures.ts';
import { collectGarbage, nowMs, paired, type RunPlan } from './lib/measure.ts';
import { archiveAlone, pruneAll, pruneRow } from './lib/prune.ts';
import { runScenario } from './lib/scenario.ts';
import { recordTemplate, synthesizeAll, writeSqliteLog } from './lib/synthetic-log.ts';
import { withTempDir } from './lib/tmp.ts';

const SCENARIO = 'retention (prune), SQLite';
const PER_PRUNE = 500;

await runScenario(SCENARIO, async ({ quick, log }) => {
  const processes = quick ? 500 : 2_000;
  const plan: RunPlan = quick ? { warmup: 0, runs: 1 } : { warmup: 1, runs: 2 };
  const ids = processIds('p', processes);
  const template = await recordTemplate();
  return withTempDir(async (dir) => {
    const pristine = join(dir, 'pristine.db');
    log(`writing ${processes} processes`);
    const events = writeSqliteLog(
      pristine,
      synthesizeAll(
        template,
        ids.map((id, i) => ({
          id,
          lines: 14,
          grantSessions: [`session-${i % 100}`],
          lease: true,
          complete: true,
        })),
      ),
    );
    // the first open builds the read models (and versions) into the file
    await (await openRegistry(`sqlite:${pristine}`, { clock: fixedClock })).close();
    let copies = 0;
    const freshCopy = (): { url: string; path: string; archive: string } => {
      copies += 1;
      const path = join(dir, `copy-${copies}.db`);
      copyFileSync(pristine, path);
      // flushed before timing: else the first fsync of the timed part pays for the copy
      const fd = openSync(path, 'r+');
      fsyncSync(fd);
      closeSync(fd);
      return { url: `sqlite:${path}`, path, archive: join(dir, `archive-${copies}`) };
    };
    const done = (copy: { path: string; archive: string }) => {
      for (const suffix of ['', '-wal', '-shm', '-wake'])
        rmSync(`${copy.path}${suffix}`, { force: true });
      rmSync(copy.archive, { recursive: true, force: true });
    };
    const prune = async (): Promise<number> => {
      const copy = freshCopy();
      const registry = await openRegistry(copy.url, { clock: fixedClock });
      collectGarbage();
      const { pruned, seconds } = await pruneAll(registry, copy.archive, PER_PRUNE);
      await registry.close();
      done(copy);
      if (pruned !== processes) throw new Error(`pruned ${pruned} of ${processes}`);
      log(`pruned ${pruned} in ${seconds.toFixed(2)} s`);
      return pruned / seconds;
    };
    const archiveOnly = async (): Promise<number> => {
      const copy = freshCopy();
      const store = await openSqliteStore(copy.path);
      collectGarbage();
      const start = nowMs();
      await archiveAlone(store, ids, copy.archive, PER_PRUNE);
      const seconds = (nowMs() - start) / 1000;
      await store.close();
      done(copy);
      return processes / seconds;
    };
    const rates = await paired(plan, prune, archiveOnly);
    return [
      pruneRow(
        SCENARIO,
        PER_PRUNE,
        rates,
        `${processes.toLocaleString('en')} processes, ${events.toLocaleString('en')} events, 20 per process${quick ? ' (quick: 500, not 2k)' : ''}; ${plan.runs} runs after ${plan.warmup} warm-up`,
      ),
    ];
  });
});
