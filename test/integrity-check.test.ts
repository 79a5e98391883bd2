import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalMembersAround } from '../src/domain/canonical.ts';
import { contentHash, contentHashOf, hashedText, TextEvent } from '../src/domain/integrity.ts';
import { IntegrityCheck, type LogEvent } from '../src/domain/integrity-check.ts';
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

const check = (log: readonly LogEvent[]) => {
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

  it('checks every kept digest at its own position: only the one the log no longer hashes to is reported', () => {
    const log = chainedLog();
    const atFour = check(log.filter((e) => e.position <= 4n)).digest;
    const atTen = check(log).digest;
    const intact = new IntegrityCheck(atFour, atTen);
    for (const event of log) intact.event(event);
    expect(intact.finish()).toMatchObject({ ok: true, problems: [] });
    const lost = new IntegrityCheck(atFour, atTen);
    for (const event of log.filter((e) => e.position !== 10n)) lost.event(event);
    expect(lost.finish().problems).toEqual([at(10, null, null, 'chain_broken')]);
  });
});

/** JSON with every object's keys in reverse order: not canonical, the same values. */
const reversedJson = (value: unknown): string =>
  value === null || typeof value !== 'object'
    ? JSON.stringify(value)
    : Array.isArray(value)
      ? `[${value.map(reversedJson).join(',')}]`
      : `{${Object.keys(value)
          .sort()
          .reverse()
          .map((k) => `${JSON.stringify(k)}:${reversedJson((value as Record<string, unknown>)[k])}`)
          .join(',')}}`;

/** The log as a SQL store's rows would hold it, written as `json` writes each value. */
const asText = (log: readonly StoredEvent[], json: (value: unknown) => string): TextEvent[] =>
  log.map(
    (e) =>
      new TextEvent({
        id: e.id,
        stream: e.stream,
        revision: e.revision,
        position: e.position,
        type: e.type,
        data: json(e.data),
        metadata: json(e.metadata),
      }),
  );

describe('verifying a log read as its stored text', () => {
  for (const [form, json] of [
    ['canonical (as procreg writes it: hashed from the text)', canonicalJson],
    ['in another key order (hashed from the parsed values)', reversedJson],
  ] as const) {
    for (const { when, change, reports } of cases) {
      it(`${form}, when ${when}: the same reports`, () => {
        expect(check(asText(change(chainedLog()), json)).problems).toEqual(reports);
      });
    }
  }

  it('the content hash of a text event is its content hash, from any text of the same values', () => {
    for (const event of chainedLog()) {
      const claimed = (event.metadata as { hash: string }).hash;
      for (const json of [canonicalJson, reversedJson, JSON.stringify]) {
        const [text] = asText([event], json);
        expect(contentHashOf(text!, claimed)).toBe(contentHash(event));
        expect(contentHashOf(text!, undefined)).toBe(contentHash(event));
      }
    }
  });

  it('a claimed hash moved into a nested object is not taken for the top-level one', () => {
    const [event] = chainedLog();
    const { hash, ...rest } = event!.metadata as Record<string, unknown>;
    const moved = { ...rest, note: { hash } };
    const text = new TextEvent({
      ...event!,
      data: canonicalJson(event!.data),
      metadata: canonicalJson(moved),
    });
    expect(contentHashOf(text, hash as string)).toBe(contentHash({ ...event!, metadata: moved }));
    expect(contentHashOf(text, hash as string)).not.toBe(hash);
  });

  it('text that is not JSON reads as the string itself, and hashes to nothing it claims', () => {
    const [event] = chainedLog();
    const text = new TextEvent({
      ...event!,
      data: '{"i":',
      metadata: canonicalJson(event!.metadata),
    });
    expect(text.data).toBe('{"i":');
    expect(check([text, ...chainedLog().slice(1)]).problems).toEqual([
      at(1, 'process-a', 0, 'altered'),
    ]);
  });

  it('hashedText stores canonical JSON whose hash is the content hash of the event it writes', () => {
    const content = {
      stream: 'process-a',
      revision: 3,
      type: 'T',
      data: { z: [1, { b: 2, a: undefined }], a: 'x' },
      metadata: { prevHash: null, command: 'c' },
    };
    const { hash, data, metadata } = hashedText(content);
    expect(data).toBe(canonicalJson(content.data));
    expect(metadata).toBe(canonicalJson({ ...content.metadata, hash }));
    expect(hash).toBe(contentHash({ ...content, metadata: JSON.parse(metadata) }));
  });
});

describe('hashedText puts the hash member in its sorted place', () => {
  const table: [string, Record<string, unknown>][] = [
    ['no members', {}],
    ['members before it only', { a: 1, actor: null }],
    ['members after it only', { prevHash: null, z: 'q' }],
    [
      "procreg's metadata",
      { actor: 'x', command: 'c', eventVersion: 1, prevHash: 'p', recordedAtMs: 2 },
    ],
    ['a value that spells the next member', { a: ',"prevHash":1', prevHash: '{"prevHash":' }],
    ['a key that spells the next member', { ',"z":': 1, z: 2, 'ha"sh': 3 }],
    ['a key that ends like the next member', { 'a"prevHash': 1, prevHash: 2 }],
    ['keys out of order and undefined members', { z: 1, a: undefined, i: true, b: 0 }],
    ['a nested value (written around the member)', { n: { prevHash: 1 }, prevHash: null, a: [1] }],
    ['a nested value after it', { a: 1, q: { hash: 'inner' } }],
    ['a function member (written as null)', { z: 1, toJSON: () => 'x' }],
    ['an object with a null prototype', Object.assign(Object.create(null), { z: 1, a: 2 })],
  ];
  for (const [given, metadata] of table) {
    it(`given ${given}: canonical, and hashed as its content`, () => {
      const content = { stream: 's', revision: 0, type: 'T', data: { b: 1, a: 2 }, metadata };
      const { hash, metadata: text } = hashedText(content);
      expect(text).toBe(canonicalJson({ ...metadata, hash }));
      expect(hash).toBe(contentHash({ ...content, metadata: JSON.parse(text) }));
    });
  }
});

describe('canonical members around a key', () => {
  const objects: Record<string, unknown>[] = [
    {},
    { hash: 'h' },
    { a: 1 },
    { z: 1 },
    { z: [1, { b: ',', a: '}' }], a: 'x,"y"', hash: 'old', m: undefined, ha: { q: null } },
    { prevHash: null, actor: 'a', recordedAtMs: 3, eventVersion: 1 },
  ];
  for (const value of objects) {
    it(`splits ${JSON.stringify(value)} so that both forms are canonical`, () => {
      const { before, after } = canonicalMembersAround(value, 'hash');
      const join = (...parts: string[]) => `{${parts.filter((p) => p !== '').join(',')}}`;
      const { hash: _, ...rest } = value;
      expect(join(before, after)).toBe(canonicalJson(rest));
      expect(join(before, '"hash":"H"', after)).toBe(canonicalJson({ ...rest, hash: 'H' }));
    });
  }
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
