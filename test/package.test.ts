import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * What is published: `import 'procreg'` resolves to the compiled dist/ and `procreg` runs
 * bin/procreg.js on it, both without a TypeScript loader, each loading only the store
 * driver its URL names. `npm test` builds dist/ first (as `npm ci` does through the prepare
 * script), so this checks the current sources' build.
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'procreg.js');
const dir = mkdtempSync(join(tmpdir(), 'procreg-package-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A module hook that prints every file URL the process resolves, one per stderr line. */
const hook =
  'export async function resolve(s, c, next) { const r = await next(s, c);' +
  " if (r.url.startsWith('file:')) process.stderr.write('LOADED ' + r.url + '\\n'); return r; }";
const tracer = `data:text/javascript,${encodeURIComponent(
  `import { register } from 'node:module'; register(${JSON.stringify(
    `data:text/javascript,${encodeURIComponent(hook)}`,
  )});`,
)}`;

/** Runs node with the tracer; returns its output and the repository files it loaded. */
const traced = (args: readonly string[], cwd = dir) => {
  const child = spawnSync(process.execPath, ['--import', tracer, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', TZ: 'UTC', PROCREG_STORE: '' },
  });
  const loaded = [...child.stderr.matchAll(/^LOADED (.*)$/gm)].map((m) =>
    relative(root, fileURLToPath(m[1]!)).split('\\').join('/'),
  );
  const stderr = child.stderr.replace(/^LOADED .*\n/gm, '');
  return { code: child.status, stdout: child.stdout, stderr, loaded };
};

const drivers = ['better-sqlite3', '@eventstore/db-client', 'pg'];
/** what only `procreg serve` needs */
const httpStack = ['hono', '@hono/node-server', 'pino', 'prom-client'];

const packages = (loaded: readonly string[]): Set<string> =>
  new Set(
    loaded.flatMap((path) => {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
      return m ? [m[1]!] : [];
    }),
  );

const sources = (dirPath: string): string[] =>
  readdirSync(dirPath, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dirPath, entry.name);
    return entry.isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });

describe('the built package', () => {
  it('dist/ is built from the current sources', () => {
    const stale = sources(join(root, 'src')).filter((source) => {
      const built = join(root, 'dist', relative(join(root, 'src'), source)).replace(/\.ts$/, '.js');
      return !existsSync(built) || statSync(built).mtimeMs < statSync(source).mtimeMs;
    });
    expect(stale, 'dist/ is older than these sources: run `npm run build`').toEqual([]);
  });

  it('exports the public API from dist/, loading no store driver for memory:', () => {
    const script = [
      "const api = await import('procreg');",
      'console.log(JSON.stringify(Object.keys(api).sort()));',
      "const registry = await api.openRegistry('memory:');",
      "const record = await registry.registerProcess({ id: 'p', input: { type: 't' } });",
      "const bad = await registry.getProcess(' ').catch((e) => e instanceof api.RegistryError);",
      'console.log(JSON.stringify([record.status, bad]));',
      'await registry.close();',
    ].join('\n');
    // `procreg` resolves through package.json's exports, as in a dependant's node_modules
    const run = traced(['--input-type=module', '-e', script], root);
    expect(run.stderr).toBe('');
    const [keys, outcome] = run.stdout.trim().split('\n');
    expect(JSON.parse(keys!)).toEqual([
      'ProcessRegistry',
      'RegistryError',
      'cancelRequest',
      'errorCodes',
      'isRegistryError',
      'openRegistry',
    ]);
    expect(JSON.parse(outcome!)).toEqual([{ state: 'running' }, true]);
    expect(run.loaded.filter((path) => path.startsWith('src/'))).toEqual([]);
    const used = packages(run.loaded);
    for (const absent of [...drivers, 'tsx', ...httpStack]) {
      expect(used.has(absent), absent).toBe(false);
    }
  });

  it('`procreg help` runs dist/ and loads neither the registry nor any dependency', () => {
    const run = traced([bin, 'help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/procreg/);
    expect(run.loaded.filter((path) => path.startsWith('src/'))).toEqual([]);
    expect(run.loaded).toContain('dist/cli/main.js');
    expect(run.loaded).not.toContain('dist/registry.js');
    expect([...packages(run.loaded)]).toEqual([]);
  });

  it('`procreg demo` and `show` on SQLite load its driver and no other', () => {
    const store = `sqlite:${join(dir, 'demo.db')}`;
    expect(traced([bin, '--store', store, 'demo']).code).toBe(0);
    const run = traced([bin, '--store', store, 'show', 'demo:agent:main', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ process: { id: 'demo:agent:main' } });
    const used = packages(run.loaded);
    expect(used.has('better-sqlite3')).toBe(true);
    for (const absent of ['@eventstore/db-client', 'pg', 'tsx', ...httpStack]) {
      expect(used.has(absent), absent).toBe(false);
    }
    expect(run.loaded.filter((path) => path.startsWith('src/'))).toEqual([]);
  });
});
