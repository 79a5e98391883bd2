/**
 * Question: does a worklist page cost the same with 1 000 processes or 100 000?
 *
 * `listProcesses` pages (100 records) with a status filter, with a granted-session filter,
 * deep into the listing through a cursor, and a change-feed page, on a SQLite store of
 * 100k processes (quick 20k) against one of 1k, same run, warm, in-process. The SQLite
 * listing reads one index range from the cursor, so the goal is a flat ratio (≤ 3×). A
 * granted-session page reads that session's grants (ten processes each, in both stores).
 */
import { join } from 'node:path';
import { openRegistry, type ProcessRegistry } from '../src/index.ts';
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

const SCENARIO = 'worklists, SQLite';

const build = async (template: Template, path: string, processes: number) => {
  const ids = processIds('p', processes);
  writeSqliteLog(
    path,
    synthesizeAll(
      template,
      ids.map((id, i) => ({
        id,
        lines: 2,
        // ten processes per session in every store: a session's page is the same size
        grantSessions: [`session-${i % (processes / 10)}`],
        complete: i % 2 === 0,
      })),
    ),
  );
  return openRegistry(`sqlite:${path}`); // builds the read models once
};

/** A cursor about `share` of the way through the running processes. */
const cursorAt = async (registry: ProcessRegistry, share: number, total: number) => {
  let cursor: string | undefined;
  let seen = 0;
  while (seen < (total / 2) * share) {
    const page = await registry.listProcesses(
      { status: 'running' },
      { limit: 1000, ...(cursor ? { cursor } : {}) },
    );
    seen += page.records.length;
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  return cursor;
};

await runScenario(SCENARIO, async ({ quick }) => {
  const runs = quick ? 20 : 100;
  const template = await recordTemplate();
  return withTempDir(async (dir) => {
    const sizes = { small: 1_000, large: quick ? 20_000 : 100_000 };
    const small = await build(template, join(dir, 'small.db'), sizes.small);
    const large = await build(template, join(dir, 'large.db'), sizes.large);
    const stores = { small, large };
    const cursors = {
      small: await cursorAt(small, 0.9, sizes.small),
      large: await cursorAt(large, 0.9, sizes.large),
    };
    const measures: [string, (r: ProcessRegistry, which: 'small' | 'large') => Promise<unknown>][] =
      [
        ['first page of running processes (100)', (r) => r.listProcesses({ status: 'running' })],
        [
          'a page 90% into the running processes (cursor)',
          (r, which) => r.listProcesses({ status: 'running' }, { cursor: cursors[which]! }),
        ],
        [
          "a page of one session's granted processes",
          (r) => r.listProcesses({ grantedSessionId: 'session-42' }),
        ],
        ['a change-feed page (100) from the start', (r) => r.processesChangedSince(undefined, 100)],
      ];
    const rows: Row[] = [];
    for (const [measure, call] of measures) {
      const time = async (which: 'small' | 'large') => {
        await latencies(3, () => call(stores[which], which)); // warm-up
        return median(await latencies(runs, () => call(stores[which], which)));
      };
      const large = await time('large');
      const small = await time('small');
      rows.push(
        comparedRow(
          SCENARIO,
          measure,
          large,
          'ms',
          { what: `the same on ${sizes.small.toLocaleString('en')} processes`, value: small },
          large / small,
          `${sizes.large.toLocaleString('en')} processes (half running, 10 per session); ${runs} runs; goal ≤ 3×`,
        ),
      );
    }
    await small.close();
    await large.close();
    return rows;
  });
});
