/**
 * The waiter child process of the latency benchmarks (waiter-child.ts), driven by messages.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { sleep } from './measure.ts';
import type { FromChild, ToChild, WaitMode } from './waiters.ts';

/** Where the waiter runs: returns the monotonic time it saw the event after `after`. */
export type Waiter = (
  mode: WaitMode,
  after: number,
) => Promise<{ ready: Promise<void>; seen: Promise<number> }>;

export type ChildOptions = { pollIntervalMs?: number; watchFile?: boolean };

/** A waiter child process on the same store (a SQLite file, a PostgreSQL schema). */
export async function startWaiterChild(url: string, processId: string, options: ChildOptions = {}) {
  const child = fork(new URL('./waiter-child.ts', import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = (type: FromChild['type']) =>
    new Promise<FromChild>((resolve, reject) => {
      const onMessage = (m: FromChild) => {
        if (m.type === 'failed') reject(new Error(`waiter child: ${m.message}`));
        else if (m.type === type) {
          child.off('message', onMessage);
          resolve(m);
        }
      };
      child.on('message', onMessage);
    });
  const send = (m: ToChild) => child.send(m);
  send({ type: 'open', url, ...options });
  await next('opened');
  const waiter: Waiter = async (mode, after) => {
    const ready = next('ready').then(() => undefined);
    const seen = next('resolved').then((m) => (m.type === 'resolved' ? m.at : Number.NaN));
    send({ type: 'wait', mode, processId, after });
    return { ready, seen };
  };
  const idle = async (ms: number): Promise<number> => {
    const idled = next('idled');
    send({ type: 'idle', ms, processId });
    const m = await idled;
    return m.type === 'idled' ? m.cpuMs : Number.NaN;
  };
  return { child, waiter, idle, close: () => closeChild(child, send) };
}

async function closeChild(child: ChildProcess, send: (m: ToChild) => void): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  send({ type: 'close' });
  await Promise.race([exited, sleep(5000)]);
  if (child.exitCode === null) child.kill();
}
