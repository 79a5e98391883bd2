import { fork } from 'node:child_process';
import { sleep } from './measure.ts';

/** The EventStoreDB stand-in in its own OS process (esdb-standin-child.ts), and how to stop it. */
export async function startStandIn() {
  const child = fork(new URL('./esdb-standin-child.ts', import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const connectionString = await new Promise<string>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { connectionString: string }).connectionString));
    child.once('exit', (code) => reject(new Error(`stand-in exited with ${code}`)));
  });
  const stop = async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.send('stop');
    await Promise.race([exited, sleep(5000)]);
    if (child.exitCode === null) child.kill();
  };
  return { connectionString, stop };
}
