import { Readable } from 'node:stream';
import { runCli } from '../../src/cli/run.ts';

/**
 * Runs a command line in this process with captured streams: for the many small cases
 * (argument errors, time formats) where a child process would only add start-up time.
 * The contract itself is checked on the command run as a child process (cli-process.ts).
 */
export const runInProcess = async (
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> => {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runCli(argv, {
    stdout: { write: (text: string) => stdout.push(text) > 0 },
    stderr: { write: (text: string) => stderr.push(text) > 0 },
    stdin: Readable.from([]),
    env: { NO_COLOR: '1', ...env },
    onSignal: () => () => {},
  });
  return { code, stdout: stdout.join(''), stderr: stderr.join('') };
};
