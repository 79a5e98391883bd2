/**
 * Questions: what does hash-linking every event cost an append, and how fast does
 * `verifyIntegrity` read a log?
 *
 * 1. appendEvent (1 event per call, 500 processes round-robin, one caller) with hashing, vs
 *    the same appends on the same sources with hashing switched off: a copy of src/ with
 *    bench/lib/no-hashing.patch applied (bench/lib/baseline-tree.ts `sourcesPatched`), which
 *    stores each event's metadata without `hash`/`prevHash` and as the store serializes it,
 *    and skips the log digest (so SQLite's per-position digests and memory's). That baseline
 *    differs from the measured code by hashing alone: the commit before hashing, the baseline
 *    this row had first, also lacks every feature that landed after it (memory's versions for
 *    asOf, the change feed, the journal ...), so it mixed their cost with hashing's. Each side
 *    in a process of its own (bench/lib/append-child.ts), in interleaved slices, over several
 *    pairs of processes (bench/lib/integrity-rows.ts `appendPairs`), on SQLite with its default
 *    durability (synchronous=FULL: what an append costs a user, fsync included) and with
 *    NORMAL (the commit's flush left out), and on memory. The goal: at most 10%
 *    more time per append (ratio ≥ 0.91). Each store also has a row for the same runs in CPU
 *    time: each process's whole CPU time, so the garbage a side collects between its slices
 *    counts as its own (in wall time it lands on the other side's slices: on two shared
 *    cores the memory wall ratio of one pair swung from 0.75 to 1.3 with the slice size
 *    alone). An A/A row on memory (hashing on both sides) shows the method's noise.
 * 2. verifyIntegrity over a SQLite log of N events (every hash, link and recorded digest),
 *    vs reading the same log through the store's readAll (the floor: the rows must be read
 *    and parsed to be checked). Goal ≥ 200k events/s.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openRegistry } from '../src/index.ts';
import { openStore } from '../src/store/open.ts';
import { sourcesPatched } from './lib/baseline-tree.ts';
import { fixedClock } from './lib/fixtures.ts';
import { appendPairs, appendRows, fillLog, rangeOf, verifyRow } from './lib/integrity-rows.ts';
import type { ThroughputPlan } from './lib/measure.ts';
import type { Row } from './lib/result.ts';
import { comparedRow, runScenario } from './lib/scenario.ts';
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
  const without = sourcesPatched('no-hashing.patch');
  log(`baseline: these sources without hashing, at ${without.dir}`);
  return withTempDir(async (dir) => {
    const rows: Row[] = [];
    for (const [label, url, pairs] of [
      [
        'SQLite, synchronous=FULL (default)',
        (name: string) => `sqlite:${join(dir, `${name}.db`)}`,
        quick ? 1 : 3,
      ],
      [
        'SQLite, synchronous=NORMAL',
        (name: string) => `sqlite:${join(dir, `${name}.db`)}?synchronous=normal`,
        quick ? 1 : 3,
      ],
      ['memory', () => 'memory:', quick ? 1 : 5],
    ] as const) {
      log(`append, ${label}: ${pairs} pairs of processes`);
      const run = { plan, perChunk, pairs };
      const measured = await appendPairs({ tree: projectDir, before: without.dir, url }, run);
      rows.push(
        ...appendRows(SCENARIO, measured, run, {
          measure: `appendEvent with hash links and digest, 1 caller, ${label}`,
          baseline: 'the same appends on these sources with hashing switched off',
        }),
      );
      if (label !== 'memory') continue;
      log(`append, memory, A/A: ${pairs} pairs of processes, hashing on both sides`);
      const same = await appendPairs({ tree: projectDir, before: projectDir, url }, run);
      rows.push(
        comparedRow(
          SCENARIO,
          'A/A control: appendEvent with hashing on both sides, 1 caller, memory',
          same.wall.value,
          'events/s',
          { what: 'the same appends from the same sources', value: same.wall.baseline },
          same.wall.ratio,
          `the method's noise, measured as the rows above: wall pairs ${rangeOf(same.wall)}, CPU ratio ${same.cpu.ratio.toFixed(2)} (pairs ${rangeOf(same.cpu)})`,
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
  }).finally(without.remove);
});
