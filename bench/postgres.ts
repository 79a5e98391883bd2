/**
 * Question 8: what does the PostgreSQL store cost, and how fast are waiters across
 * instances?
 *
 * Server: PROCREG_TEST_POSTGRES_URL when set, else a throwaway server from initdb/pg_ctl
 * with PostgreSQL's default durability (fsync on, synchronous_commit on), as the tests
 * start it (test/support/postgres-server.ts); no server, no rows (a FAILED row says why).
 *
 * Append value: events/s of `appendEvent` (500 processes round-robin), awaited in sequence
 * and from 8 concurrent callers. Baseline, interleaved in the same run: node-postgres
 * inserting rows of the same size into a table shaped like `events` (unique stream and
 * revision, unique event id, json columns), each insert its own transaction, from 1
 * connection or from 8. Ratio = registry / raw.
 *
 * Waiter value: time from `appendEvent` returning to `waitEventAfter` resolving in another
 * OS process on the same PostgreSQL schema (woken by LISTEN/NOTIFY), p50 and p99.
 * Baseline, samples interleaved: the same on one SQLite file with its default settings
 * (woken through the file). Ratio = PostgreSQL / SQLite.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { openRegistry, type ProcessRegistry } from '../src/index.ts';
import type { TestPostgres } from '../test/support/postgres-server.ts';
import { fixedClock, lineRequest, processIds, registration } from './lib/fixtures.ts';
import {
  nowMs,
  pairedThroughput,
  sleep,
  type ThroughputPlan,
  timed,
  timedConcurrent,
} from './lib/measure.ts';
import { benchServer } from './lib/postgres-server.ts';
import type { Row } from './lib/result.ts';
import { comparedRow, runScenario } from './lib/scenario.ts';
import { percentile } from './lib/stats.ts';
import { recordTemplate } from './lib/synthetic-log.ts';
import { withTempDir } from './lib/tmp.ts';
import { startWaiterChild, type Waiter } from './lib/waiter-process.ts';

const SCENARIO = 'PostgreSQL';
const CALLERS = 8;
const WAITED = 'waited-on';
const WAITER_LOG = 12_000;

/** A table shaped like the store's `events`, filled one transaction per insert. */
const rawInserter = async (server: TestPostgres, connections: number) => {
  const { schema } = server.freshSchema();
  const pool = new pg.Pool({ connectionString: server.url, max: connections });
  await pool.query(`CREATE SCHEMA ${schema}`);
  await pool.query(`CREATE TABLE ${schema}.raw (
    position bigserial PRIMARY KEY, stream text NOT NULL, revision bigint NOT NULL,
    type text NOT NULL, data json NOT NULL, metadata json NOT NULL,
    event_id text NOT NULL UNIQUE, recorded_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (stream, revision))`);
  const template = await recordTemplate();
  const revisions = new Map<string, number>();
  let next = 0;
  const insert = () => {
    const stream = `process-raw-${next++ % 500}`;
    const revision = (revisions.get(stream) ?? -1) + 1;
    revisions.set(stream, revision);
    return pool.query({
      name: 'raw-insert',
      text: `INSERT INTO ${schema}.raw (stream, revision, type, data, metadata, event_id)
             VALUES ($1, $2, 'ProcessEventAppended', $3, $4, $5)`,
      values: [stream, revision, template.line.data, template.line.metadata, randomUUID()],
    });
  };
  return { insert, close: () => pool.end() };
};

/** Alternating samples of two waiters, each woken by an append of its own registry. */
const waiterSamples = async (
  pairs: { registry: ProcessRegistry; waiter: Waiter }[],
  n: number,
): Promise<number[][]> => {
  const samples = pairs.map(() => [] as number[]);
  const sequences = await Promise.all(
    pairs.map(async ({ registry }) => (await registry.eventsAfter(WAITED, 0)).length),
  );
  for (let i = -2; i < 2 * n; i++) {
    const k = ((i % 2) + 2) % 2;
    const { registry, waiter } = pairs[k]!;
    const { ready, seen } = await waiter('registry', sequences[k]!);
    await ready;
    // a random phase against the feeds' timers
    await sleep(Math.random() * 30);
    await registry.appendEvent(WAITED, lineRequest(++sequences[k]!));
    const returned = nowMs();
    const at = await seen;
    if (i >= 0) samples[k]!.push(Math.max(0, at - returned));
  }
  return samples;
};

