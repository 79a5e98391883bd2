/**
 * Question 10 on PostgreSQL: does "what did the registry look like then?" cost the same at
 * any history length when the store is a PostgreSQL schema?
 *
 * `asOf(position)` global views (listNonTerminal, listProcesses, one session's grants) at
 * 10%, 50% and 90% of a large schema (~250k events; quick 50k), answered from the version
 * tables in the schema (GiST stabbing queries), against the same views at the same share of
 * a ~4k-event schema, same run, same server (the goal: at most max(3×, +100 ms));
 * those answers grow with the processes alive at the point, so one more row asks the large
 * schema about the small one's last position: the same answers over a longer history.
 * Also: the schema's size (every relation: tables, indexes, TOAST) against the same schema
 * without the version tables and their indexes (goal ≤ 1.5×).
 *
 * The logs are synthesized (bench/lib/synthetic-log.ts), inserted raw into `events`, and
 * projected by the store's own catch-up (models and versions, 500 events a transaction)
 * before anything is measured. Server: as in bench/postgres.ts.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { openRegistry } from '../src/index.ts';
import { openStore } from '../src/store/open.ts';
import { VERSION_TABLES } from '../src/store/postgres-versions.ts';
import {
  findPostgresBinaries,
  startThrowawayPostgres,
  type TestPostgres,
} from '../test/support/postgres-server.ts';
import { asOfProcesses, viewsAt } from './lib/as-of-views.ts';
import { processIds } from './lib/fixtures.ts';
import type { Row } from './lib/result.ts';
import { comparedRow, runScenario } from './lib/scenario.ts';
import {
  recordTemplate,
  type SyntheticEvent,
  synthesizeAll,
  type Template,
} from './lib/synthetic-log.ts';

const SCENARIO = 'asOf at scale, PostgreSQL';

const server = async (): Promise<TestPostgres> => {
  const bin = findPostgresBinaries();
  if (!bin) throw new Error('no PostgreSQL: no initdb/pg_ctl found');
  return startThrowawayPostgres(bin, { durable: true });
};

/** Inserts the events as the store would have stored them (dense positions, revisions). */
const insertLog = async (
  pool: pg.Pool,
  schema: string,
  events: Iterable<SyntheticEvent>,
): Promise<number> => {
  const revisions = new Map<string, number>();
  let position = 0;
  let batch: SyntheticEvent[] = [];
  const flush = async () => {
    const rows = batch.map((e) => {
      const revision = (revisions.get(e.stream) ?? -1) + 1;
      revisions.set(e.stream, revision);
      return { ...e, revision, position: ++position };
    });
    await pool.query(
      `INSERT INTO "${schema}".events (position, stream, revision, type, data, metadata, event_id)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::json[], $6::json[], $7::text[])`,
      [
        rows.map((r) => r.position),
        rows.map((r) => r.stream),
        rows.map((r) => r.revision),
        rows.map((r) => r.type),
        rows.map((r) => r.data),
        rows.map((r) => r.metadata),
        rows.map(() => randomUUID()),
      ],
    );
    batch = [];
  };
  for (const event of events) {
    batch.push(event);
    if (batch.length >= 5_000) await flush();
  }
  await flush();
  await pool.query(`UPDATE "${schema}".log_head SET position = $1`, [position]);
  return position;
};

const build = async (pgServer: TestPostgres, template: Template, processes: number) => {
  const { url, schema } = pgServer.freshSchema();
  await (await openStore(url)).close(); // creates the schema
  const pool = new pg.Pool({ connectionString: pgServer.url, max: 2 });
  const ids = processIds('p', processes);
  const events = await insertLog(pool, schema, synthesizeAll(template, asOfProcesses(ids)));
  const registry = await openRegistry(url);
  await registry.asOf({ position: 1 }).listProcesses(); // projects models and versions
  return { registry, events, schema, pool };
};

/** Bytes of every relation of the schema, and of the version tables with their indexes. */
const sizes = async (pool: pg.Pool, schema: string) => {
  const { rows } = await pool.query<{ all: string; versions: string }>(
    `SELECT sum(pg_total_relation_size(c.oid)) AS all,
            sum(pg_total_relation_size(c.oid)) FILTER (WHERE c.relname = ANY ($2)) AS versions
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind = 'r'`,
    [schema, [...VERSION_TABLES]],
  );
  const { rows: index } = await pool.query<{ size: string }>(
    `SELECT pg_relation_size(to_regclass($1)) AS size`,
    [`"${schema}".rm_events_by_position`],
  );
  const all = Number(rows[0]!.all);
  return { all, versions: Number(rows[0]!.versions) + Number(index[0]!.size) };
};

await runScenario(SCENARIO, async ({ quick, log }) => {
  const runs = quick ? 5 : 15;
  const template = await recordTemplate();
  const pgServer = await server();
  log(`server: ${pgServer.version}`);
  try {
    log('writing and projecting the schemas');
    const small = await build(pgServer, template, 80);
    const large = await build(pgServer, template, quick ? 1_000 : 5_000);
    const rows: Row[] = [];
    const note = `${large.events.toLocaleString('en')} vs ${small.events.toLocaleString('en')} events; ${runs} runs, fresh view each; throwaway server`;
    for (const share of [0.1, 0.5, 0.9]) {
      await viewsAt(large.registry, Math.round(large.events * share), 2); // warm-up
      await viewsAt(small.registry, Math.round(small.events * share), 2);
      const value = await viewsAt(large.registry, Math.round(large.events * share), runs);
      const smallAt = await viewsAt(small.registry, Math.round(small.events * share), runs);
      const live = await viewsAt(large.registry, 'live', runs);
      rows.push(
        comparedRow(
          SCENARIO,
          `asOf(${share * 100}% of the log): listNonTerminal + listProcesses + a session's grants`,
          value,
          'ms',
          { what: 'the same point of the small schema', value: smallAt },
          value / smallAt,
          `${note}; answers grow with the processes alive at the point (${Math.round((large.events * share) / 50)} vs ${Math.round((small.events * share) / 50)}); the live registry (its models in memory), same views at the head: ${live.toFixed(1)} ms`,
        ),
      );
    }
    // the same point in both: the same processes alive, 60× more versions after it in one
    const point = small.events;
    await viewsAt(large.registry, point, 2);
    const samePoint = await viewsAt(large.registry, point, runs);
    const smallEnd = await viewsAt(small.registry, point, runs);
    rows.push(
      comparedRow(
        SCENARIO,
        `asOf(position ${point.toLocaleString('en')}) of the large schema: the same three views`,
        samePoint,
        'ms',
        { what: 'the same position of the small schema (its head)', value: smallEnd },
        samePoint / smallEnd,
        `${note}; the same answers, history after the point ${Math.round(large.events / small.events)}× longer`,
      ),
    );
    const size = await sizes(large.pool, large.schema);
    rows.push(
      comparedRow(
        SCENARIO,
        'schema size with versions',
        size.all / 2 ** 20,
        'MiB',
        { what: 'the same schema without them', value: (size.all - size.versions) / 2 ** 20 },
        size.all / (size.all - size.versions),
        `${large.events.toLocaleString('en')} events, 50 per process (lease claimed, renewed, released; half completed); every relation with its indexes and TOAST; goal ≤ 1.5×`,
      ),
    );
    for (const built of [small, large]) {
      await built.registry.close();
      await built.pool.end();
    }
    return rows;
  } finally {
    await pgServer.stop();
  }
});
