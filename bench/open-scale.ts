/**
 * Question 9: do opening, querying and appending cost the same at 3 thousand events as at
 * hundreds of thousands (and a million)?
 *
 * Two SQLite stores written in the registry's own format (lib/synthetic-log.ts): small,
 * 60 processes × 50 events plus one 1 000-event stream (~4k events); large, 4 000 × 50
 * plus one 50 000-event stream (~250k). Their read models are built once (the first open,
 * not timed here: see `recovery`). Then, each in a fresh OS process: `openRegistry` → the
 * first answers (getProcess, the last 10 events of a process, one session's grants); the
 * first appendEvent on the long stream; the process's RSS. Value: large; baseline: small,
 * same run, alternating. Goals: first answers ≤ max(3×, +250 ms); first append ≤ max(3×,
 * +50 ms); RSS ≤ +64 MiB. The long stream has a persisted snapshot, as any stream that
 * procreg itself wrote does (one is written every 500 revisions); the warm-up run writes it
 * for the synthetic store. Full runs add a 1M-event store: open + first answers (goal
 * < 0.5 s) and `procreg ls` as a whole process against `procreg help` (start-up alone).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openRegistry } from '../src/index.ts';
import { processIds } from './lib/fixtures.ts';
import { nowMs, paired, type RunPlan } from './lib/measure.ts';
import type { Row } from './lib/result.ts';
import { comparedRow, runScenario } from './lib/scenario.ts';
import {
  recordTemplate,
  type SyntheticProcess,
  synthesizeAll,
  type Template,
  writeSqliteLog,
} from './lib/synthetic-log.ts';
import { withTempDir } from './lib/tmp.ts';

const SCENARIO = 'read models at scale, SQLite';
const run = promisify(execFile);
const child = new URL('./lib/open-child.ts', import.meta.url).pathname;
const bin = new URL('../bin/procreg.js', import.meta.url).pathname;

interface Store {
  path: string;
  events: number;
  probe: string;
  long: string;
}

/** `processes` × 50 events, then one stream of `longLines` + 2 events; models built. */
const buildStore = async (
  template: Template,
  path: string,
  processes: number,
  longLines: number,
): Promise<Store> => {
  const ids = processIds('p', processes);
  const shapes: SyntheticProcess[] = ids.map((id, i) => ({
    id,
    lines: 44,
    grantSessions: [`session-${i % 50}`],
    lease: true,
    complete: i % 2 === 0,
  }));
  shapes.push({ id: 'long', lines: longLines, grantSessions: ['session-0'] });
  const events = writeSqliteLog(path, synthesizeAll(template, shapes));
  const registry = await openRegistry(`sqlite:${path}`); // builds the models, once
  await registry.close();
  return { path, events, probe: ids[Math.floor(ids.length / 2)]!, long: 'long' };
};

interface Measured {
  firstAnswersMs: number;
  firstAppendMs: number;
  rssMiB: number;
}

const measure = async (store: Store): Promise<Measured> => {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', child, store.path, store.probe, 'session-7', store.long],
    { cwd: new URL('..', import.meta.url).pathname },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Measured;
};