await runScenario(SCENARIO, async ({ quick, log }) => {
  const plan: ThroughputPlan = quick
    ? { warmup: 1, runs: 2, chunks: 2 }
    : { warmup: 1, runs: 5, chunks: 6 };
  const perChunk = quick ? 100 : 250;
  const PROCESSES = quick ? 100 : 500;
  const server = await benchServer();
  log(`server: ${server.version}`);
  const rows: Row[] = [];
  try {
    const { url } = server.freshSchema();
    const registry = await openRegistry(url, { clock: fixedClock });
    const ids = processIds('p', PROCESSES);
    log('registering');
    await timedConcurrent(PROCESSES, CALLERS, (i) =>
      registry.registerProcess(registration(ids[i]!)),
    );
    let next = 0;
    const append = () => registry.appendEvent(ids[next % PROCESSES]!, lineRequest(next++));
    const note = `${server.managed ? 'throwaway server, fsync and synchronous_commit on' : 'server at PROCREG_TEST_POSTGRES_URL'}; ${perChunk * plan.chunks} events per run in ${plan.chunks} interleaved slices, ${PROCESSES} processes round-robin`;
    for (const callers of [1, CALLERS]) {
      log(`${callers} caller(s)`);
      const raw = await rawInserter(server, callers);
      const measured = await pairedThroughput(
        plan,
        () =>
          callers === 1 ? timed(perChunk, append) : timedConcurrent(perChunk, callers, append),
        () =>
          callers === 1
            ? timed(perChunk, raw.insert)
            : timedConcurrent(perChunk, callers, raw.insert),
      );
      await raw.close();
      rows.push(
        comparedRow(
          SCENARIO,
          `appendEvent, ${callers === 1 ? '1 caller awaited in sequence' : `${callers} concurrent callers`}`,
          measured.value,
          'events/s',
          {
            what: `raw node-postgres insert, 1 transaction per insert, ${callers === 1 ? '1 connection' : `${callers} connections`}`,
            value: measured.baseline,
          },
          measured.ratio,
          note,
        ),
      );
    }
    // waiters read the log after each NOTIFY: measure them on a log of at least WAITER_LOG
    // events (the quick run's appends leave ~2 000), where plan costs differ from a small
    // one's (JIT compiled each log read once the log held ~10 000 events)
    for (let at = next; at < WAITER_LOG; at += 100) {
      await registry.appendEvents(
        ids[(at / 100) % PROCESSES]!,
        Array.from({ length: 100 }, (_, i) => lineRequest(at + i)),
      );
    }
    await registry.registerProcess(registration(WAITED));
    await withTempDir(async (dir) => {
      const sqliteUrl = `sqlite:${join(dir, 'shared.db')}`;
      const sqlite = await openRegistry(sqliteUrl, { clock: fixedClock });
      await sqlite.registerProcess(registration(WAITED));
      const pgChild = await startWaiterChild(url, WAITED);
      const sqliteChild = await startWaiterChild(sqliteUrl, WAITED);
      try {
        log('cross-instance waiters');
        const n = quick ? 12 : 100;
        const [onPg, onSqlite] = await waiterSamples(
          [
            { registry, waiter: pgChild.waiter },
            { registry: sqlite, waiter: sqliteChild.waiter },
          ],
          n,
        );
        for (const p of [50, 99]) {
          const v = percentile(onPg!, p);
          const b = percentile(onSqlite!, p);
          rows.push(
            comparedRow(
              SCENARIO,
              `waitEventAfter in another OS process (LISTEN/NOTIFY), p${p}`,
              v,
              'ms',
              { what: 'the same on one SQLite file, default settings', value: b },
              b > 0 ? v / b : Number.NaN,
              `${n} samples each, interleaved`,
            ),
          );
        }
      } finally {
        await pgChild.close();
        await sqliteChild.close();
        await sqlite.close();
      }
    });
    await registry.close();
    return rows;
  } finally {
    await server.stop();
  }
});
