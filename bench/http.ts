/**
 * Question 8: what does the network face cost?
 *
 * The service runs in its own process (bench/lib/service-child.ts) on the memory store, so
 * the figures are the HTTP layer's cost, not the store's; the client is the remote
 * `ProcessRegistry` (keep-alive connections). Baselines are measured in the same run with
 * slices interleaved: the same call on an in-process registry (memory store).
 * - appendEvent, 1 client awaiting each call, and 32 concurrent callers.
 * - SSE fan-out: 100 remote `events$` subscribers on one process; latency from
 *   `appendEvent` being called to each subscriber receiving the event (p50/p99 over all
 *   deliveries), against 100 in-process subscribers.
 * - A load run: 32 keep-alive connections appending for 30 s (5 s with --quick) with raw
 *   HTTP requests, as a load tool would; p50/p99 and the error count (must be 0).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { openRegistry, type ProcessRegistry } from '../src/index.ts';
import { fixedClock, lineRequest, processIds, registration } from './lib/fixtures.ts';
import {
  nowMs,
  pairedThroughput,
  type ThroughputPlan,
  timed,
  timedConcurrent,
} from './lib/measure.ts';
import type { Row } from './lib/result.ts';
import { comparedRow, runScenario } from './lib/scenario.ts';
import { percentile } from './lib/stats.ts';

const SCENARIO = 'HTTP service';
const PROCESSES = 64;

const startServiceProcess = async (): Promise<{ url: string; child: ChildProcess }> => {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(new URL('./lib/service-child.ts', import.meta.url)),
      'memory:',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /port (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`service exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
};

await runScenario(SCENARIO, async ({ quick, log }) => {
  const plan: ThroughputPlan = quick
    ? { warmup: 1, runs: 3, chunks: 2 }
    : { warmup: 1, runs: 5, chunks: 4 };
  const perChunk = quick ? 200 : 1000;
  const { url, child } = await startServiceProcess();
  const rows: Row[] = [];
  try {
    const remote = await openRegistry(url);
    const local = await openRegistry('memory:', { clock: fixedClock });
    const ids = processIds('h', PROCESSES);
    for (const id of ids) {
      await remote.registerProcess(registration(id));
      await local.registerProcess(registration(id));
    }

    for (const callers of [1, 32]) {
      log(`appendEvent, ${callers} caller(s)`);
      const run = (registry: ProcessRegistry) => () =>
        callers === 1
          ? timed(perChunk, (i) => registry.appendEvent(ids[i % PROCESSES]!, lineRequest(i)))
          : timedConcurrent(perChunk, callers, (i) =>
              registry.appendEvent(ids[i % PROCESSES]!, lineRequest(i)),
            );
      const result = await pairedThroughput(plan, run(remote), run(local));
      rows.push(
        comparedRow(
          SCENARIO,
          `appendEvent over HTTP, ${callers === 1 ? '1 client' : '32 concurrent callers'} (keep-alive)`,
          result.value,
          'ops/s',
          {
            what: `in-process appendEvent, ${callers === 1 ? 'sequential' : '32 concurrent'}`,
            value: result.baseline,
          },
          result.ratio,
          `memory store behind both; ${perChunk * plan.chunks} calls per run`,
        ),
      );
    }

    log('SSE fan-out to 100 subscribers');
    const fanout = async (registry: ProcessRegistry, id: string, events: number) => {
      const sent = new Map<number, number>();
      const samples: number[] = [];
      let pending = 0;
      let allIn: () => void = () => {};
      const start = (await registry.eventsAfter(id, 0)).length;
      const subscriptions = Array.from({ length: 100 }, () =>
        registry.events$(id, start).subscribe((event) => {
          samples.push(nowMs() - sent.get(event.sequence)!);
          if (--pending === 0) allIn();
        }),
      );
      // every subscriber is connected once each has received a first event
      pending = 100;
      let warm = new Promise<void>((resolve) => {
        allIn = resolve;
      });
      sent.set(start + 1, nowMs());
      await registry.appendEvent(id, lineRequest(0));
      await warm;
      samples.length = 0;
      for (let i = 0; i < events; i++) {
        pending = 100;
        warm = new Promise<void>((resolve) => {
          allIn = resolve;
        });
        sent.set(start + 2 + i, nowMs());
        await registry.appendEvent(id, lineRequest(i));
        await warm;
      }
      for (const s of subscriptions) s.unsubscribe();
      return samples;
    };
    const events = quick ? 20 : 100;
    const remoteSamples = await fanout(remote, ids[0]!, events);
    const localSamples = await fanout(local, ids[0]!, events);
    for (const p of [50, 99]) {
      const value = percentile(remoteSamples, p);
      const baseline = percentile(localSamples, p);
      rows.push(
        comparedRow(
          SCENARIO,
          `SSE fan-out to 100 subscribers, p${p}`,
          value,
          'ms',
          { what: `100 in-process events$ subscribers, p${p}`, value: baseline },
          value / baseline,
          `${events} events × 100 subscribers = ${remoteSamples.length} deliveries; appendEvent call → event received`,
        ),
      );
    }
    await remote.close();

    const seconds = quick ? 5 : 30;
    log(`load run: 32 connections, ${seconds} s`);
    const load = await loadRun(url, ids, 32, seconds * 1000);
    if (load.errors > 0) throw new Error(`load run: ${load.errors} errors (${load.firstError})`);
    const inProcess = await timedConcurrent(perChunk * 4, 32, (i) =>
      local.appendEvent(ids[i % PROCESSES]!, lineRequest(i)),
    );
    rows.push(
      comparedRow(
        SCENARIO,
        `load run: appendEvent, 32 keep-alive connections, ${seconds} s`,
        load.requests / load.seconds,
        'req/s',
        {
          what: 'in-process appendEvent, 32 concurrent',
          value: inProcess.count / inProcess.seconds,
          unit: 'ops/s',
        },
        load.requests / load.seconds / (inProcess.count / inProcess.seconds),
        `${load.requests} requests, 0 errors; latency p50 ${percentile(load.latencies, 50).toFixed(2)} ms, p99 ${percentile(load.latencies, 99).toFixed(2)} ms`,
      ),
    );
    await local.close();
  } finally {
    child.kill('SIGTERM');
  }
  return rows;
});

/** `connections` loops of raw keep-alive POSTs for `durationMs`; stops by itself. */
async function loadRun(url: string, ids: string[], connections: number, durationMs: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  let errors = 0;
  let firstError = '';
  let requests = 0;
  const deadline = nowMs() + durationMs;
  const post = (path: string, body: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        `${url}${path}`,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          res.once('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.once('error', reject);
      req.end(body);
    });
  const start = nowMs();
  await Promise.all(
    Array.from({ length: connections }, async (_, c) => {
      for (let i = 0; nowMs() < deadline; i++) {
        const id = ids[(c * 7 + i) % ids.length]!;
        const t0 = nowMs();
        try {
          const status = await post(`/processes/${id}/events`, JSON.stringify(lineRequest(i)));
          if (status !== 200) throw new Error(`HTTP ${status}`);
          latencies.push(nowMs() - t0);
          requests += 1;
        } catch (error) {
          errors += 1;
          firstError ||= (error as Error).message;
        }
      }
    }),
  );
  const seconds = (nowMs() - start) / 1000;
  agent.destroy();
  return { requests, errors, firstError, latencies, seconds };
}
