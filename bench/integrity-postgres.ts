/**
 * Questions: what does keeping the log digest after every process event cost a PostgreSQL
 * append, and how fast does `verifyIntegrity` read a PostgreSQL log?
 *
 * 1. The store's appendToStream of process events shaped as procreg writes them (chained
 *    metadata), 1 per call and 50 per call, on the current sources, where `append_batch`
 *    steps the digest and inserts a `log_digests` row per process event, vs the same appends
 *    on the sources just before that (a git worktree of that commit:
 *    bench/lib/baseline-tree.ts), each on a schema of its own of one server, in interleaved
 *    slices of one process. The store, not the registry: a registry's own feed reads the log
 *    again when its append's NOTIFY comes before the reply, which moved registry-level A/B
 *    ratios between 0.3x and 2x (A/A included) and would hide the digest's cost. The server
 *    runs with fsync off (PROCREG_TEST_POSTGRES_URL: as configured), so the commit's flush
 *    does not hide it either. Goal: at most 10% more time per append.
 * 2. verifyIntegrity over a PostgreSQL log of N events (every hash and link; the recorded
 *    digests are read only when something is wrong), vs reading the same log through the
 *    store's readAll.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256Hex } from '../src/domain/canonical.ts';
import { openRegistry } from '../src/index.ts';
import { openStore } from '../src/store/open.ts';
import type { EventStore, NewEvent } from '../src/store/port.ts';
import { treeBefore } from './lib/baseline-tree.ts';
import { fixedClock, lineRequest } from './lib/fixtures.ts';
import { fillLog, signed, verifyRow } from './lib/integrity-rows.ts';
import { pairedThroughput, type ThroughputPlan, type Timed, timed } from './lib/measure.ts';
import { benchServer } from './lib/postgres-server.ts';
import type { Row } from './lib/result.ts';
import { comparedRow, runScenario } from './lib/scenario.ts';

const SCENARIO = 'integrity, PostgreSQL';

const projectDir = fileURLToPath(new URL('..', import.meta.url));

/**
 * A store from the sources at `tree` whose `append(calls)` times `calls` appends of `size`
 * line events each, round-robin over 100 process streams.
 */
const appender = async (tree: string, url: string, size: number) => {
  const { openStore: open } = (await import(join(tree, 'src/store/open.ts'))) as {
    openStore: (url: string) => Promise<EventStore>;
  };
  const store = await open(url);
  const revisions = new Map<string, number>();
  let next = 0;
  const line = (i: number): NewEvent => ({
    id: randomUUID(),
    type: 'ProcessEventAppended',
    data: { event: lineRequest(i) },
    metadata: { correlationId: randomUUID(), hash: sha256Hex(String(i)), prevHash: null },
  });
  const appendOne = async () => {
    const stream = `process-p${next % 100}`;
    const revision = revisions.get(stream) ?? -1;
    const events = Array.from({ length: size }, () => line(next++));
    await store.appendToStream(stream, events, {
      expectedRevision: revision === -1 ? 'no_stream' : revision,
    });
    revisions.set(stream, revision + size);
  };
  return {
    append: async (calls: number): Promise<Timed> => {
      const { seconds } = await timed(calls, appendOne);
      return { count: calls * size, seconds };
    },
    close: () => store.close(),
  };
};

await runScenario(SCENARIO, async ({ quick, log }) => {
  const plan: ThroughputPlan = quick
    ? { warmup: 1, runs: 3, chunks: 4 }
    : { warmup: 1, runs: 7, chunks: 10 };
  const perChunk = quick ? 100 : 250;
  const logSize = quick ? 10_000 : 50_000;
  const before = treeBefore('PostgreSQL keeps the log digest after every process event');
  log(`baseline: the sources at ${before}`);
  const server = await benchServer({ durable: false });
  log(`server: ${server.version}`);
  const rows: Row[] = [];
  try {
    for (const size of [1, 50]) {
      log(`append, ${size} per call`);
      const current = await appender(projectDir, server.freshSchema().url, size);
      const previous = await appender(before, server.freshSchema().url, size);
      try {
        const calls = Math.ceil(perChunk / size);
        const measured = await pairedThroughput(
          plan,
          () => current.append(calls),
          () => previous.append(calls),
        );
        rows.push(
          comparedRow(
            SCENARIO,
            `store appendToStream with a digest row per event, ${size} event${size === 1 ? '' : 's'} per call, PostgreSQL (fsync off)`,
            measured.value,
            'events/s',
            {
              what: 'the same appends without digest rows (the commit before them)',
              value: measured.baseline,
            },
            measured.ratio,
            `time per event ${signed((1 / measured.ratio - 1) * 100)}% (goal ≤ 10%); ${plan.chunks * calls * size} events per run, interleaved slices`,
          ),
        );
      } finally {
        await current.close();
        await previous.close();
      }
    }
    log(`verifyIntegrity over ${logSize} events`);
    const { url } = server.freshSchema();
    const registry = await openRegistry(url, { clock: fixedClock });
    await fillLog(registry, logSize, { processes: 500, batch: 50 });
    const store = await openStore(url);
    rows.push(await verifyRow(SCENARIO, 'PostgreSQL', registry, store, quick ? 3 : 5));
    await store.close();
    await registry.close();
    return rows;
  } finally {
    await server.stop();
  }
});
