import type { ProcessRegistry } from '../src/index.ts';
import { memoryBackend, sqliteBackend } from './lib/backends.ts';
import { processIds } from './lib/fixtures.ts';
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
    if (ctx.quick) {
      for (const row of rows) row.note = `quick: ${label}, not 100k. ${row.note}`;
    }
    return rows;
  });
});
