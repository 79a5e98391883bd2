/**
 * A rebuild to profile or to compare two checkouts with: writes an events-only SQLite store
 * of N events (default 200 000; 20 per process, as bench/recovery.ts), then times the first
 * `openRegistry` on fresh copies of it (each builds the read models from the log), in wall
 * time and in CPU time: on a shared machine the CPU seconds per event compare better.
 *
 *   node --import tsx bench/profile-rebuild.ts [events] [--rounds N] [--chunk N]
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile-rebuild.ts
 *   node --import tsx bench/profile-top.ts /tmp/prof/<file>.cpuprofile
 */
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openRegistry } from '../src/index.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { fixedClock, processIds } from './lib/fixtures.ts';
import { nowMs } from './lib/measure.ts';
import {
  rebuildProcesses,
  recordTemplate,
  synthesizeAll,
  writeSqliteLog,
} from './lib/synthetic-log.ts';
import { withTempDir } from './lib/tmp.ts';

const args = process.argv.slice(2);
const option = (name: string): number | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : undefined;
};
const events = Number(
  args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--')) ?? 200_000,
);
const rounds = option('--rounds') ?? 2;
const chunk = option('--chunk');
const ids = processIds('p', events / 20);
const template = await recordTemplate();
await withTempDir(async (dir) => {
  const pristine = join(dir, 'pristine.db');
  writeSqliteLog(pristine, synthesizeAll(template, rebuildProcesses(ids)));
  for (let round = 0; round < rounds; round++) {
    const copy = join(dir, `copy-${round}.db`);
    copyFileSync(pristine, copy);
    const start = nowMs();
    const cpu = process.cpuUsage();
    const store = await openSqliteStore(copy, chunk === undefined ? {} : { catchUpChunk: chunk });
    const registry = await openRegistry(store, { clock: fixedClock });
    const seconds = (nowMs() - start) / 1000;
    const used = process.cpuUsage(cpu);
    await registry.close();
    rmSync(copy);
    const cpuSeconds = (used.user + used.system) / 1e6;
    console.log(
      `round ${round}: ${Math.round(events / seconds)} events/s, ${Math.round(events / cpuSeconds)} events per CPU second`,
    );
  }
});
