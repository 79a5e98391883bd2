/**
 * Question 3: does a call get slower as a stream or the store grows? It must not (DESIGN:
 * "append cost must not grow with the stream").
 *
 * Values: p50 and p99 latency of `appendEvent` and `eventsAfter(last - 10)` on a process
 * whose stream holds LARGE events (100 000; 20 000 in quick mode), in one store that also
 * holds a 10 000-event stream and 100 processes of 10 events; and of `listHandleGrants` for
 * one scope (10 grants) while the store holds LARGE grants of other scopes. Baselines: the
 * same percentile on a 10-event process (each round takes the next of the 100, so it
 * holds 10 to 60 events) and for a store with 10 other grants. Ratio = large / small: 1.0
 * means no growth. All cases run interleaved in many short rounds (each round starting at
 * another case), so a burst of machine noise lands on every case alike; percentiles pool
 * the rounds after a warm-up round. SQLite runs with synchronous=NORMAL so fsync jitter
 * does not hide CPU and index cost (append-sqlite shows the durable default).
 */
import type { ProcessRegistry } from '../src/index.ts';
import { type Backend, memoryBackend, sqliteBackend } from './lib/backends.ts';
import { lineRequest, processIds } from './lib/fixtures.ts';
import { latencies, nowMs } from './lib/measure.ts';
import type { Row } from './lib/result.ts';
import { comparedRow, runScenario, type ScenarioContext } from './lib/scenario.ts';
import { percentile } from './lib/stats.ts';
import {
  recordTemplate,
  type SyntheticProcess,
  synthesizeAll,
  type Template,
} from './lib/synthetic-log.ts';
import { withTempDir } from './lib/tmp.ts';

const SCENARIO = 'cost growth';
const TARGET = { sessionId: 'target-session' };
const POOL = 100;

interface Sizes {
  large: number;
  /** processes carrying the other grants, 100 grants each */
  grantHolders: number;
  rounds: number;
  perRound: number;
}

interface Case {
  name: string;
  /** samples of one round */
  round: () => Promise<number[]>;
  samples: number[];
}

