/**
 * Questions: what does hash-linking every event cost an append, and how fast does
 * `verifyIntegrity` read a log?
 *
 * 1. appendEvent (1 event per call, 500 processes round-robin, one caller) with hashing, vs
 *    the same appends on the sources just before hashing was added (a git worktree of that
 *    commit, loaded into this same process: bench/lib/baseline-tree.ts), in interleaved
 *    slices of the same run. The goal: at most 10% more time per append (ratio ≥ 0.91).
 *    On SQLite the cost also covers the digest after each position (rm_digests).
 * 2. verifyIntegrity over a SQLite log of N events (every hash, link and recorded digest),
 *    vs reading the same log through the store's readAll (the floor: the rows must be read
 *    and parsed to be checked). Goal ≥ 200k events/s.
 */
import { join } from 'node:path';
import { STREAM_PREFIX } from '../src/domain/events.ts';
import { openRegistry, type ProcessRegistry } from '../src/index.ts';
import { openStore } from '../src/store/open.ts';
import { treeBefore } from './lib/baseline-tree.ts';
import { fixedClock, lineRequest, processIds, registration } from './lib/fixtures.ts';
import { nowMs, paired, pairedThroughput, type ThroughputPlan, timed } from './lib/measure.ts';
import type { Row } from './lib/result.ts';
import { comparedRow, runScenario } from './lib/scenario.ts';
import { withTempDir } from './lib/tmp.ts';

const SCENARIO = 'integrity';
const PROCESSES = 500;
const BATCH = 50;

type Open = (url: string, options: { clock: () => number }) => Promise<ProcessRegistry>;

await runScenario(SCENARIO, async ({ quick, log }) => {
  const plan: ThroughputPlan = quick
    ? { warmup: 1, runs: 3, chunks: 4 }
    : { warmup: 1, runs: 7, chunks: 10 };
  const perChunk = quick ? 100 : 250;
  const logSize = quick ? 20_000 : 100_000;
  const before = treeBefore('Hash-linked streams');
  log(`baseline: the sources at ${before}`);
  const baselineModule = (await import(join(before, 'src/index.ts'))) as { openRegistry: Open };
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
      const withHashes = await openRegistry(url('hashed.db'), { clock: fixedClock });
      const without = await baselineModule.openRegistry(url('plain.db'), { clock: fixedClock });
      const ids = processIds('p', PROCESSES);
      for (const id of ids) {
        await withHashes.registerProcess(registration(id));
        await without.registerProcess(registration(id));
      }
      let a = 0;
      let b = 0;
      const measured = await pairedThroughput(
        plan,
        () => timed(perChunk, () => withHashes.appendEvent(ids[a % PROCESSES]!, lineRequest(a++))),
        () => timed(perChunk, () => without.appendEvent(ids[b % PROCESSES]!, lineRequest(b++))),
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
          `time per append +${((1 / measured.ratio - 1) * 100).toFixed(1)}% (goal ≤ 10%); ${plan.chunks * perChunk} events per run, interleaved slices`,
        ),
      );
      await withHashes.close();
      await without.close();
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
