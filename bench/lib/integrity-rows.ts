/**
 * What the tamper-evidence scenarios (bench/integrity.ts, bench/integrity-postgres.ts)
 * measure the same way on each store: appends of two source trees side by side (in wall and
 * CPU time), and the rate of `verifyIntegrity` against reading the same log.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { STREAM_PREFIX } from '../../src/domain/events.ts';
import type { ProcessRegistry } from '../../src/index.ts';
import type { EventStore } from '../../src/store/port.ts';
import { lineRequest, processIds, registration } from './fixtures.ts';
import {
  nowMs,
  type Paired,
  paired,
  pairedThroughput,
  type ThroughputPlan,
  type Timed,
} from './measure.ts';
import type { Row } from './result.ts';
import { comparedRow } from './scenario.ts';
import { median } from './stats.ts';

const child = fileURLToPath(new URL('./append-child.ts', import.meta.url));

/** A percentage with its sign: +6.9, -12.2. */
export const signed = (percent: number): string =>
  `${percent >= 0 ? '+' : ''}${percent.toFixed(1)}`;

/** An append-child.ts reply: its slice's wall and CPU time, and its CPU time since it was ready. */
interface ChildTimed extends Timed {
  cpuSeconds: number;
  cpuTotalSeconds: number;
}

/** An append-child.ts process: `append(n)` times n appends there; `answers` keeps every reply. */
const appendChild = async (tree: string, url: string) => {
  const proc = fork(child, [tree, url], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const replies: ((message: unknown) => void)[] = [];
  proc.on('message', (message) => replies.shift()?.(message));
  const reply = <T>() => new Promise<T>((resolve) => replies.push((m) => resolve(m as T)));
  await reply<{ ready: true }>();
  const answers: ChildTimed[] = [];
  return {
    answers,
    append: async (n: number) => {
      const answer = reply<ChildTimed>();
      proc.send({ n });
      answers.push(await answer);
      return answers.at(-1)!;
    },
    close: () => proc.send({}),
  };
};

/**
 * Events per CPU second of one side in each kept run of `pairedThroughput`: its process's
 * whole CPU time from the end of the run before to the end of this one, so the garbage it
 * collects between its slices (while the other side runs) counts as its own. Wall time
 * cannot count it: on two shared cores that work runs during the other side's slices.
 */
const cpuRates = (answers: readonly ChildTimed[], plan: ThroughputPlan): number[] => {
  const rates: number[] = [];
  for (let run = plan.warmup; run < plan.warmup + plan.runs; run++) {
    const slices = answers.slice(run * plan.chunks, (run + 1) * plan.chunks);
    const before = answers[run * plan.chunks - 1]!.cpuTotalSeconds;
    const count = slices.reduce((sum, t) => sum + t.count, 0);
    rates.push(count / (slices.at(-1)!.cpuTotalSeconds - before));
  }
  return rates;
};

/** Medians over process pairs, and each pair's ratio. */
export interface Compared {
  value: number;
  baseline: number;
  ratio: number;
  ratios: number[];
}

/** The lowest and highest of the pairs' ratios: 0.88–0.97. */
export const rangeOf = ({ ratios }: Compared): string =>
  `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`;

const acrossPairs = (pairs: readonly Paired[]): Compared => ({
  value: median(pairs.map((p) => p.value)),
  baseline: median(pairs.map((p) => p.baseline)),
  ratio: median(pairs.map((p) => p.ratio)),
  ratios: pairs.map((p) => p.ratio),
});

/**
 * appendEvent, 1 caller, from the sources at `tree` against the same appends from `before`,
 * in `pairs` pairs of fresh processes one after the other (which of the two starts first
 * alternates; `url` names each process's store), each pair in interleaved slices: one pair
 * alone differed from an identical one by up to 15% (its own JIT and heap), so the figures
 * are medians over pairs. Wall ratios from `pairedThroughput`, CPU ratios from the same runs
 * (`cpuRates`).
 */
export const appendPairs = async (
  sides: { tree: string; before: string; url: (name: string) => string },
  run: { plan: ThroughputPlan; perChunk: number; pairs: number },
): Promise<{ wall: Compared; cpu: Compared }> => {
  const { plan, perChunk } = run;
  const wall: Paired[] = [];
  const cpu: Paired[] = [];
  for (let pair = 0; pair < run.pairs; pair++) {
    const first = pair % 2 === 0 ? sides.tree : sides.before;
    const started = await appendChild(first, sides.url(`${pair}-first`));
    const other = await appendChild(
      first === sides.tree ? sides.before : sides.tree,
      sides.url(`${pair}-second`),
    );
    const [after, before] = first === sides.tree ? [started, other] : [other, started];
    try {
      wall.push(
        await pairedThroughput(
          plan,
          () => after.append(perChunk),
          () => before.append(perChunk),
        ),
      );
      const afterCpu = cpuRates(after.answers, plan);
      const beforeCpu = cpuRates(before.answers, plan);
      cpu.push({
        value: median(afterCpu),
        baseline: median(beforeCpu),
        ratio: median(afterCpu.map((rate, i) => rate / beforeCpu[i]!)),
      });
    } finally {
      after.close();
      before.close();
    }
  }
  return { wall: acrossPairs(wall), cpu: acrossPairs(cpu) };
};

/** The wall-time and CPU-time rows of `appendPairs`' figures. */
export const appendRows = (
  scenario: string,
  measured: { wall: Compared; cpu: Compared },
  run: { plan: ThroughputPlan; perChunk: number; pairs: number },
  text: { measure: string; baseline: string },
): Row[] => {
  const { wall, cpu } = measured;
  const shape = `median of ${run.pairs} pairs of processes (${rangeOf(wall)}), each ${run.plan.runs} runs of ${run.plan.chunks * run.perChunk} events in interleaved slices`;
  return [
    comparedRow(
      scenario,
      text.measure,
      wall.value,
      'events/s',
      { what: text.baseline, value: wall.baseline },
      wall.ratio,
      `time per append ${signed((1 / wall.ratio - 1) * 100)}% (goal ≤ 10%); ${shape}`,
    ),
    comparedRow(
      scenario,
      `${text.measure}, CPU time`,
      cpu.value,
      'events per CPU second',
      { what: text.baseline, value: cpu.baseline },
      cpu.ratio,
      `CPU time per append ${signed((1 / cpu.ratio - 1) * 100)}%; each process's whole CPU time over each run (its GC between slices included), the same runs (pairs ${rangeOf(cpu)})`,
    ),
  ];
};

/** Registers `processes` processes and appends lines `batch` at a time up to `size` events. */
export const fillLog = async (
  registry: ProcessRegistry,
  size: number,
  { processes, batch }: { processes: number; batch: number },
): Promise<void> => {
  const ids = processIds('v', processes);
  for (const id of ids) await registry.registerProcess(registration(id));
  let next = 0;
  while (next < size - processes) {
    const id = ids[(next / batch) % processes]!;
    await registry.appendEvents(
      id,
      Array.from({ length: batch }, () => lineRequest(next++)),
    );
  }
};

/** verifyIntegrity over the registry's log against reading the same log through `store`. */
export const verifyRow = async (
  scenario: string,
  label: string,
  registry: ProcessRegistry,
  store: EventStore,
  runs: number,
): Promise<Row> => {
  let checked = 0;
  const measured = await paired(
    { warmup: 1, runs },
    async () => {
      const start = nowMs();
      const report = await registry.verifyIntegrity();
      if (!report.ok)
        throw new Error(`the bench log does not verify: ${report.problems.length} problems`);
      checked = report.checked;
      return report.checked / ((nowMs() - start) / 1000);
    },
    async () => {
      const start = nowMs();
      let n = 0;
      for await (const _ of store.readAll({ streamPrefix: STREAM_PREFIX })) n += 1;
      return n / ((nowMs() - start) / 1000);
    },
  );
  return comparedRow(
    scenario,
    `verifyIntegrity, ${label} log of ${checked.toLocaleString('en')} events`,
    measured.value,
    'events/s',
    { what: "reading the same log (the store's readAll)", value: measured.baseline },
    measured.ratio,
    `goal ≥ 200,000 events/s: ${measured.value >= 200_000 ? 'met' : 'not met'}`,
  );
};
