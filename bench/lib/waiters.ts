import type { ProcessRegistry } from '../../src/index.ts';
import { nowMs } from './measure.ts';

/** The original Rust registry's way to wait: look every 50 ms. */
export const POLL_MS = 50;

export type WaitMode = 'registry' | 'poll';

/**
 * Waits for the event after `after` and resolves with the monotonic time (ms) it was seen:
 * `registry` with `waitEventAfter` (fed by the live feed), `poll` by calling `eventsAfter`
 * every POLL_MS.
 */
export const waitFor = (
  registry: ProcessRegistry,
  mode: WaitMode,
  processId: string,
  after: number,
): Promise<number> => {
  if (mode === 'registry') {
    return registry
      .waitEventAfter(processId, 'producer.line', after, { timeoutMs: 10_000 })
      .then(() => nowMs());
  }
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      registry.eventsAfter(processId, after).then((events) => {
        if (events.length === 0) return;
        clearInterval(timer);
        resolve(nowMs());
      }, reject);
    }, POLL_MS);
  });
};

/** Messages between waiter-latency.ts and its waiter child process. */
export type ToChild =
  | { type: 'open'; url: string; pollIntervalMs?: number; watchFile?: boolean }
  /** wait on `processId` for `ms` while nothing happens; report the CPU time spent meanwhile */
  | { type: 'idle'; ms: number; processId: string }
  | { type: 'wait'; mode: WaitMode; processId: string; after: number }
  | { type: 'close' };

export type FromChild =
  | { type: 'opened' }
  | { type: 'ready' }
  | { type: 'resolved'; at: number }
  | { type: 'idled'; cpuMs: number }
  | { type: 'failed'; message: string };
