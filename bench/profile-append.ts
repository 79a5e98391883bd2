/**
 * Appends to profile or to compare two checkouts with: one caller awaiting `appendEvent` on
 * a SQLite store, 500 processes round-robin (as bench/append-sqlite.ts), N events (default
 * 20 000), in wall time and in CPU time.
 *
 *   node --import tsx bench/profile-append.ts [events] [full|normal]
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile-append.ts
 *   node --import tsx bench/profile-top.ts /tmp/prof/<file>.cpuprofile
 */
import { join } from 'node:path';
import { openRegistry } from '../src/index.ts';
import { fixedClock, lineRequest, processIds, registration } from './lib/fixtures.ts';
import { nowMs } from './lib/measure.ts';
import { withTempDir } from './lib/tmp.ts';

const events = Number(process.argv[2] ?? 20_000);
const synchronous = process.argv[3] === 'full' ? 'full' : 'normal';
await withTempDir(async (dir) => {
  const path = join(dir, 'append.db');
  const registry = await openRegistry(`sqlite:${path}?synchronous=${synchronous}`, {
    clock: fixedClock,
  });
  const ids = processIds('p', 500);
  for (const id of ids) await registry.registerProcess(registration(id));
  const start = nowMs();
  const cpu = process.cpuUsage();
  for (let i = 0; i < events; i++) await registry.appendEvent(ids[i % 500]!, lineRequest(i));
  const seconds = (nowMs() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  console.log(
    `${Math.round(events / seconds)} events/s, ${Math.round(events / cpuSeconds)} events per CPU second (synchronous=${synchronous})`,
  );
  await registry.close();
});
