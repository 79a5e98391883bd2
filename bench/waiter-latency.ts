/**
 * Question 4: how soon does a waiter learn of an appended event?
 *
 * Value: time from `appendEvent` returning (in the appending process) to `waitEventAfter`
 * resolving, p50 and p99: in the same process (memory and SQLite), and in another OS
 * process on the same SQLite file. Baseline, measured in the same run with samples
 * interleaved: a waiter that calls `eventsAfter` every 50 ms, as the original Rust
 * registry does. Ratio = registry / poll: below 1 is better than polling.
 *
 * In-process, a waiter is fed by the registry's own read-your-writes path, which applies
 * the event before `appendEvent` returns, so it usually resolves first: such samples count
 * as 0 (the note says how often). Across processes the live feed finds other processes'
 * appends by polling the file's head (SqliteStoreOptions.pollIntervalMs, 30 ms by default),
 * which bounds that figure; one row shows the same with a 5 ms interval.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { openRegistry, type ProcessRegistry } from '../src/index.ts';
import { fixedClock, lineRequest, registration } from './lib/fixtures.ts';
import { nowMs, sleep } from './lib/measure.ts';
import type { Row } from './lib/result.ts';
import { comparedRow, runScenario } from './lib/scenario.ts';
import { percentile } from './lib/stats.ts';
import { withTempDir } from './lib/tmp.ts';
import { type FromChild, POLL_MS, type ToChild, type WaitMode, waitFor } from './lib/waiters.ts';

const SCENARIO = 'waiter latency';
const ID = 'waited-on';

interface Samples {
  registry: number[];
  poll: number[];
  /** registry samples: from calling appendEvent to the waiter resolving */
  fromCall: number[];
  /** registry samples where the waiter resolved before appendEvent returned */
  early: number;
}

/** Where the waiter runs: returns the monotonic time it saw the event after `after`. */
type Waiter = (
  mode: WaitMode,
  after: number,
) => Promise<{ ready: Promise<void>; seen: Promise<number> }>;

async function sample(registry: ProcessRegistry, waiter: Waiter, n: number): Promise<Samples> {
  const out: Samples = { registry: [], poll: [], fromCall: [], early: 0 };
  let sequence = (await registry.eventsAfter(ID, 0)).length;
  // one warm-up sample of each, then alternate so noise lands on both
  for (let i = -2; i < 2 * n; i++) {
    const mode: WaitMode = i % 2 === 0 ? 'registry' : 'poll';
    const { ready, seen } = await waiter(mode, sequence);
    await ready;
    // a uniformly random phase against the poll timers
    await sleep(Math.random() * POLL_MS);
    const called = nowMs();
    await registry.appendEvent(ID, lineRequest(++sequence));
    const returned = nowMs();
    const at = await seen;
    if (i < 0) continue;
    if (mode === 'registry') {
      if (at < returned) out.early += 1;
      out.fromCall.push(at - called);
    }
    out[mode].push(Math.max(0, at - returned));
  }
  return out;
}

function rowsOf(where: string, s: Samples, note: string): Row[] {
  return [50, 99].map((p) => {
    const v = percentile(s.registry, p);
    const b = percentile(s.poll, p);
    const early = `${Math.round((100 * s.early) / s.registry.length)}% resolved before append returned (counted as 0); from appendEvent call: ${percentile(s.fromCall, p).toFixed(3)} ms. `;
    return comparedRow(
      SCENARIO,
      `${where}, waitEventAfter p${p}`,
      v,
      'ms',
      { what: `eventsAfter polled every ${POLL_MS} ms`, value: b },
      b > 0 ? v / b : Number.NaN,
      `${s.registry.length} samples each. ${s.early > 0 ? early : ''}${note}`,
    );
  });
}

/** A waiter child process on the same file. */
async function startChild(url: string, pollIntervalMs?: number) {
  const child = fork(new URL('./lib/waiter-child.ts', import.meta.url), [], {
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
  send({ type: 'open', url, ...(pollIntervalMs !== undefined ? { pollIntervalMs } : {}) });
  await next('opened');
  const waiter: Waiter = async (mode, after) => {
    const ready = next('ready').then(() => undefined);
    const seen = next('resolved').then((m) => (m.type === 'resolved' ? m.at : Number.NaN));
    send({ type: 'wait', mode, processId: ID, after });
    return { ready, seen };
  };
  return { child, waiter, close: () => closeChild(child, send) };
}

async function closeChild(child: ChildProcess, send: (m: ToChild) => void): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  send({ type: 'close' });
  await Promise.race([exited, sleep(5000)]);
  if (child.exitCode === null) child.kill();
}

await runScenario(SCENARIO, async ({ quick, log }) => {
  const n = quick ? 12 : 100;
  const rows: Row[] = [];
  const inProcess =
    (registry: ProcessRegistry): Waiter =>
    async (mode, after) => ({
      ready: Promise.resolve(),
      seen: waitFor(registry, mode, ID, after),
    });
  log('in-process, memory');
  const memory = await openRegistry('memory:', { clock: fixedClock });
  await memory.registerProcess(registration(ID));
  rows.push(...rowsOf('in-process, memory', await sample(memory, inProcess(memory), n), ''));
  await memory.close();

  return withTempDir(async (dir) => {
    const url = `sqlite:${join(dir, 'shared.db')}`;
    const registry = await openRegistry(url, { clock: fixedClock });
    await registry.registerProcess(registration(ID));
    log('in-process, SQLite');
    rows.push(...rowsOf('in-process, SQLite', await sample(registry, inProcess(registry), n), ''));
    for (const pollIntervalMs of [undefined, 5]) {
      log(`other OS process, SQLite, pollIntervalMs ${pollIntervalMs ?? 'default'}`);
      const child = await startChild(url, pollIntervalMs);
      try {
        const where =
          pollIntervalMs === undefined
            ? 'other OS process, same SQLite file'
            : `other OS process, pollIntervalMs=${pollIntervalMs} (not the default)`;
        const note =
          pollIntervalMs === undefined
            ? 'Bounded by the live feed polling the file head every 30 ms (pollIntervalMs).'
            : 'Shows the bound is the feed poll interval (sqlite:<path>?pollIntervalMs=5).';
        rows.push(...rowsOf(where, await sample(registry, child.waiter, n), note));
      } finally {
        await child.close();
      }
    }
    await registry.close();
    return rows;
  });
});
