/**
 * Questions: what does hash-linking every event cost an append, and how fast does
 * `verifyIntegrity` read a log?
 *
 * 1. appendEvent (1 event per call, 500 processes round-robin, one caller) with hashing, vs
 *    the same appends on the sources just before hashing was added (a git worktree of that
 *    commit: bench/lib/baseline-tree.ts), in interleaved slices of the same run, each side
 *    in a process of its own (bench/lib/append-child.ts) so neither pays the other's GC. The goal: at most 10% more time per append (ratio ≥ 0.91).
 *    On SQLite the cost also covers the digest after each position (rm_log).
 * 2. verifyIntegrity over a SQLite log of N events (every hash, link and recorded digest),
 *    vs reading the same log through the store's readAll (the floor: the rows must be read
 *    and parsed to be checked). Goal ≥ 200k events/s.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STREAM_PREFIX } from '../src/domain/events.ts';
import { openRegistry } from '../src/index.ts';
import { openStore } from '../src/store/open.ts';
import { treeBefore } from './lib/baseline-tree.ts';
import { fixedClock, lineRequest, processIds, registration } from './lib/fixtures.ts';
import { nowMs, paired, pairedThroughput, type ThroughputPlan, type Timed } from './lib/measure.ts';
import type { Row } from './lib/result.ts';
import { comparedRow, runScenario } from './lib/scenario.ts';
import { withTempDir } from './lib/tmp.ts';

const SCENARIO = 'integrity';
const PROCESSES = 500;
const BATCH = 50;

const projectDir = fileURLToPath(new URL('..', import.meta.url));
const child = fileURLToPath(new URL('./lib/append-child.ts', import.meta.url));

/** A percentage with its sign: +6.9, -12.2. */
const signed = (percent: number): string => `${percent >= 0 ? '+' : ''}${percent.toFixed(1)}`;

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

await runScenario(SCENARIO, async ({ quick, log }) => {
  const plan: ThroughputPlan = quick
    ? { warmup: 1, runs: 3, chunks: 4 }
    : { warmup: 1, runs: 7, chunks: 10 };
  const perChunk = quick ? 100 : 250;
  const logSize = quick ? 20_000 : 100_000;
  const before = treeBefore('Hash-linked streams');
  log(`baseline: the sources at ${before}`);
  return withTempDir(async (dir) => {
    const rows: Row[] = [];
    for (const [label, url] of [
      [
        'SQLite, synchronous=NORMAL',
        (name: string) => `sqlite:${join(dir, name)}?synchronous=normal`,
      ],
      ['memory', () => 'memory:'],
    ] as const) {
      log(`append, ${label}`);
      const withHashes = await appendChild(projectDir, url('hashed.db'));
      const without = await appendChild(before, url('plain.db'));
      try {
        const measured = await pairedThroughput(
          plan,
          () => withHashes.append(perChunk),
          () => without.append(perChunk),
        );
        rows.push(
          comparedRow(
            SCENARIO,
            `appendEvent with hash links and digest, 1 caller, ${label}`,
            measured.value,
            'events/s',
            {
              what: 'the same appends without hashing (the commit before it)',
              value: measured.baseline,
            },
            measured.ratio,
            `time per append ${signed((1 / measured.ratio - 1) * 100)}% (goal ≤ 10%); ${plan.chunks * perChunk} events per run, interleaved slices, each side in its own process`,
          ),
        );
      } finally {
        withHashes.close();
        without.close();
      }
    }

    log(`verifyIntegrity over ${logSize} events`);
    const path = join(dir, 'verify.db');
    const registry = await openRegistry(`sqlite:${path}?synchronous=normal`, { clock: fixedClock });
    const ids = processIds('v', PROCESSES);
    for (const id of ids) await registry.registerProcess(registration(id));
    let next = 0;
    while (next < logSize - PROCESSES) {
      const id = ids[(next / BATCH) % PROCESSES]!;
      await registry.appendEvents(
        id,
        Array.from({ length: BATCH }, () => lineRequest(next++)),
      );
    }
    const store = await openStore(`sqlite:${path}`);
    let checked = 0;
    const measured = await paired(
      { warmup: 1, runs: quick ? 3 : 5 },
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
    rows.push(
      comparedRow(
        SCENARIO,
        `verifyIntegrity, SQLite log of ${checked.toLocaleString('en')} events`,
        measured.value,
        'events/s',
        { what: "reading the same log (the store's readAll)", value: measured.baseline },
        measured.ratio,
        `goal ≥ 200,000 events/s: ${measured.value >= 200_000 ? 'met' : 'not met'}`,
      ),
    );
    await store.close();
    await registry.close();
    return rows;
  });
});
