/**
 * The `procreg` executable (bin/procreg.js runs this, compiled, from dist/). Runs one command line,
 * sets the exit code and lets the event loop drain so piped output is written in full.
 */
import { runCli } from './run.ts';

process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  // The reader went away (`procreg export | head`): nothing more to say, and not a failure.
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  onSignal: (handler) => {
    const listener = (signal: NodeJS.Signals) => handler(signal);
    process.once('SIGINT', listener);
    process.once('SIGTERM', listener);
    return () => {
      process.off('SIGINT', listener);
      process.off('SIGTERM', listener);
    };
  },
});

// Everything is closed; should a store client still hold a handle, do not hang on it.
setTimeout(() => process.exit(), 2000).unref();
