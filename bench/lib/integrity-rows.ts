/**
 * What the tamper-evidence scenarios (bench/integrity.ts, bench/integrity-postgres.ts)
 * measure the same way on each store: appends of two source trees side by side, and the
 * rate of `verifyIntegrity` against reading the same log.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { STREAM_PREFIX } from '../../src/domain/events.ts';
import type { ProcessRegistry } from '../../src/index.ts';
import type { EventStore } from '../../src/store/port.ts';
import { lineRequest, processIds, registration } from './fixtures.ts';
import { nowMs, paired, pairedThroughput, type ThroughputPlan, type Timed } from './measure.ts';
import type { Row } from './result.ts';
import { comparedRow } from './scenario.ts';

const child = fileURLToPath(new URL('./append-child.ts', import.meta.url));

/** A percentage with its sign: +6.9, -12.2. */
export const signed = (percent: number): string =>
  `${percent >= 0 ? '+' : ''}${percent.toFixed(1)}`;

/** An append-child.ts process: `append(n)` times n appends there. */
const appendChild = async (tree: string, url: string) => {
  const proc = fork(child, [tree, url], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const replies: ((message: unknown) => void)[] = [];
  proc.on('message', (message) => replies.shift()?.(message));
  const reply = <T>() => new Promise<T>((resolve) => replies.push((m) => resolve(m as T)));
  await reply<{ ready: true }>();
  return {
    append: (n: number) => {
      const answer = reply<Timed>();
      proc.send({ n });
      return answer;
    },
    close: () => proc.send({}),
  };
};

/**
 * appendEvent, 1 caller, from the sources at `tree` (on `url`) against the same appends from
 * `before` (on `beforeUrl`), in interleaved slices, each side in a process of its own.
 */
export const appendRow = async (
  scenario: string,
  sides: { tree: string; url: string; before: string; beforeUrl: string },
  run: { plan: ThroughputPlan; perChunk: number },
  text: { measure: string; baseline: string },
): Promise<Row> => {
  const { plan, perChunk } = run;
  const after = await appendChild(sides.tree, sides.url);
  const before = await appendChild(sides.before, sides.beforeUrl);
  try {
    const measured = await pairedThroughput(
      plan,
      () => after.append(perChunk),
      () => before.append(perChunk),
    );
    return comparedRow(
      scenario,
      text.measure,
      measured.value,
      'events/s',
      { what: text.baseline, value: measured.baseline },
      measured.ratio,
      `time per append ${signed((1 / measured.ratio - 1) * 100)}% (goal ≤ 10%); ${plan.chunks * perChunk} events per run, interleaved slices, each side in its own process`,
    );
  } finally {
    after.close();
    before.close();
  }
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
