/**
 * Question: how long does the `procreg` command take to answer, as a whole process?
 *
 * The installed binary (bin/procreg.js running the compiled dist/, no TypeScript loader) on
 * a small SQLite store (`procreg demo`, 29 events): `procreg help` (start-up alone: it loads
 * neither the registry nor any dependency) and `procreg show <id>` (open the store, read
 * one process, close), and `import('procreg')` of the built package. Baseline: `node -e 0`,
 * the floor of any Node process, measured alternately in the same run.
 * Goals: help < 150 ms, show < 300 ms.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { nowMs, paired } from './lib/measure.ts';
import type { Row } from './lib/result.ts';
import { comparedRow, runScenario } from './lib/scenario.ts';
import { withTempDir } from './lib/tmp.ts';

const SCENARIO = 'CLI start-up';
const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'procreg.js');

/** The bench measures what users run: refuse a dist/ older than the sources. */
const requireFreshBuild = (dir: string): void => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      requireFreshBuild(path);
      continue;
    }
    if (!path.endsWith('.ts')) continue;
    const built = join(root, 'dist', relative(join(root, 'src'), path)).replace(/\.ts$/, '.js');
    if (!existsSync(built) || statSync(built).mtimeMs < statSync(path).mtimeMs) {
      throw new Error(`dist/ is older than ${relative(root, path)}; run \`npm run build\` first`);
    }
  }
};

const timedRun = async (args: readonly string[]): Promise<number> => {
  const start = nowMs();
  await run(process.execPath, [...args], { cwd: root, env: { ...process.env, NO_COLOR: '1' } });
  return nowMs() - start;
};

await runScenario(SCENARIO, async ({ quick, log }) => {
  requireFreshBuild(join(root, 'src'));
  return withTempDir(async (dir) => {
    const store = `sqlite:${join(dir, 'demo.db')}`;
    await run(process.execPath, [bin, '--store', store, 'demo']);
    const plan = quick ? { warmup: 1, runs: 5 } : { warmup: 2, runs: 21 };
    const floor = () => timedRun(['-e', '0']);
    const cases: [string, readonly string[], string][] = [
      ['`procreg help`, whole process', [bin, 'help'], 'goal < 150 ms'],
      [
        '`procreg show demo:agent:main`, small SQLite store, whole process',
        [bin, '--store', store, 'show', 'demo:agent:main'],
        'goal < 300 ms',
      ],
      [
        "`import('procreg')` (dist/), whole process",
        ['--input-type=module', '-e', "await import('procreg')"],
        'zod and rxjs load; no store driver',
      ],
    ];
    const rows: Row[] = [];
    for (const [measure, args, note] of cases) {
      log(measure);
      const result = await paired(plan, () => timedRun(args), floor);
      rows.push(
        comparedRow(
          SCENARIO,
          measure,
          result.value,
          'ms',
          { what: '`node -e 0`', value: result.baseline },
          result.ratio,
          `${note}; +${(result.value - result.baseline).toFixed(0)} ms over node`,
        ),
      );
    }
    return rows;
  });
});
