/**
 * The benchmark runner: `npm run bench [-- --quick] [-- --only name[,name]]`.
 *
 * Runs each scenario (bench/<name>.ts) in a fresh child process, so one scenario's heap
 * does not skew another's and RSS is measurable; collects the JSON result line each prints;
 * prints one markdown table and writes bench/results/latest.md and latest.json (gitignored).
 * Every figure is a median after a warm-up and comes with a baseline measured in the same
 * run: compare ratios across machines and runs, not absolute values.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { nowMs } from './lib/measure.ts';
import { RESULT_MARK, type Row, type ScenarioResult } from './lib/result.ts';
import { failedRow } from './lib/scenario.ts';
import { markdownTable } from './lib/table.ts';

/** In the order they run; each name is bench/<name>.ts. */
const SCENARIOS = [
  'startup',
  'append-sqlite',
  'append-memory',
  'integrity',
  'integrity-postgres',
  'cost-growth',
  'event-counts',
  'waiter-latency',
  'waiter-scale',
  'waiter-memory',
  'recovery',
  'open-scale',
  'as-of',
  'as-of-esdb',
  'worklists',
  'prune',
  'prune-esdb',
  'as-of-postgres',
  'journal',
  'memory',
  'esdb-standin',
  'http',
  'postgres',
] as const;

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? (args[onlyAt + 1] ?? '').split(',').filter(Boolean) : [];
const unknown = only.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
if (unknown.length > 0) {
  console.error(`unknown scenario ${unknown.join(', ')}; choose from ${SCENARIOS.join(', ')}`);
  process.exit(2);
}
const selected = SCENARIOS.filter((name) => only.length === 0 || only.includes(name));
const benchDir = fileURLToPath(new URL('.', import.meta.url));
const projectDir = fileURLToPath(new URL('..', import.meta.url));
/** A scenario that takes longer than this is stopped and reported as failed. */
const timeoutMs = quick ? 120_000 : 1_200_000;

const runScenarioFile = (name: string): Promise<ScenarioResult> =>
  new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--expose-gc',
        '--max-old-space-size=8192',
        '--import',
        'tsx',
        `${benchDir}${name}.ts`,
        ...(quick ? ['--quick'] : []),
      ],
      { cwd: projectDir, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARK));
      if (line) {
        resolve(JSON.parse(line.slice(RESULT_MARK.length)) as ScenarioResult);
        return;
      }
      const why = signal ? `killed by ${signal}` : `exited with code ${code}`;
      const error = new Error(
        `${why}${signal === 'SIGKILL' ? ` (timeout ${timeoutMs / 1000} s)` : ''}, no result`,
      );
      resolve({ scenario: name, quick, elapsedMs: 0, rows: [failedRow(name, error)] });
    });
  });

const cpu = cpus();
const machine = {
  cpu: cpu[0]?.model.trim() ?? 'unknown',
  cores: cpu.length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  os: `${platform()} ${release()}`,
  tmpdir: tmpdir(),
  date: new Date().toISOString(),
  loadAverageAtStart: loadavg()[0]!,
};

const start = nowMs();
const results: ScenarioResult[] = [];
for (const name of selected) {
  process.stderr.write(`\n== ${name}${quick ? ' (quick)' : ''}\n`);
  results.push(await runScenarioFile(name));
}
const elapsedS = (nowMs() - start) / 1000;
const rows: Row[] = results.flatMap((r) => r.rows);
const header = [
  `## procreg benchmarks${quick ? ' (quick)' : ''}`,
  '',
  `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.os}; temp files in ${machine.tmpdir}; ${machine.date}; load average ${machine.loadAverageAtStart.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end; ${elapsedS.toFixed(0)} s in total (${results.map((r) => `${r.scenario} ${(r.elapsedMs / 1000).toFixed(0)} s`).join(', ')}).`,
  '',
  'Each value and baseline is a median over several runs after a warm-up (latencies: percentiles of pooled samples); ratio = value / baseline, measured in the same run (for paired runs, the median of per-run ratios).',
  '',
].join('\n');
const markdown = `${header}${markdownTable(rows)}\n`;
process.stdout.write(`\n${markdown}`);

const resultsDir = `${benchDir}results`;
mkdirSync(resultsDir, { recursive: true });
writeFileSync(`${resultsDir}/latest.md`, markdown);
writeFileSync(
  `${resultsDir}/latest.json`,
  `${JSON.stringify({ quick, machine, elapsedS, results }, null, 2)}\n`,
);
process.stderr.write(
  `\nwritten to bench/results/latest.md and latest.json (${elapsedS.toFixed(0)} s)\n`,
);
if (rows.some((r) => r.measure === 'FAILED')) process.exitCode = 1;
