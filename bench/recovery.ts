/**
 * Question 5: how long does opening a big SQLite store take?
 *
 * Opening a registry rebuilds every read model from the log before the first query.
 * Values: the rebuild rate (domain events per second of `openRegistry`) and the time from
 * calling `openRegistry` to the first query's answer (`getProcess`). Baseline, same run:
 * better-sqlite3 reading every row of the same file in position order and JSON-parsing its
 * data and metadata, the least any rebuild must do. Ratio = registry / raw (a rate: 1.0
 * would be as fast as reading the file; a time: how many times longer than reading it).
 *
 * The store is written directly (see lib/synthetic-log.ts): 20 domain events per process
 * (registration, a grant, lease claim/renew/release, 14 or 15 lines, and for every other
 * process the completion), copied from a template process the registry itself produced.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openRegistry } from '../src/index.ts';
import { fixedClock, processIds } from './lib/fixtures.ts';
import { collectGarbage, nowMs, paired, type RunPlan } from './lib/measure.ts';
import { comparedRow, runScenario } from './lib/scenario.ts';
import { median } from './lib/stats.ts';
import { recordTemplate, synthesizeAll, writeSqliteLog } from './lib/synthetic-log.ts';
import { withTempDir } from './lib/tmp.ts';

const SCENARIO = 'recovery, SQLite';

/** Seconds to open the registry on `path` and answer one query; events in the log. */
async function openOnce(
  path: string,
  probeId: string,
): Promise<{ openS: number; firstQueryS: number }> {
  collectGarbage();
  const start = nowMs();
  const registry = await openRegistry(`sqlite:${path}`, { clock: fixedClock });
  const opened = nowMs();
  const record = await registry.getProcess(probeId);
  const answered = nowMs();
  if (!record) throw new Error(`process ${probeId} missing after open`);
  await registry.close();
  return { openS: (opened - start) / 1000, firstQueryS: (answered - start) / 1000 };
}

/** Seconds for better-sqlite3 to read and JSON-parse every row. */
function rawScan(path: string): number {
  const db = new Database(path, { readonly: true });
  const start = nowMs();
  let rows = 0;
  const statement = db
    .prepare<[], { data: string; metadata: string }>(
      'SELECT position, stream, revision, type, data, metadata, event_id FROM events ORDER BY position',
    )
    .safeIntegers();
  for (const row of statement.iterate()) {
    JSON.parse(row.data);
    JSON.parse(row.metadata);
    rows += 1;
  }
  const seconds = (nowMs() - start) / 1000;
  db.close();
  if (rows === 0) throw new Error('empty store');
  return seconds;
}

await runScenario(SCENARIO, async ({ quick, log }) => {
  const events = quick ? 50_000 : 1_000_000;
  const plan: RunPlan = quick ? { warmup: 1, runs: 2 } : { warmup: 1, runs: 2 };
  const ids = processIds('p', events / 20);
  const template = await recordTemplate();
  return withTempDir(async (dir) => {
    const path = join(dir, 'recovery.db');
    log(`writing ${events} events`);
    const written = writeSqliteLog(
      path,
      synthesizeAll(
        template,
        ids.map((id, i) => ({
          id,
          lines: i % 2 === 0 ? 14 : 15,
          grantSessions: [`session-${i % 1000}`],
          lease: true,
          complete: i % 2 === 0,
        })),
      ),
    );
    if (written !== events) throw new Error(`wrote ${written} events, expected ${events}`);
    const probe = ids[ids.length - 1]!;
    const firstQueries: number[] = [];
    const scans: number[] = [];
    log('opening');
    const rate = await paired(
      plan,
      async () => {
        const { openS, firstQueryS } = await openOnce(path, probe);
        firstQueries.push(firstQueryS);
        log(`opened in ${openS.toFixed(2)} s`);
        return events / openS;
      },
      async () => {
        const seconds = rawScan(path);
        scans.push(seconds);
        return events / seconds;
      },
    );
    // time to first query, paired with the scan of the same round (warm-up dropped)
    const kept = firstQueries.slice(plan.warmup);
    const keptScans = scans.slice(plan.warmup);
    const ratios = kept.map((t, i) => t / keptScans[i]!);
    const firstQuery = { value: median(kept), baseline: median(keptScans), ratio: median(ratios) };
    const note = `${events.toLocaleString('en')} events, ${ids.length.toLocaleString('en')} processes${quick ? ' (quick: 50k, not 1M)' : ''}; ${plan.runs} runs after ${plan.warmup} warm-up`;
    return [
      comparedRow(
        SCENARIO,
        'read-model rebuild on open (openRegistry)',
        rate.value,
        'events/s',
        { what: 'raw better-sqlite3 scan + JSON.parse', value: rate.baseline },
        rate.ratio,
        note,
      ),
      comparedRow(
        SCENARIO,
        'time to first query (openRegistry + getProcess)',
        firstQuery.value,
        's',
        { what: 'raw scan of the whole log', value: firstQuery.baseline },
        firstQuery.ratio,
        note,
      ),
    ];
  });
});
