import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Runs the `procreg` command as a child process, the way a user's shell would, from the
 * current sources (procreg-source.js: bin/procreg.js's twin through tsx, so no stale dist/
 * is ever tested here; test/package.test.ts runs the real bin on dist/).
 */

export const BIN = fileURLToPath(new URL('./procreg-source.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** written to stdin, which is then closed */
  input?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * A predictable environment: UTC wall clock (times in output are stable), no colour, no
 * store from the caller's environment (each test names its store).
 */
const childEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC', NO_COLOR: '1', ...extra };
  delete env.FORCE_COLOR;
  if (!('PROCREG_STORE' in extra)) delete env.PROCREG_STORE;
  return env;
};

export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** resolves once stdout satisfies `ready`; rejects after `timeoutMs` or if the CLI exits */
  waitForStdout(ready: (stdout: string) => boolean, timeoutMs?: number): Promise<string>;
  exited: Promise<CliResult>;
}

export const startCli = (args: readonly string[], options: CliOptions = {}): RunningCli => {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: childEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const listener of listeners) listener();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      resolve({ code, signal, stdout, stderr });
      for (const listener of listeners) listener();
    });
  });
  if (options.input !== undefined) child.stdin.end(options.input);
  else child.stdin.end();
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitForStdout: (ready, timeoutMs = 10_000) =>
      new Promise<string>((resolve, reject) => {
        const check = () => {
          if (ready(stdout)) done(() => resolve(stdout));
          else if (child.exitCode !== null || child.signalCode !== null) {
            done(() =>
              reject(new Error(`procreg exited first; stdout: ${stdout} stderr: ${stderr}`)),
            );
          }
        };
        const timer = setTimeout(
          () => done(() => reject(new Error(`timed out; stdout: ${stdout} stderr: ${stderr}`))),
          timeoutMs,
        );
        const done = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      }),
  };
};

/** Runs `procreg <args>` to completion. */
export const runCli = (args: readonly string[], options: CliOptions = {}): Promise<CliResult> =>
  startCli(args, options).exited;

/** Parses a command's `--json` stdout, failing with the CLI's stderr when it is not JSON. */
export const jsonOf = <T = unknown>(result: CliResult): T => {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${result.code}): ${result.stdout}\nstderr: ${result.stderr}`);
  }
};
