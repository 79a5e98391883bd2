import { describe, expect, it } from 'vitest';
import { contentHash } from '../src/domain/integrity.ts';
import { IntegrityCheck } from '../src/domain/integrity-check.ts';
import type { IntegrityProblem } from '../src/domain/integrity-report.ts';
import { longestIncreasing } from '../src/domain/order.ts';
import type { StoredEvent } from '../src/domain/stored-event.ts';

/**
 * The verification fold without recorded digests (as on memory, PostgreSQL and
 * EventStoreDB): given a chained log, when one change is made, then what is reported.
 */

/** Two streams interleaved, a: revisions 0-4, b: 0-4, each event hash-linked. */
const chainedLog = (): StoredEvent[] => {
  const last = new Map<string, string | null>();
  const log: StoredEvent[] = [];
  for (let i = 0; i < 10; i++) {
    const stream = i % 2 === 0 ? 'process-a' : 'process-b';
    const revision = Math.floor(i / 2);
    const metadata: Record<string, unknown> = {
      command: 'test',
      prevHash: last.get(stream) ?? null,
    };
    const event = {
      id: `e${i}`,
      stream,
      revision,
      position: BigInt(i + 1),
      type: 'T',
      data: { i },
      metadata,
    };
    metadata.hash = contentHash(event);
    last.set(stream, metadata.hash as string);
    log.push(event as StoredEvent);
  }
  return log;
};

const check = (log: readonly StoredEvent[]) => {
  const fold = new IntegrityCheck();
  for (const event of log) fold.event(event);
  return fold.finish();
};

const at = (
  position: number,
  stream: string | null,
  revision: number | null,
  kind: IntegrityProblem['kind'],
) => ({ position: BigInt(position), stream, revision, kind });

const cases: { when: string; change: (log: StoredEvent[]) => StoredEvent[]; reports: unknown[] }[] =
  [
    { when: 'nothing changed', change: (log) => log, reports: [] },
    {
      when: 'data is edited',
      change: (log) => log.map((e) => (e.position === 5n ? { ...e, data: { i: 99 } } : e)),
      reports: [at(5, 'process-a', 2, 'altered')],
    },
    {
      when: 'an event is deleted mid-stream (reported where the next revision stands)',
      change: (log) => log.filter((e) => e.position !== 3n),
      reports: [at(5, 'process-a', 1, 'missing')],
    },
    {
      when: 'two events of a stream swap places',
      change: (log) =>
        log.map((e) =>
          e.position === 3n
            ? { ...log[6]!, position: 3n }
            : e.position === 7n
              ? { ...log[2]!, position: 7n }
              : e,
        ),
      reports: [at(3, 'process-a', 3, 'reordered'), at(7, 'process-a', 1, 'reordered')],
    },
    {
      when: 'one event is moved to the end of the log (not those it passed)',
      change: (log) => [...log.filter((e) => e.position !== 3n), { ...log[2]!, position: 11n }],
      reports: [at(11, 'process-a', 1, 'reordered')],
    },
    {
      when: 'an unchained event follows chained ones',
      change: (log) => [
        ...log,
        { ...log[0]!, id: 'x', revision: 5, position: 11n, metadata: { command: 'forged' } },
      ],
      reports: [at(11, 'process-a', 5, 'inserted')],
    },
    {
      when: 'a copy of an event is appended to its stream',
      change: (log) => [...log, { ...log[2]!, id: 'x', revision: 5, position: 11n }],
      reports: [at(11, 'process-a', 5, 'inserted')],
    },
    {
      when: 'an event is re-hashed after an edit (its successor no longer links to it)',
      change: (log) =>
        log.map((e) => {
          if (e.position !== 5n) return e;
          const edited = { ...e, data: { i: 99 }, metadata: { ...(e.metadata as object) } };
          (edited.metadata as Record<string, unknown>).hash = contentHash(edited);
          return edited;
        }),
      reports: [at(7, 'process-a', 3, 'chain_broken')],
    },
  ];

describe('verifying a log by its stream chains alone', () => {
  for (const { when, change, reports } of cases) {
    it(`when ${when}`, () => {
      expect(check(change(chainedLog())).problems).toEqual(reports);
    });
  }

  it('reports events without hashes at the start of the log as an unchained prefix', () => {
    const legacy = chainedLog().map((e) => ({ ...e, metadata: { command: 'old' } }));
    expect(check(legacy)).toMatchObject({
      ok: true,
      problems: [],
      unchained: { events: 10, through: 10n },
    });
  });

  it('a kept digest catches what the chains cannot: a lost stream tail', () => {
    const log = chainedLog();
    const kept = check(log).digest;
    const fold = new IntegrityCheck(kept);
    for (const event of log.filter((e) => e.position !== 10n)) fold.event(event);
    expect(fold.finish().problems).toEqual([at(10, null, null, 'chain_broken')]);
  });
});

describe('the longest in-order run', () => {
  const table: [number[], number[]][] = [
    [[], []],
    [
      [0, 1, 2],
      [0, 1, 2],
    ],
    [
      [3, 1, 2, 0],
      [1, 2],
    ],
    [
      [0, 2, 1, 3],
      [0, 1, 3],
    ],
  ];
  for (const [values, run] of table) {
    it(`of [${values}] is [${run}]`, () =>
      expect([...longestIncreasing(values)].sort()).toEqual(run));
  }
});