async function measureBackend(
  backend: Backend,
  template: Template,
  sizes: Sizes,
  { log }: ScenarioContext,
): Promise<Row[]> {
  const pool = processIds('small', POOL);
  const small: SyntheticProcess[] = pool.map((id, i) => ({
    id,
    lines: 10,
    grantSessions: i < 10 ? [TARGET.sessionId, `other-${i}`] : [],
  }));
  const big: SyntheticProcess[] = [
    { id: 'stream-10k', lines: 10_000 },
    { id: 'stream-large', lines: sizes.large },
  ];
  const holders: SyntheticProcess[] = processIds('holder', sizes.grantHolders).map((id, h) => ({
    id,
    lines: 0,
    grantSessions: Array.from({ length: 100 }, (_, g) => `other-${h}-${g}`),
  }));
  log(`${backend.name}: writing stores`);
  const few = await backend.open(synthesizeAll(template, small), 'few-grants');
  const openStart = nowMs();
  const many = await backend.open(synthesizeAll(template, [...small, ...big, ...holders]), 'large');
  log(`${backend.name}: large store opened in ${Math.round(nowMs() - openStart)} ms`);

  const lastSequence = new Map<string, number>([
    ...pool.map((id) => [id, 10] as const),
    ['stream-10k', 10_000],
    ['stream-large', sizes.large],
  ]);
  // the first command on a process folds its whole stream once; later ones read only what is new
  const cold = new Map<string, number>();
  for (const id of [...pool, 'stream-10k', 'stream-large']) {
    const start = nowMs();
    await appendTo(many, id, lastSequence);
    cold.set(id, nowMs() - start);
  }
  // the small cases use one pool process per round, so each stays near 10 events and,
  // like the large stream, is hit repeatedly within a round
  let round = 0;
  const appendCase = (name: string, pick: () => string): Case => ({
    name,
    samples: [],
    round: () => latencies(sizes.perRound, () => appendTo(many, pick(), lastSequence)),
  });
  const readCase = (name: string, pick: () => string): Case => ({
    name,
    samples: [],
    round: () =>
      latencies(sizes.perRound, () => {
        const id = pick();
        return many.eventsAfter(id, lastSequence.get(id)! - 10);
      }),
  });
  const grantsCase = (name: string, registry: ProcessRegistry): Case => ({
    name,
    samples: [],
    round: () => latencies(sizes.perRound, () => registry.listHandleGrants(TARGET)),
  });
  const cases = {
    append10: appendCase('append 10', () => pool[round % POOL]!),
    append10k: appendCase('append 10k', () => 'stream-10k'),
    appendLarge: appendCase('append large', () => 'stream-large'),
    read10: readCase('read 10', () => pool[round % POOL]!),
    read10k: readCase('read 10k', () => 'stream-10k'),
    readLarge: readCase('read large', () => 'stream-large'),
    grantsFew: grantsCase('grants few', few),
    grantsMany: grantsCase('grants many', many),
  };
  const all = Object.values(cases);
  // round 0 is the warm-up; each round starts at another case
  for (round = 0; round <= sizes.rounds; round++) {
    for (let k = 0; k < all.length; k++) {
      const c = all[(k + round) % all.length]!;
      const samples = await c.round();
      if (round > 0) c.samples.push(...samples);
    }
  }
  await few.close();
  await many.close();

  const largeLabel = sizes.large >= 1000 ? `${sizes.large / 1000}k` : String(sizes.large);
  const rows: Row[] = [];
  const compare = (
    what: string,
    small: Case,
    mid: Case | undefined,
    large: Case,
    baseline: string,
    extra: string,
  ) => {
    for (const p of [50, 99]) {
      const b = percentile(small.samples, p);
      const v = percentile(large.samples, p);
      const midNote = mid
        ? `10k events: ${fmtMs(percentile(mid.samples, p))} (×${(percentile(mid.samples, p) / b).toFixed(2)}). `
        : '';
      rows.push(
        comparedRow(
          SCENARIO,
          `${backend.name}: ${what} p${p}`,
          v,
          'ms',
          { what: baseline, value: b },
          v / b,
          `${midNote}${extra}${large.samples.length} samples per case`,
        ),
      );
    }
  };
  const coldNote = `first append after open (folds the stream): ${fmtMs(cold.get('stream-large')!)} at ${largeLabel}, ${fmtMs(cold.get(pool[0]!)!)} at 10. `;
  compare(
    `appendEvent, ${largeLabel}-event stream`,
    cases.append10,
    cases.append10k,
    cases.appendLarge,
    '10-event stream',
    coldNote,
  );
  compare(
    `eventsAfter(last-10), ${largeLabel}-event stream`,
    cases.read10,
    cases.read10k,
    cases.readLarge,
    '10-event stream',
    '',
  );
  compare(
    `listHandleGrants (10 grants), ${sizes.grantHolders * 100 >= 1000 ? `${(sizes.grantHolders * 100) / 1000}k` : sizes.grantHolders * 100} other grants in store`,
    cases.grantsFew,
    undefined,
    cases.grantsMany,
    '10 other grants',
    '',
  );
  return rows;
}

function appendTo(
  registry: ProcessRegistry,
  id: string,
  lastSequence: Map<string, number>,
): Promise<unknown> {
  const sequence = lastSequence.get(id)! + 1;
  lastSequence.set(id, sequence);
  return registry.appendEvent(id, lineRequest(sequence));
}

function fmtMs(ms: number): string {
  return ms >= 1 ? `${ms.toFixed(1)} ms` : `${(ms * 1000).toFixed(0)} µs`;
}

await runScenario(SCENARIO, async (ctx) => {
  const sizes: Sizes = ctx.quick
    ? { large: 20_000, grantHolders: 100, rounds: 25, perRound: 40 }
    : { large: 100_000, grantHolders: 1000, rounds: 99, perRound: 50 };
  const template = await recordTemplate();
  return withTempDir(async (dir) => {
    const rows: Row[] = [];
    for (const backend of [memoryBackend, sqliteBackend(dir, 'normal')]) {
      rows.push(...(await measureBackend(backend, template, sizes, ctx)));
    }
    if (ctx.quick) {
      for (const row of rows) row.note = `quick: ${sizes.large / 1000}k, not 100k. ${row.note}`;
    }
    return rows;
  });
});
