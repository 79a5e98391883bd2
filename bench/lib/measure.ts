import { median } from './stats.ts';

/** High-resolution monotonic time in ms. CLOCK_MONOTONIC is shared by every process on the machine. */
export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** A count of operations and the seconds they took. */
export interface Timed {
  count: number;
  seconds: number;
}

/** Runs `n` operations, each awaited before the next. */
export const timed = async (n: number, op: (i: number) => Promise<unknown>): Promise<Timed> => {
  const start = nowMs();
  for (let i = 0; i < n; i++) await op(i);
  return { count: n, seconds: (nowMs() - start) / 1000 };
};

/** `callers` loops share one counter of `n` operations. */
export const timedConcurrent = async (
  n: number,
  callers: number,
  op: (i: number) => Promise<unknown>,
): Promise<Timed> => {
  let next = 0;
  const start = nowMs();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      for (let i = next++; i < n; i = next++) await op(i);
    }),
  );
  return { count: n, seconds: (nowMs() - start) / 1000 };
};

/** Operations per second of `n` operations awaited in sequence. */
export const rate = async (n: number, op: (i: number) => Promise<unknown>): Promise<number> => {
  const t = await timed(n, op);
  return t.count / t.seconds;
};

/** The latency of each of `n` sequential calls, in ms. */
export const latencies = async (
  n: number,
  op: (i: number) => Promise<unknown>,
): Promise<number[]> => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = nowMs();
    await op(i);
    out.push(nowMs() - start);
  }
  return out;
};

export interface RunPlan {
  warmup: number;
  runs: number;
}

export interface Paired {
  value: number;
  baseline: number;
  /** median of the per-run ratios value / baseline: each pair was measured back to back */
  ratio: number;
}

/**
 * Measures a figure and its baseline in alternating order, `warmup` discarded rounds then
 * `runs` kept ones; reports medians. Pairing each run with a baseline taken seconds apart
 * is what makes the ratio meaningful on a shared, noisy machine.
 */
export const paired = async (
  plan: RunPlan,
  value: (run: number) => Promise<number>,
  baseline: (run: number) => Promise<number>,
): Promise<Paired> => {
  const values: number[] = [];
  const baselines: number[] = [];
  const ratios: number[] = [];
  for (let run = 0; run < plan.warmup + plan.runs; run++) {
    let v: number;
    let b: number;
    if (run % 2 === 0) {
      v = await value(run);
      b = await baseline(run);
    } else {
      b = await baseline(run);
      v = await value(run);
    }
    if (run < plan.warmup) continue;
    values.push(v);
    baselines.push(b);
    ratios.push(v / b);
  }
  return { value: median(values), baseline: median(baselines), ratio: median(ratios) };
};

export interface ThroughputPlan extends RunPlan {
  /** alternations of value and baseline within one run */
  chunks: number;
}

/**
 * Like `paired` for throughput, but each run interleaves `chunks` slices of the value and
 * the baseline (alternating which goes first), so both see the same moments of a noisy
 * machine (another process's fsyncs, CPU steal). A run's rate is total count / total time.
 */
export const pairedThroughput = async (
  plan: ThroughputPlan,
  value: () => Promise<Timed>,
  baseline: () => Promise<Timed>,
): Promise<Paired> => {
  const rateOf = (parts: readonly Timed[]) =>
    parts.reduce((a, t) => a + t.count, 0) / parts.reduce((a, t) => a + t.seconds, 0);
  const values: number[] = [];
  const baselines: number[] = [];
  const ratios: number[] = [];
  let chunk = 0;
  for (let run = 0; run < plan.warmup + plan.runs; run++) {
    const v: Timed[] = [];
    const b: Timed[] = [];
    for (let c = 0; c < plan.chunks; c++, chunk++) {
      if (chunk % 2 === 0) {
        v.push(await value());
        b.push(await baseline());
      } else {
        b.push(await baseline());
        v.push(await value());
      }
    }
    if (run < plan.warmup) continue;
    values.push(rateOf(v));
    baselines.push(rateOf(b));
    ratios.push(rateOf(v) / rateOf(b));
  }
  return { value: median(values), baseline: median(baselines), ratio: median(ratios) };
};

/** Gives timers, I/O and pending promises a chance to run. */
export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** Full garbage collection when node runs with --expose-gc (the runner passes it). */
export const collectGarbage = (): void => {
  (globalThis as { gc?: () => void }).gc?.();
};
