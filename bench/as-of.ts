/**
 * Question 10: does "what did the registry look like then?" cost the same at any history
 * length?
 *
 * `asOf(position)` global views (listNonTerminal, listProcesses, one session's grants) at
 * 10%, 50% and 90% of a large store (~250k events; quick 50k), answered from the versioned
 * read models, against the live registry answering the same views on the same store, same
 * run, warm, in-process: the past should cost what the present costs (its answers are
 * proportional to the processes alive then, as live listings are; the note gives the same
 * point of a ~4k-event store). Also: `changesBetween` over a window of 1 000
 * events in each; and the store's size with the versions against the same store with them
 * dropped (goal ≤ 1.5×). Before versions, the same views replayed the log up to the point:
 * 0.6 s at 10%, 3.3 s at 50%, 5.8 s at 90% of 258k events.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openRegistry, type ProcessRegistry } from '../src/index.ts';
import { VERSION_LISTING_TABLES } from '../src/store/sqlite-version-listing.ts';
import { VERSIONED_TABLES } from '../src/store/sqlite-versions.ts';
import { asOfProcesses, pageAt, viewsAt } from './lib/as-of-views.ts';
import { processIds } from './lib/fixtures.ts';
import { latencies } from './lib/measure.ts';
import type { Row } from './lib/result.ts';
import { comparedRow, runScenario } from './lib/scenario.ts';
import { median } from './lib/stats.ts';
import {
  recordTemplate,
  synthesizeAll,
  type Template,
  writeSqliteLog,
} from './lib/synthetic-log.ts';
import { withTempDir } from './lib/tmp.ts';

const SCENARIO = 'asOf at scale, SQLite';

const build = async (template: Template, path: string, processes: number) => {
  const ids = processIds('p', processes);
  const events = writeSqliteLog(path, synthesizeAll(template, asOfProcesses(ids)));
  const registry = await openRegistry(`sqlite:${path}`); // builds models and versions
  return { registry, events };
};

await runScenario(SCENARIO, async ({ quick, log }) => {
  const runs = quick ? 5 : 15;
  const template = await recordTemplate();
  return withTempDir(async (dir) => {
    log('writing the stores');
    const small = await build(template, join(dir, 'small.db'), 80);
    const large = await build(template, join(dir, 'large.db'), quick ? 1_000 : 5_000);
    const rows: Row[] = [];
    const note = `${large.events.toLocaleString('en')} vs ${small.events.toLocaleString('en')} events; ${runs} runs, fresh view each`;
    for (const share of [0.1, 0.5, 0.9]) {
      await viewsAt(large.registry, Math.round(large.events * share), 2); // warm-up
      const value = await viewsAt(large.registry, Math.round(large.events * share), runs);
      const live = await viewsAt(large.registry, 'live', runs);
      const smallAt = await viewsAt(small.registry, Math.round(small.events * share), runs);
      rows.push(
        comparedRow(
          SCENARIO,
          `asOf(${share * 100}% of the log): listNonTerminal + listProcesses + a session's grants`,
          value,
          'ms',
          { what: 'the live registry, same views, same store', value: live },
          value / live,
          `${note}; the same point of the small store: ${smallAt.toFixed(2)} ms`,
        ),
      );
    }
    // one page as of the point: an index walk in list order, flat in the log's length
    for (const [what, filter] of [
      ['listProcesses first page', {}],
      ['listProcesses({ status: completed }) first page', { status: 'completed' as const }],
      ['listProcesses({ status: running }) first page', { status: 'running' as const }],
      [
        "listProcesses({ grantedSessionId }) first page (a session's ~1/50)",
        { grantedSessionId: 'session-7' },
      ],
    ] as const) {
      const points = [0.1, 0.5, 0.9];
      const at = async (registry: ProcessRegistry, events: number) => {
        const ms: number[] = [];
        for (const share of points) {
          ms.push(await pageAt(registry, Math.round(events * share), runs, filter));
        }
        return ms;
      };
      await at(large.registry, large.events); // warm-up
      const largeMs = await at(large.registry, large.events);
      const smallMs = await at(small.registry, small.events);
      const fmt = (ms: number[]) => ms.map((v) => v.toFixed(2)).join(' / ');
      const worst = Math.max(...largeMs.map((v, i) => v / smallMs[i]!));
      const most = Math.max(...largeMs.map((v, i) => v - smallMs[i]!));
      rows.push(
        comparedRow(
          SCENARIO,
          `asOf(10% / 50% / 90%): ${what} (100 records); value is 90%`,
          largeMs[2]!,
          'ms',
          {
            what: `the same points of the small store: ${fmt(smallMs)} ms`,
            value: smallMs[2]!,
          },
          largeMs[2]! / smallMs[2]!,
          `${note}; large store ${fmt(largeMs)} ms; worst ratio ${worst.toFixed(2)}×, worst difference +${most.toFixed(2)} ms (goal ≤ max(3×, +100 ms); the small store's page at 10% holds its 8 processes of then)`,
        ),
      );
    }
    const window = async (registry: ProcessRegistry, events: number) =>
      median(
        await latencies(runs, () =>
          registry.changesBetween({ position: events / 2 }, { position: events / 2 + 1_000 }),
        ),
      );
    const changes = {
      value: await window(large.registry, large.events),
      baseline: await window(small.registry, small.events),
    };
    rows.push(
      comparedRow(
        SCENARIO,
        'changesBetween over a window of 1 000 events',
        changes.value,
        'ms',
        {
          what: `the same window of the ~${Math.round(small.events / 1000)}k-event store`,
          value: changes.baseline,
        },
        changes.value / changes.baseline,
        note,
      ),
    );
    await small.registry.close();
    await large.registry.close();

    log('measuring the size of the versions');
    const path = join(dir, 'large.db');
    const withVersions = statSync(path).size;
    const db = new Database(path);
    for (const table of [...VERSIONED_TABLES, ...VERSION_LISTING_TABLES]) {
      db.exec(`DELETE FROM ${table}`);
    }
    db.exec('VACUUM');
    db.close();
    const without = statSync(path).size;
    rows.push(
      comparedRow(
        SCENARIO,
        'store size with versions',
        withVersions / 2 ** 20,
        'MiB',
        { what: 'the same store without them', value: without / 2 ** 20 },
        withVersions / without,
        `${large.events.toLocaleString('en')} events, 50 per process (lease claimed, renewed, released; half completed); goal ≤ 1.5×`,
      ),
    );
    return rows;
  });
});
