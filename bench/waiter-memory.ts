/**
 * Question 9 (issue #15): how much memory does an open waiter hold?
 *
 * Value: heap added per open waiter, after full GCs, for each kind of waiter, each on its own
 * process (memory store), including the promise the caller holds; the callers'
 * AbortControllers are made beforehand and not counted. Baseline, same run: a waiter of the
 * design before #15 (bench/lib/legacy-waiter.ts: a filtered subscription to the global feed,
 * an RxJS timer and abort listener of its own) with the same options.
 */
import { openRegistry, type ProcessRegistry } from '../src/index.ts';
import { MemoryEventStore } from '../src/store/memory.ts';
import { fixedClock, processIds, registration } from './lib/fixtures.ts';
import { legacyAwaitProcess } from './lib/legacy-waiter.ts';
import { collectGarbage, tick } from './lib/measure.ts';
import type { Row } from './lib/result.ts';
import { comparedRow, runScenario } from './lib/scenario.ts';

const SCENARIO = 'waiters at scale';

const until = async (condition: () => boolean): Promise<void> => {
  while (!condition()) await tick();
};

/**
 * Heap added per open waiter (bytes), after full GCs: each measurement opens a registry of its
 * own on the shared store (so no waiter shares a process's channel with an earlier one) and
 * leaves it open; only differences are measured.
 */
const heapPerWaiter = async (
  store: MemoryEventStore,
  ids: readonly string[],
  open: (registry: ProcessRegistry, id: string, signal: AbortSignal) => unknown,
): Promise<number> => {
  const registry = await openRegistry(store, { clock: fixedClock });
  // Node makes a controller's signal on first access: made here, so it is not counted
  const signals = ids.map(() => new AbortController().signal);
  const keep: unknown[] = new Array(ids.length);
  const settle = async (listening: number) => {
    await until(() => registry.diagnostics().feedSubscribers >= listening);
    collectGarbage();
    collectGarbage();
    return process.memoryUsage().heapUsed;
  };
  // the first quarter warms up (code, maps growing), the rest is measured
  const quarter = ids.length >> 2;
  for (let i = 0; i < quarter; i++) keep[i] = open(registry, ids[i]!, signals[i]!);
  const before = await settle(quarter);
  for (let i = quarter; i < ids.length; i++) {
    keep[i] = open(registry, ids[i]!, signals[i]!);
  }
  const after = await settle(ids.length);
  retained.push(keep, signals);
  return (after - before) / (ids.length - quarter);
};

/** What earlier measurements opened, kept reachable so it cannot be collected mid-run. */
const retained: unknown[] = [];

async function heapRows(
  store: MemoryEventStore,
  ids: readonly string[],
  log: (m: string) => void,
): Promise<Row[]> {
  // no waiter settles before the process exits (hour-long timeouts, no abort), so none
  // needs a rejection handler, which would add a promise of the caller's to the figure
  type Open = (registry: ProcessRegistry, id: string, signal: AbortSignal) => unknown;
  const hour = 3_600_000;
  const kinds: { label: string; open: Open; old: Open }[] = [
    {
      label: 'awaitProcess, no options',
      open: (r, id) => r.awaitProcess(id),
      old: (r, id) => legacyAwaitProcess(r, id),
    },
    {
      label: 'awaitProcess with timeoutMs',
      open: (r, id) => r.awaitProcess(id, { timeoutMs: hour }),
      old: (r, id) => legacyAwaitProcess(r, id, { timeoutMs: hour }),
    },
    {
      label: 'awaitProcess with timeoutMs and its own AbortSignal',
      open: (r, id, signal) => r.awaitProcess(id, { timeoutMs: hour, signal }),
      old: (r, id, signal) => legacyAwaitProcess(r, id, { timeoutMs: hour, signal }),
    },
    {
      label: 'waitEventAfter, no options',
      open: (r, id) => r.waitEventAfter(id, 'producer.line', 0),
      old: (r, id) => legacyAwaitProcess(r, id),
    },
    {
      label: 'events$ subscription (live feed of one process)',
      open: (r, id) => r.events$(id).subscribe(() => {}),
      old: (r, id) => legacyAwaitProcess(r, id),
    },
  ];
  const rows: Row[] = [];
  for (const kind of kinds) {
    log(`heap per waiter: ${kind.label}`);
    const value = await heapPerWaiter(store, ids, kind.open);
    const baseline = await heapPerWaiter(store, ids, kind.old);
    log(`  ${value.toFixed(0)} B vs ${baseline.toFixed(0)} B before #15`);
    rows.push(
      comparedRow(
        SCENARIO,
        `heap per open waiter: ${kind.label}`,
        value,
        'B',
        {
          what: 'a waiter of the design before #15 (global feed + filter, own timer)',
          value: baseline,
        },
        value / baseline,
        `${ids.length.toLocaleString('en')} waiters on distinct processes, heap after full GC, including the promise the caller holds; AbortControllers are the caller's and not counted. Goal (#15): ≤ 1 KB.`,
      ),
    );
  }
  return rows;
}

await runScenario('waiter memory', async ({ quick, log }) => {
  const n = quick ? 10_000 : 50_000;
  const store = new MemoryEventStore();
  const seed = await openRegistry(store, { clock: fixedClock });
  const ids = processIds('waited', n);
  log(`registering ${n} processes`);
  for (const id of ids) await seed.registerProcess(registration(id));
  return heapRows(store, ids, log);
});
