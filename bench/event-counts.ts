/**
 * Do `recentEvents` and `countEvents` cost the answer, not the stream (issue #13 item 3)?
 *
 * Values: p50 and p99 latency of `recentEvents(id, 10)`, `countEvents(id, { eventType })`
 * and `countEvents(id, { upToSequence: last / 2 })` on a process whose stream holds LARGE
 * events (100 000; 20 000 in quick mode), all of one type, so a count by type matches every
 * one of them (the worst case for counting rows). Baselines: the same call on a 10-event
 * process (each round takes the next of 100). Ratio = large / small: 1.0 means no growth.
 * A fourth row puts the count beside what a caller did without it: `eventsAfter(id, 0)`
 * filtered by type, on the same large stream (a few samples after the rounds). A fifth row prices the type index on SQLite:
 * `appendEvent` p50 with `rm_events_by_type` against the same file after dropping it
 * (the ordinal lookup then walks the primary key back to the previous event of the type,
 * one row here), interleaved. Cases run interleaved in rounds, as in cost-growth.
 */
import Database from 'better-sqlite3';
import type { ProcessRegistry } from '../src/index.ts';
import { memoryBackend, sqliteBackend } from './lib/backends.ts';
import { lineRequest, processIds } from './lib/fixtures.ts';
import { latencies } from './lib/measure.ts';
import type { Row } from './lib/result.ts';
import { comparedRow, runScenario } from './lib/scenario.ts';
import { percentile } from './lib/stats.ts';
import { recordTemplate, type SyntheticProcess, synthesizeAll } from './lib/synthetic-log.ts';
import { withTempDir } from './lib/tmp.ts';

const SCENARIO = 'event counts';
const POOL = 100;
const TYPE = 'producer.line';

interface Sizes {
  large: number;
  rounds: number;
  perRound: number;
  /** samples of the full read, after the rounds (it costs the whole stream: seconds on SQLite) */
  fullReads: number;
}

interface Case {
  samples: number[];
  round: () => Promise<number[]>;
}

const caseOf = (n: number, op: () => Promise<unknown>): Case => ({
  samples: [],
  round: () => latencies(n, op),
});

/** Runs every case once per round, each round starting at another; round 0 warms up. */
const interleave = async (cases: Case[], rounds: number): Promise<void> => {
  for (let round = 0; round <= rounds; round++) {
    for (let k = 0; k < cases.length; k++) {
      const c = cases[(k + round) % cases.length]!;
      const samples = await c.round();
      if (round > 0) c.samples.push(...samples);
    }
  }
};

const fmtMs = (ms: number): string =>
  ms >= 1 ? `${ms.toFixed(1)} ms` : `${(ms * 1000).toFixed(0)} µs`;