await runScenario(SCENARIO, async ({ quick, log }) => {
  const plan: RunPlan = quick ? { warmup: 1, runs: 2 } : { warmup: 1, runs: 5 };
  const template = await recordTemplate();
  return withTempDir(async (dir) => {
    log('writing the small and the large store');
    const small = await buildStore(template, join(dir, 'small.db'), 60, 1_000);
    const large = await buildStore(template, join(dir, 'large.db'), quick ? 1_000 : 4_000, 50_000);
    const samples: { small: Measured[]; large: Measured[] } = { small: [], large: [] };
    const answers = await paired(
      plan,
      async () => {
        const m = await measure(large);
        samples.large.push(m);
        return m.firstAnswersMs;
      },
      async () => {
        const m = await measure(small);
        samples.small.push(m);
        return m.firstAnswersMs;
      },
    );
    const kept = (list: Measured[]) => list.slice(plan.warmup);
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const append = {
      value: med(kept(samples.large).map((m) => m.firstAppendMs)),
      baseline: med(kept(samples.small).map((m) => m.firstAppendMs)),
    };
    const rss = {
      value: med(kept(samples.large).map((m) => m.rssMiB)),
      baseline: med(kept(samples.small).map((m) => m.rssMiB)),
    };
    const note = `${large.events.toLocaleString('en')} vs ${small.events.toLocaleString('en')} events; fresh process each; ${plan.runs} runs after ${plan.warmup} warm-up`;
    const baseline = (value: number, unit: string) => ({
      what: `~${Math.round(small.events / 1000)}k-event store`,
      value,
      unit,
    });
    const rows: Row[] = [
      comparedRow(
        SCENARIO,
        'openRegistry → first answers (getProcess, last 10 events, a session’s grants)',
        answers.value,
        'ms',
        baseline(answers.baseline, 'ms'),
        answers.ratio,
        `${note}; goal ≤ max(3×, +250 ms)`,
      ),
      comparedRow(
        SCENARIO,
        'first appendEvent on the long stream (50 000 vs 1 000 events)',
        append.value,
        'ms',
        baseline(append.baseline, 'ms'),
        append.value / append.baseline,
        `${note}; goal ≤ max(3×, +50 ms)`,
      ),
      comparedRow(
        SCENARIO,
        'RSS after those (whole process)',
        rss.value,
        'MiB',
        baseline(rss.baseline, 'MiB'),
        rss.value / rss.baseline,
        `${note}; goal ≤ +64 MiB`,
      ),
    ];
    if (quick) return rows;

    log('writing the 1M-event store');
    const huge = await buildStore(template, join(dir, 'huge.db'), 19_000, 50_000);
    const hugeRuns: Measured[] = [];
    const smallRuns: Measured[] = [];
    for (let i = 0; i < 4; i++) {
      hugeRuns.push(await measure(huge));
      smallRuns.push(await measure(small));
    }
    const hugeAnswers = med(hugeRuns.slice(1).map((m) => m.firstAnswersMs));
    const smallAnswers = med(smallRuns.slice(1).map((m) => m.firstAnswersMs));
    rows.push(
      comparedRow(
        SCENARIO,
        'openRegistry → first answers, 1M-event store',
        hugeAnswers,
        'ms',
        baseline(smallAnswers, 'ms'),
        hugeAnswers / smallAnswers,
        `${huge.events.toLocaleString('en')} events; goal < 500 ms (0.1.0: 18.7 s)`,
      ),
    );
    const cli = async (...args: string[]) => {
      const start = nowMs();
      await run(process.execPath, [bin, '--store', `sqlite:${huge.path}`, ...args]);
      return nowMs() - start;
    };
    const ls = await paired(
      { warmup: 1, runs: 3 },
      () => cli('ls', '--session', 'session-7'),
      () => cli('help'),
    );
    rows.push(
      comparedRow(
        SCENARIO,
        '`procreg ls --session session-7` on the 1M-event store, whole process',
        ls.value,
        'ms',
        { what: '`procreg help` (start-up only)', value: ls.baseline },
        ls.ratio,
        'goal < 1 s; start-up alone is measured by the `startup` scenario',
      ),
    );
    const at = await paired(
      { warmup: 1, runs: 3 },
      () => cli('at', `pos:${Math.round(huge.events / 2)}`, 'ls'),
      () => cli('help'),
    );
    rows.push(
      comparedRow(
        SCENARIO,
        '`procreg at pos:<half> ls` on the 1M-event store, whole process',
        at.value,
        'ms',
        { what: '`procreg help` (start-up only)', value: at.baseline },
        at.ratio,
        'goal < 1 s (0.1.0: ~20 s, a replay of half the log)',
      ),
    );
    return rows;
  });
});
