/**
 * A PostgreSQL server for the tests. In order of preference:
 * 1. `PROCREG_TEST_POSTGRES_URL` (an existing server; each test works in its own schema,
 *    dropped afterwards);
 * 2. a throwaway server from `initdb`/`pg_ctl` found on PATH or in
 *    /usr/lib/postgresql/<version>/bin, in a temp dir, on a free port, stopped and deleted
 *    afterwards. PostgreSQL refuses to run as root, so under root the data directory
 *    belongs to, and the server runs as, the unprivileged user `nobody`.
 * When neither is possible the suites are skipped (never passed) and say so loudly.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';

export interface TestPostgres {
  /** a URL to the server's `postgres` database, no schema parameter */
  url: string;
  /** `SELECT version()` */
  version: string;
  /** true for a server started here (it can be stopped and started again) */
  managed: boolean;
  /** a URL to a fresh, empty schema; `drop` removes it (on an existing server) */
  freshSchema(): { url: string; schema: string; drop: () => Promise<void> };
  /** `pg_ctl stop -m immediate`: the server dies as in a crash (managed servers only) */
  crash(): Promise<void>;
  /** starts a crashed or stopped managed server again on the same port and data */
  restart(): Promise<void>;
  /** stops a managed server and deletes its files; nothing for an existing server */
  stop(): Promise<void>;
}

export type TestPostgresResult = { server: TestPostgres } | { skipped: string };

const versionOf = async (url: string): Promise<string> => {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return (await client.query<{ version: string }>('SELECT version()')).rows[0]!.version;
  } finally {
    await client.end();
  }
};

/** initdb and pg_ctl from PATH, else from the newest /usr/lib/postgresql/<n>/bin. */
export const findPostgresBinaries = (): string | undefined => {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian).sort((a, b) => Number(b) - Number(a));
    dirs.push(...versions.map((v) => join(debian, v, 'bin')));
  }
  return dirs.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
};

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/** The unprivileged user to run the server as when we are root. */
const serverUser = (): { uid: number; gid: number } | undefined => {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'nobody']).toString().trim());
  return { uid: id('-u'), gid: id('-g') };
};

const run = (
  binary: string,
  args: string[],
  user: { uid: number; gid: number } | undefined,
): Promise<void> =>
  new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH ?? '', LC_ALL: 'C', LANG: 'C' },
      cwd: tmpdir(),
      ...(user ?? {}),
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${binary} ${args.join(' ')} exited ${code}: ${stderr.trim()}`)),
    );
  });

/**
 * Starts a throwaway server. `durable: false` turns fsync off (faster; fine where no test
 * depends on surviving an OS crash); the crash test keeps PostgreSQL's defaults.
 */
export const startThrowawayPostgres = async (
  bin: string,
  { durable = false }: { durable?: boolean } = {},
): Promise<TestPostgres> => {
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'procreg-pg-'));
  const data = join(dir, 'data');
  const sockets = join(dir, 'sockets');
  mkdirSync(sockets);
  if (user) {
    for (const path of [dir, sockets]) chownSync(path, user.uid, user.gid);
  }
  const pgCtl = join(bin, 'pg_ctl');
  await run(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '--no-locale', '-E', 'UTF8', '--no-sync'],
    user,
  );
  let port = 0;
  const start = async () =>
    run(
      pgCtl,
      [
        '-D',
        data,
        '-l',
        join(dir, 'server.log'),
        '-w',
        '-t',
        '60',
        '-o',
        [
          `-p ${port}`,
          `-k ${sockets}`,
          '-c listen_addresses=127.0.0.1',
          '-c max_connections=300',
          '-c shared_buffers=32MB',
          durable ? '' : '-c fsync=off',
        ].join(' '),
        'start',
      ],
      user,
    );
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await start();
      break;
    } catch (error) {
      // another process took the port between our probe and the server's bind
      if (attempt >= 3) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let stopped = false;
  const server: TestPostgres = {
    url,
    version: await versionOf(url),
    managed: true,
    freshSchema: () => {
      const schema = `t_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
      return { url: `${url}?schema=${schema}`, schema, drop: async () => {} };
    },
    crash: () => run(pgCtl, ['-D', data, '-m', 'immediate', 'stop'], user),
    restart: start,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await run(pgCtl, ['-D', data, '-m', 'fast', 'stop'], user).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
};

const existingServer = async (url: string): Promise<TestPostgres> => ({
  url,
  version: await versionOf(url),
  managed: false,
  freshSchema: () => {
    const schema = `t_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
    const separator = url.includes('?') ? '&' : '?';
    return {
      url: `${url}${separator}schema=${schema}`,
      schema,
      drop: async () => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        } finally {
          await client.end();
        }
      },
    };
  },
  crash: async () => {
    throw new Error('cannot crash a server this test run did not start');
  },
  restart: async () => {},
  stop: async () => {},
});

const banner = (lines: string[]): string =>
  ['', '!'.repeat(78), ...lines.map((l) => `!!! ${l}`), '!'.repeat(78), ''].join('\n');

/**
 * The server a test file uses: the existing one, else a throwaway one (`managed: true`
 * asks for one this run controls, for the crash test). Logs the server version, or a loud
 * notice that the file's PostgreSQL suites are skipped.
 */
export const testPostgres = async (
  file: string,
  { managed = false, durable = false }: { managed?: boolean; durable?: boolean } = {},
): Promise<TestPostgresResult> => {
  const existing = process.env.PROCREG_TEST_POSTGRES_URL;
  try {
    if (existing && !managed) {
      const server = await existingServer(existing);
      console.log(`${file}: PostgreSQL at PROCREG_TEST_POSTGRES_URL: ${server.version}`);
      return { server };
    }
    const bin = findPostgresBinaries();
    if (!bin) {
      const skipped = `no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin${
        managed
          ? ' (this test needs a server it can stop)'
          : ', and PROCREG_TEST_POSTGRES_URL is not set'
      }`;
      console.warn(
        banner([
          `${file}: PostgreSQL tests SKIPPED (not passed): ${skipped}.`,
          'Install PostgreSQL (e.g. apt-get install -y postgresql; .ci/run does it on CI)',
          'or set PROCREG_TEST_POSTGRES_URL=postgres://user@host:5432/db.',
        ]),
      );
      return { skipped };
    }
    const server = await startThrowawayPostgres(bin, { durable });
    console.log(`${file}: throwaway PostgreSQL from ${bin}: ${server.version}`);
    return { server };
  } catch (error) {
    const skipped = `could not start or reach PostgreSQL: ${(error as Error).message}`;
    console.warn(banner([`${file}: PostgreSQL tests SKIPPED (not passed): ${skipped}`]));
    return { skipped };
  }
};