await runScenario(SCENARIO, async (ctx) => {
  const sizes: Sizes = ctx.quick
    ? { large: 20_000, rounds: 20, perRound: 40, fullReads: 3 }
    : { large: 100_000, rounds: 60, perRound: 50, fullReads: 5 };
  const template = await recordTemplate();
  const label = `${sizes.large / 1000}k`;
  const pool = processIds('small', POOL);
  const processes: SyntheticProcess[] = [
    ...pool.map((id) => ({ id, lines: 10 })),
    { id: 'large', lines: sizes.large },
  ];
  return withTempDir(async (dir) => {
    const rows: Row[] = [];
    for (const backend of [memoryBackend, sqliteBackend(dir, 'normal')]) {
      ctx.log(`${backend.name}: writing the store`);
      const registry = await backend.open(synthesizeAll(template, processes), 'counts');
      let next = 0;
      const small = () => pool[next++ % POOL]!;
      const pair = (op: (r: ProcessRegistry, id: string, last: number) => Promise<unknown>) => ({
        small: caseOf(sizes.perRound, () => op(registry, small(), 10)),
        large: caseOf(sizes.perRound, () => op(registry, 'large', sizes.large)),
      });
      const recent = pair((r, id) => r.recentEvents(id, 10));
      const byType = pair((r, id) => r.countEvents(id, { eventType: TYPE }));
      const upTo = pair((r, id, last) => r.countEvents(id, { upToSequence: last / 2 }));
      const fullRead = caseOf(sizes.fullReads, async () => {
        const events = await registry.eventsAfter('large', 0);
        return events.filter((e) => e.eventType === TYPE).length;
      });
      const checked = await registry.countEvents('large', { eventType: TYPE });
      if (checked !== sizes.large) throw new Error(`counted ${checked}, not ${sizes.large}`);
      await interleave(
        [recent, byType, upTo].flatMap((p) => [p.small, p.large]),
        sizes.rounds,
      );
      fullRead.samples.push(...(await fullRead.round()));
      await registry.close();
      const compare = (what: string, p: { small: Case; large: Case }) => {
        for (const q of [50, 99]) {
          const b = percentile(p.small.samples, q);
          const v = percentile(p.large.samples, q);
          rows.push(
            comparedRow(
              SCENARIO,
              `${backend.name}: ${what}, ${label}-event stream p${q}`,
              v,
              'ms',
              { what: '10-event stream', value: b },
              v / b,
              `${p.large.samples.length} samples per case`,
            ),
          );
        }
      };
      compare('recentEvents(10)', recent);
      compare(`countEvents by type (all ${label} match)`, byType);
      compare('countEvents up to a sequence', upTo);
      const count = percentile(byType.large.samples, 50);
      const full = percentile(fullRead.samples, 50);
      rows.push(
        comparedRow(
          SCENARIO,
          `${backend.name}: countEvents by type vs eventsAfter(0) + filter, ${label} events, p50`,
          count,
          'ms',
          { what: 'eventsAfter(0) filtered', value: full },
          count / full,
          `full read ${fmtMs(full)}, ${fullRead.samples.length} samples`,
        ),
      );
    }
    rows.push(...(await typeIndexCost(dir, template, sizes, ctx.log)));
    if (ctx.quick) {
      for (const row of rows) row.note = `quick: ${label}, not 100k. ${row.note}`;
    }
    return rows;
  });
});

/**
 * Appends with the type index against appends to a copy of the same store without it,
 * interleaved: what keeping `rm_events_by_type` costs each appended event.
 */
async function typeIndexCost(
  dir: string,
  template: Awaited<ReturnType<typeof recordTemplate>>,
  sizes: Sizes,
  log: (message: string) => void,
): Promise<Row[]> {
  const backend = sqliteBackend(dir, 'normal');
  const processes = [{ id: 'target', lines: sizes.large }];
  log('SQLite: two stores for the index cost');
  const withIndex = await backend.open(synthesizeAll(template, processes), 'with-index');
  const without = await backend.open(synthesizeAll(template, processes), 'without-index');
  const raw = new Database(`${dir}/without-index.db`);
  raw.exec('DROP INDEX rm_events_by_type');
  raw.close();
  const last = new Map([
    [withIndex, sizes.large],
    [without, sizes.large],
  ]);
  const append = (r: ProcessRegistry) =>
    caseOf(sizes.perRound, () => {
      const sequence = last.get(r)! + 1;
      last.set(r, sequence);
      return r.appendEvent('target', lineRequest(sequence));
    });
  const a = append(withIndex);
  const b = append(without);
  await interleave([a, b], sizes.rounds);
  await withIndex.close();
  await without.close();
  const v = percentile(a.samples, 50);
  const base = percentile(b.samples, 50);
  return [
    comparedRow(
      SCENARIO,
      'SQLite (synchronous=NORMAL): appendEvent p50 with the type index',
      v,
      'ms',
      { what: 'same store, index dropped', value: base },
      v / base,
      `${a.samples.length} samples per case; the index adds one entry per process event`,
    ),
  ];
}
