/**
 * One side of an append A/B, in a process of its own (its own heap and JIT, so neither
 * side's garbage is collected on the other's time): opens a registry from the sources at
 * `<tree>`, registers the processes, then for each `{ n }` message appends `n` events
 * (round-robin) and replies `{ count, seconds, cpuSeconds, cpuTotalSeconds }`: the CPU time of
 * this process (all its threads) while it appended, and since it was ready.
 * Usage: append-child.ts <tree> <store url>
 */
import { join } from 'node:path';
import type { ProcessRegistry } from '../../src/index.ts';
import { fixedClock, lineRequest, processIds, registration } from './fixtures.ts';
import { timed } from './measure.ts';

const [tree, url] = process.argv.slice(2) as [string, string];
const PROCESSES = 500;
const { openRegistry } = (await import(join(tree, 'src/index.ts'))) as {
  openRegistry: (url: string, options: { clock: () => number }) => Promise<ProcessRegistry>;
};
const registry = await openRegistry(url, { clock: fixedClock });
const ids = processIds('p', PROCESSES);
for (const id of ids) await registry.registerProcess(registration(id));
let next = 0;
process.on('message', (message: { n?: number }) => {
  if (message.n === undefined) {
    void registry.close().then(() => process.exit(0));
    return;
  }
  const cpu = process.cpuUsage();
  void timed(message.n, () =>
    registry.appendEvent(ids[next % PROCESSES]!, lineRequest(next++)),
  ).then((result) => {
    const used = process.cpuUsage(cpu);
    const total = process.cpuUsage(ready);
    process.send?.({
      ...result,
      cpuSeconds: (used.user + used.system) / 1e6,
      cpuTotalSeconds: (total.user + total.system) / 1e6,
    });
  });
});
const ready = process.cpuUsage();
process.send?.({ ready: true });
