/**
 * Question 2: what does one command cost on the memory store, against the floor of keeping
 * an event log in memory at all?
 *
 * Value: operations per second of each command (each writes exactly one domain event),
 * awaited in sequence. Baseline ("log floor"): a JSON round trip of the very events that
 * command stored (type, data, metadata) pushed onto a log array and a per-stream array:
 * the least any in-memory log that isolates callers from what they appended must do.
 * Ratio = command / floor, i.e. the share of a command's time that is storing the bytes;
 * the rest is validation, hashing, deciding, decoding and the read models. The note gives
 * `MemoryEventStore.appendToStream` alone on the same events, to split store from registry.
 */
import { randomUUID } from 'node:crypto';
import { openRegistry, type ProcessLease } from '../src/index.ts';
import { MemoryEventStore } from '../src/store/memory.ts';
import type { Position, StoredEvent } from '../src/store/port.ts';
import { fixedClock, lineRequest, processIds, registration } from './lib/fixtures.ts';
import {
  nowMs,
  pairedThroughput,
  rate,
  type ThroughputPlan,
  type Timed,
  timed,
} from './lib/measure.ts';
import type { Row } from './lib/result.ts';
import { comparedRow, runScenario } from './lib/scenario.ts';
import { median } from './lib/stats.ts';

const SCENARIO = 'append, memory';
const PROCESSES = 500;
const TTL = 3_600_000;

await runScenario(SCENARIO, async ({ quick, log }) => {
  const plan: ThroughputPlan = quick
    ? { warmup: 1, runs: 3, chunks: 2 }
    : { warmup: 1, runs: 5, chunks: 6 };
  const perChunk = quick ? 250 : 500;
  const n = perChunk * plan.chunks;
  const store = new MemoryEventStore();
  const registry = await openRegistry(store, { clock: fixedClock });
  const ids = processIds('p', PROCESSES);
  for (const id of ids) await registry.registerProcess(registration(id));
  const leases: ProcessLease[] = [];
  let counter = 0;

  const ops: [measure: string, op: (i: number) => Promise<unknown>][] = [
    [
      'appendEvent (1 event per call)',
      (i) => registry.appendEvent(ids[i % PROCESSES]!, lineRequest(i)),
    ],
    [
      'registerProcess, new process',
      () => registry.registerProcess(registration(`r-${counter++}`)),
    ],
    [
      'grantHandle, new grant',
      (i) => registry.grantHandle({ sessionId: `s-${counter++}` }, ids[i % PROCESSES]!, {}),
    ],
    [
      'claimProcessLease (same owner re-claims)',
      async (i) => {
        leases[i % PROCESSES] = await registry.claimProcessLease(ids[i % PROCESSES]!, 'w', TTL);
      },
    ],
    ['renewProcessLease', (i) => registry.renewProcessLease(leases[i % PROCESSES]!, TTL)],
  ];

  const rows: Row[] = [];
  for (const [measure, op] of ops) {
    log(measure);
    // the floor copies what this command stores: capture it from a priming run
    const before = await headOf(store);
    await rate(PROCESSES, op);
    const stored = await eventsAfter(store, before);
    if (stored.length !== PROCESSES) {
      throw new Error(
        `${measure}: ${PROCESSES} calls stored ${stored.length} events, not one each`,
      );
    }
    const result = await pairedThroughput(
      plan,
      () => timed(perChunk, op),
      async () => logFloor(stored, perChunk),
    );
    const storeRates: number[] = [];
    for (let i = 0; i < 3; i++) storeRates.push(await storeRate(stored, n));
    const storeAlone = median(storeRates);
    rows.push(
      comparedRow(
        SCENARIO,
        measure,
        result.value,
        'ops/s',
        { what: 'log floor: JSON copy + array push of the same events', value: result.baseline },
        result.ratio,
        `${n} calls per run (${plan.chunks} slices interleaved with the floor's); MemoryEventStore.appendToStream alone: ${Math.round(storeAlone)} events/s`,
      ),
    );
  }
  await registry.close();
  return rows;
});

async function headOf(store: MemoryEventStore): Promise<Position> {
  let last = 0n;
  for await (const e of store.readAll()) last = e.position;
  return last;
}

async function eventsAfter(store: MemoryEventStore, after: Position): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of store.readAll({ fromPosition: after })) out.push(e);
  return out;
}

/** Copies `n` of the events (cycling) into a plain log. */
function logFloor(events: readonly StoredEvent[], n: number): Timed {
  const logged: unknown[] = [];
  const streams = new Map<string, unknown[]>();
  const start = nowMs();
  for (let i = 0; i < n; i++) {
    const e = events[i % events.length]!;
    const copy = JSON.parse(
      JSON.stringify({ stream: e.stream, type: e.type, data: e.data, metadata: e.metadata }),
    ) as { stream: string };
    logged.push(copy);
    const list = streams.get(copy.stream);
    if (list) list.push(copy);
    else streams.set(copy.stream, [copy]);
  }
  return { count: n, seconds: (nowMs() - start) / 1000 };
}

/** The memory store alone, appending the same events (no revision check). */
async function storeRate(events: readonly StoredEvent[], n: number): Promise<number> {
  const store = new MemoryEventStore();
  const rateOf = await rate(n, (i) => {
    const e = events[i % events.length]!;
    const event = { id: randomUUID(), type: e.type, data: e.data, metadata: e.metadata };
    return store.appendToStream(e.stream, [event], { expectedRevision: 'any' });
  });
  await store.close();
  return rateOf;
}
