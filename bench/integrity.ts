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
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openRegistry } from '../src/index.ts';
import { openStore } from '../src/store/open.ts';
import { treeBefore } from './lib/baseline-tree.ts';
import { fixedClock } from './lib/fixtures.ts';
import { appendRow, fillLog, verifyRow } from './lib/integrity-rows.ts';
import type { ThroughputPlan } from './lib/measure.ts';
import type { Row } from './lib/result.ts';
import { runScenario } from './lib/scenario.ts';
import { withTempDir } from './lib/tmp.ts';

const SCENARIO = 'integrity';
const PROCESSES = 500;
const BATCH = 50;

const projectDir = fileURLToPath(new URL('..', import.meta.url));

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
      rows.push(
        await appendRow(
          SCENARIO,
          { tree: projectDir, url: url('hashed.db'), before, beforeUrl: url('plain.db') },
          { plan, perChunk },
          {
            measure: `appendEvent with hash links and digest, 1 caller, ${label}`,
            baseline: 'the same appends without hashing (the commit before it)',
          },
        ),
      );
    }

    log(`verifyIntegrity over ${logSize} events`);
    const path = join(dir, 'verify.db');
    const registry = await openRegistry(`sqlite:${path}?synchronous=normal`, { clock: fixedClock });
    await fillLog(registry, logSize, { processes: PROCESSES, batch: BATCH });
    const store = await openStore(`sqlite:${path}`);
    rows.push(await verifyRow(SCENARIO, 'SQLite', registry, store, quick ? 3 : 5));
    await store.close();
    await registry.close();
    return rows;
  });
});
