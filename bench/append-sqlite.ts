/**
 * Question 1: how close does `appendEvent` on SQLite come to the physical floor?
 *
 * Value: events/s of `appendEvent` (one event per call, 500 processes round-robin), awaited
 * in sequence or from 8 concurrent callers. Baseline: raw better-sqlite3 inserting the same
 * rows (same streams, types and JSON) one transaction per insert, into a file with the
 * same schema and pragmas. Ratio = registry / raw: 1.0 would mean the registry adds nothing
 * to the cost of the durable write itself. With 8 callers group commit may beat the floor
 * (several appends share one transaction and one sync), so a ratio above 1 is possible,
 * and the batch API (`appendEvents`, many events of one process in one write) is expected
 * to beat it.
 */
import { join } from 'node:path';
import { openRegistry } from '../src/index.ts';
import { openDatabase } from '../src/store/sqlite-file.ts';
import { fixedClock, lineRequest, processIds, registration } from './lib/fixtures.ts';
import {
  nowMs,
  pairedThroughput,
  rate,
  type ThroughputPlan,
  timed,
  timedConcurrent,
} from './lib/measure.ts';
import { RawInserter, rowsWritten } from './lib/raw-sqlite.ts';
import type { Row } from './lib/result.ts';
import { comparedRow, runScenario } from './lib/scenario.ts';
import { withTempDir } from './lib/tmp.ts';

const SCENARIO = 'append, SQLite';
const PROCESSES = 500;
const CALLERS = 8;
/** events per appendEvents call in the batch row (perChunk is a multiple of it) */
const BATCH = 50;

await runScenario(SCENARIO, async ({ quick, log }) => {
  const plan: ThroughputPlan = quick
    ? { warmup: 1, runs: 3, chunks: 4 }
    : { warmup: 1, runs: 7, chunks: 10 };
  const perChunk = quick ? 100 : 250;
  const perRun = perChunk * plan.chunks;
  return withTempDir(async (dir) => {
    const rows: Row[] = [];
    for (const synchronous of ['full', 'normal'] as const) {
      const path = join(dir, `registry-${synchronous}.db`);
      const registry = await openRegistry(`sqlite:${path}?synchronous=${synchronous}`, {
        clock: fixedClock,
      });
      const ids = processIds('p', PROCESSES);
      for (const id of ids) await registry.registerProcess(registration(id));
      let next = 0;
      const append = () => registry.appendEvent(ids[next % PROCESSES]!, lineRequest(next++));
      // the rows to insert raw are the ones this registry writes
      await rate(PROCESSES, append);
      const template = rowsWritten(path, 'ProcessEventAppended', PROCESSES);
      const raw = new RawInserter(
        openDatabase(join(dir, `raw-${synchronous}.db`), { synchronous, busyTimeoutMs: 5000 }),
      );
      const label = synchronous === 'full' ? 'synchronous=FULL (default)' : 'synchronous=NORMAL';
      const baseline = async () => raw.timed(template, perChunk);
      log(`${label}: 1 caller`);
      const one = await pairedThroughput(plan, () => timed(perChunk, append), baseline);
      rows.push(row(`appendEvent, 1 caller awaited in sequence, ${label}`, one));
      log(`${label}: ${CALLERS} callers`);
      const many = await pairedThroughput(
        plan,
        () => timedConcurrent(perChunk, CALLERS, append),
        baseline,
      );
      rows.push(row(`appendEvent, ${CALLERS} concurrent callers, ${label}`, many));
      if (synchronous === 'full') {
        log(`${label}: appendEvents, batches of ${BATCH}`);
        // one call appends BATCH events to one process: one decision, one transaction
        const batched = async () => {
          const start = nowMs();
          for (let done = 0; done < perChunk; done += BATCH) {
            const id = ids[next % PROCESSES]!;
            await registry.appendEvents(
              id,
              Array.from({ length: BATCH }, () => lineRequest(next++)),
            );
          }
          return { count: perChunk, seconds: (nowMs() - start) / 1000 };
        };
        const batch = await pairedThroughput(plan, batched, baseline);
        rows.push(
          row(`appendEvents (batch API), ${BATCH} events per call, 1 caller, ${label}`, batch),
        );
      }
      raw.close();
      await registry.close();
    }
    return rows;
  });

  function row(measure: string, p: { value: number; baseline: number; ratio: number }): Row {
    return comparedRow(
      SCENARIO,
      measure,
      p.value,
      'events/s',
      { what: 'raw better-sqlite3, 1 insert per transaction', value: p.baseline },
      p.ratio,
      `${perRun} events per run, in ${plan.chunks} slices interleaved with the baseline's; ${PROCESSES} processes round-robin`,
    );
  }
});
