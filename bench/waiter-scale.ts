/**
 * Question 8 (issue #15): do open waiters cost anything to the rest of the registry?
 *
 * - **append cost**: appendEvent to one busy process (memory store) while 1k / 10k / 100k
 *   `awaitProcess` waiters are open on *other* processes, p50 per call; baseline: the same
 *   appends with no waiter open, measured in the same run (each level alternates with a
 *   0-waiter round). One row shows the design before #15 (each waiter filtering the global
 *   feed, rebuilt in bench/lib/legacy-waiter.ts) at 10k, against the same baseline.
 * - **open + abort**: time to open 100k waiters (until every one is listening) and abort
 *   them all (until every promise has rejected); baseline: 100k bare promises, each
 *   listening to its own AbortSignal, aborted (the floor of the pattern).
 * Heap per waiter is bench/waiter-memory.ts (a process of its own, for a clean heap).
 */
import { openRegistry, type ProcessRegistry } from '../src/index.ts';
import { fixedClock, lineRequest, processIds, registration } from './lib/fixtures.ts';
import { legacyAwaitProcess } from './lib/legacy-waiter.ts';
import { collectGarbage, nowMs, tick } from './lib/measure.ts';
import type { Row } from './lib/result.ts';
import { comparedRow, runScenario } from './lib/scenario.ts';
import { median } from './lib/stats.ts';

const SCENARIO = 'waiters at scale';
const BUSY = 'busy-process';

const until = async (condition: () => boolean): Promise<void> => {
  while (!condition()) await tick();
};

/** p50 of `n` sequential appends to the busy process, in ms. */
const appendP50 = async (registry: ProcessRegistry, n: number): Promise<number> => {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = nowMs();
    await registry.appendEvent(BUSY, lineRequest(i));
    times.push(nowMs() - start);
  }
  return median(times);
};

type Opener = (registry: ProcessRegistry, id: string, signal: AbortSignal) => Promise<unknown>;
const current: Opener = (registry, id, signal) =>
  registry.awaitProcess(id, { signal, timeoutMs: 3_600_000 });
const legacy: Opener = (registry, id, signal) =>
  legacyAwaitProcess(registry, id, { signal, timeoutMs: 3_600_000 });

/** Opens a waiter on each of `ids` sharing one signal; resolves once all listen. */
const openAll = async (registry: ProcessRegistry, ids: readonly string[], open: Opener) => {
  const controller = new AbortController();
  const settled = ids.map((id) => open(registry, id, controller.signal).catch(() => undefined));
  await until(
    () => registry.diagnostics().openWaiters + registry.diagnostics().globalListeners >= ids.length,
  );
  return async () => {
    controller.abort();
    await Promise.all(settled);
  };
};

async function appendRows(
  registry: ProcessRegistry,
  ids: readonly string[],
  quick: boolean,
  log: (m: string) => void,
): Promise<Row[]> {
  const levels = [1_000, 10_000, 100_000].filter((n) => n <= ids.length);
  const appends = quick ? 200 : 2_000;
  const runs = quick ? 1 : 3;
  const cases: { label: string; n: number; open: Opener }[] = [
    ...levels.map((n) => ({ label: `${n.toLocaleString('en')} waiters`, n, open: current })),
    {
      label: `${quick ? '1,000' : '10,000'} waiters on the global feed (design before #15)`,
      n: quick ? 1_000 : 10_000,
      open: legacy,
    },
  ];
  await appendP50(registry, appends); // warm-up
  const rows: Row[] = [];
  for (const c of cases) {
    log(`append with ${c.label}`);
    const values: number[] = [];
    const baselines: number[] = [];
    for (let run = 0; run < runs; run++) {
      baselines.push(await appendP50(registry, appends));
      const abort = await openAll(registry, ids.slice(0, c.n), c.open);
      values.push(await appendP50(registry, appends));
      await abort();
    }
    const value = median(values);
    const baseline = median(baselines);
    log(`  ${(value * 1000).toFixed(1)} µs vs ${(baseline * 1000).toFixed(1)} µs with none`);
    rows.push(
      comparedRow(
        SCENARIO,
        `memory: appendEvent p50, ${c.label} open on other processes`,
        value,
        'ms',
        { what: '0 waiters open (same run, alternating)', value: baseline },
        median(values.map((v, i) => v / baselines[i]!)),
        `${appends} appends per round, ${runs} rounds; each waiter has a timeout and an AbortSignal (shared). Goal (#15): ≤ 1.25× at 10k and 100k.`,
      ),
    );
  }
  return rows;
}

async function openAbortRows(
  registry: ProcessRegistry,
  ids: readonly string[],
  quick: boolean,
  log: (m: string) => void,
): Promise<Row[]> {
  const n = ids.length;
  const floor = async (): Promise<number> => {
    const start = nowMs();
    const controllers = ids.map(() => new AbortController());
    const all = controllers.map(
      (c) =>
        new Promise<void>((resolve) =>
          c.signal.addEventListener('abort', () => resolve(), { once: true }),
        ),
    );
    for (const c of controllers) c.abort();
    await Promise.all(all);
    return nowMs() - start;
  };
  const measure = async (own: boolean) => {
    collectGarbage();
    const start = nowMs();
    const controllers = own ? ids.map(() => new AbortController()) : [new AbortController()];
    const settled = ids.map((id, i) =>
      registry
        .awaitProcess(id, { signal: controllers[own ? i : 0]!.signal, timeoutMs: 3_600_000 })
        .catch(() => undefined),
    );
    await until(() => registry.diagnostics().openWaiters === n);
    const opened = nowMs();
    for (const c of controllers) c.abort();
    await Promise.all(settled);
    const end = nowMs();
    if (registry.diagnostics().feedSubscribers !== 0) throw new Error('waiters left listening');
    return { total: end - start, open: opened - start, abort: end - opened };
  };
  const rows: Row[] = [];
  for (const own of [false, true]) {
    log(`open + abort ${n} waiters, ${own ? 'own' : 'one shared'} signal`);
    if (!quick) await measure(own); // warm-up
    const a = await measure(own);
    const f = await floor();
    log(
      `  ${a.total.toFixed(0)} ms (open ${a.open.toFixed(0)}, abort ${a.abort.toFixed(0)}) vs floor ${f.toFixed(0)} ms`,
    );
    rows.push(
      comparedRow(
        SCENARIO,
        `memory: open + abort ${n.toLocaleString('en')} awaitProcess waiters, ${own ? 'each with its own AbortSignal' : 'one AbortSignal shared by all'}`,
        a.total,
        'ms',
        {
          what: `${n.toLocaleString('en')} bare promises on their own AbortSignals, aborted`,
          value: f,
        },
        a.total / f,
        `open ${a.open.toFixed(0)} ms (includes each call's catch-up read), abort ${a.abort.toFixed(0)} ms. Goal (#15): < 1 s.`,
      ),
    );
  }
  return rows;
}

await runScenario(SCENARIO, async ({ quick, log }) => {
  const n = 100_000;
  const registry = await openRegistry('memory:', { clock: fixedClock });
  const ids = processIds('waited', n);
  log(`registering ${n} processes`);
  await registry.registerProcess(registration(BUSY));
  for (const id of ids) await registry.registerProcess(registration(id));
  const rows: Row[] = [];
  rows.push(...(await appendRows(registry, ids, quick, log)));
  rows.push(...(await openAbortRows(registry, ids, quick, log)));
  await registry.close();
  return rows;
});
