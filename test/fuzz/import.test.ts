import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRegistryError, openRegistry, type ProcessRegistry } from '../../src/index.ts';
import { registration } from '../conformance/fixtures.ts';
import { TestClock } from '../support/harness.ts';
import { anything } from './arbitraries.ts';

/**
 * Fuzzed NDJSON import lines (issue #10, item 5): a real export, damaged in generated ways
 * (a field replaced, removed or added, deep data changed, lines dropped, repeated, swapped,
 * cut, an event id reused, garbage lines). Importing it into an empty store either works
 * or fails `invalid` with nothing written (the store's export is still empty); a store
 * that took an import opens again and its rebuilt read models match.
 */
const soak = process.env.PROCREG_SOAK === '1';
const RUNS = soak ? 1_500 : 120;
const SEED = Number(process.env.PROCREG_SEED ?? 20261127);

type Line = Record<string, unknown>;

const exportOf = async (registry: ProcessRegistry): Promise<string> => {
  let text = '';
  for await (const line of registry.exportEvents()) text += line;
  return text;
};

/** A source history touching every domain event type. */
const sourceLines = async (): Promise<string[]> => {
  const clock = new TestClock();
  const registry = await openRegistry('memory:', { clock: clock.read });
  try {
    const scope = { sessionId: 's1', agentFrameId: 'f' };
    await registry.registerProcess(registration('p1'));
    await registry.registerProcess(registration('p2'));
    await registry.setExternalRef('p1', { backend: 'k8s', id: 'job' });
    await registry.grantHandle(scope, 'p1', { kind: 'tool' });
    await registry.grantHandle({ sessionId: 's2' }, 'p2', {});
    await registry.transferHandleGrants(scope, { sessionId: 's3' }, ['p1']);
    await registry.revokeHandle({ sessionId: 's2' }, 'p2');
    await registry.appendEvent('p1', { eventType: 'producer.line', payload: { text: 'a' } });
    await registry.appendEvent('p1', {
      eventType: 'producer.wake',
      payload: { text: 'w' },
      wakeTargetScope: scope,
    });
    await registry.ackWake('p1', 2);
    const lease = await registry.claimProcessLease('p2', 'w1', 1_000);
    await registry.renewProcessLease(lease, 2_000);
    await registry.completeProcessLease({
      processId: lease.processId,
      leaseToken: lease.leaseToken,
    });
    await registry.completeProcess('p1', { type: 'success', value: { ok: true } });
    return (await exportOf(registry)).trimEnd().split('\n');
  } finally {
    await registry.close();
  }
};

const json = fc.jsonValue({ maxDepth: 2 });
const field = fc.constantFrom(
  'stream',
  'revision',
  'position',
  'eventId',
  'type',
  'data',
  'metadata',
);

/** Paths to every value inside a JSON value, for deep replacement. */
const pathsOf = (value: unknown, prefix: (string | number)[] = []): (string | number)[][] => {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries = Array.isArray(value)
    ? value.map((v, i) => [i, v] as const)
    : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => pathsOf(v, [...prefix, k]))];
};
const setAt = (value: unknown, path: (string | number)[], replacement: unknown): unknown => {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<
    string | number,
    unknown
  >;
  copy[head!] = setAt(copy[head!], rest, replacement);
  return copy;
};

type Mutation = (lines: string[]) => string[];

/** A mutation that prints as what it does in a counterexample. */
const named = (description: string, apply: Mutation): Mutation =>
  Object.assign(apply, { [fc.toStringMethod]: () => description });

const mutation = (count: number): fc.Arbitrary<Mutation> => {
  const at = fc.nat({ max: count - 1 });
  // a line an earlier mutation left unparseable (an inserted empty line) is left as it is
  const edit = (f: (line: Line) => unknown) => (i: number) => (lines: string[]) =>
    lines.map((text, j) => {
      if (j !== i) return text;
      try {
        return JSON.stringify(f(JSON.parse(text) as Line));
      } catch {
        return text;
      }
    });
  return fc.oneof(
    fc
      .tuple(at, field, json)
      .map(([i, k, v]) =>
        named(`line ${i}: ${k} = ${JSON.stringify(v)}`, edit((l) => ({ ...l, [k]: v }))(i)),
      ),
    fc
      .tuple(at, field)
      .map(([i, k]) =>
        named(
          `line ${i}: without ${k}`,
          edit((l) => Object.fromEntries(Object.entries(l).filter(([key]) => key !== k)))(i),
        ),
      ),
    fc
      .tuple(at, fc.string({ minLength: 1, maxLength: 5 }), json)
      .map(([i, k, v]) =>
        named(
          `line ${i}: extra ${JSON.stringify(k)} = ${JSON.stringify(v)}`,
          edit((l) => ({ ...l, [k]: v }))(i),
        ),
      ),
    fc
      .tuple(
        at,
        fc.nat(),
        fc.oneof(
          json,
          // any value a line can carry: whatever JSON.stringify writes (a bigint or a cycle
          // anywhere inside cannot be written at all)
          anything.filter((v) => {
            if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return false;
            try {
              JSON.stringify(v);
              return true;
            } catch {
              return false;
            }
          }),
        ),
      )
      .map(([i, n, v]) =>
        named(
          `line ${i}: deep value #${n} = ${fc.stringify(v)}`,
          edit((l) => {
            const paths = pathsOf(l.data, ['data']).concat(pathsOf(l.metadata, ['metadata']));
            return setAt(l, paths[n % paths.length]!, v);
          })(i),
        ),
      ),
    at.map((i) => named(`drop line ${i}`, (lines: string[]) => lines.filter((_, j) => j !== i))),
    at.map((i) =>
      named(`repeat line ${i}`, (lines: string[]) => [...lines.slice(0, i + 1), ...lines.slice(i)]),
    ),
    fc.tuple(at, at).map(([i, j]) =>
      named(`swap lines ${i} and ${j}`, (lines: string[]) => {
        const copy = [...lines];
        [copy[i], copy[j]] = [copy[j]!, copy[i]!];
        return copy;
      }),
    ),
    fc
      .tuple(at, fc.nat())
      .map(([i, n]) =>
        named(`cut line ${i} at ${n}`, (lines: string[]) =>
          lines.map((t, j) => (j === i ? t.slice(0, n % t.length) : t)),
        ),
      ),
    fc.tuple(at, at).map(([i, j]) =>
      named(`line ${i} reuses the event id of line ${j}`, (lines: string[]) => {
        // an earlier mutation may have dropped line j or left it no JSON: then nothing changes
        let eventId: unknown;
        try {
          eventId = (JSON.parse(lines[j] ?? '') as Line).eventId;
        } catch {
          return lines;
        }
        return i === j ? lines : edit((l) => ({ ...l, eventId }))(i)(lines);
      }),
    ),
    fc
      .tuple(at, fc.oneof(fc.string(), fc.json(), fc.constant(''), fc.constant('   ')))
      .map(([i, garbage]) =>
        named(`insert ${JSON.stringify(garbage)} before line ${i}`, (lines: string[]) => [
          ...lines.slice(0, i),
          garbage,
          ...lines.slice(i),
        ]),
      ),
  );
};

const counts = { inputs: 0, rejected: 0, imported: 0 };

describe.each(['memory', 'sqlite'] as const)('fuzzed NDJSON import lines into %s', (backend) => {
  let lines: string[];
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'procreg-importfuzz-'));
    lines = await sourceLines();
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    if (backend === 'sqlite') {
      console.log(
        `fuzzed import: ${counts.inputs} damaged exports, ${counts.rejected} rejected as invalid with nothing written, ${counts.imported} imported and verified`,
      );
    }
  });

  let n = 0;
  const target = () => (backend === 'memory' ? 'memory:' : `sqlite:${join(dir, `t${n++}.db`)}`);

  it('imports or fails `invalid`, writing nothing on failure', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(mutation(lines.length), { minLength: 1, maxLength: 3 }),
        async (mutations) => {
          counts.inputs++;
          const damaged = mutations.reduce((acc, m) => (acc.length > 0 ? m(acc) : acc), lines);
          const url = target();
          const registry = await openRegistry(url);
          try {
            const outcome = await registry
              .importEvents(() => damaged.map((l) => `${l}\n`))
              .then(
                () => undefined,
                (error: unknown) => error,
              );
            if (outcome === undefined) {
              counts.imported++;
              expect(await registry.verifyProjections()).toEqual([]);
              if (backend === 'sqlite') {
                // a second instance rebuilds its read models from the imported log
                const again = await openRegistry(url);
                try {
                  expect(await again.verifyProjections()).toEqual([]);
                  expect(await again.listProcesses()).toEqual(await registry.listProcesses());
                } finally {
                  await again.close();
                }
              }
              return;
            }
            counts.rejected++;
            expect(
              isRegistryError(outcome),
              `not a RegistryError: ${String((outcome as Error)?.stack ?? outcome)}`,
            ).toBe(true);
            expect(
              (outcome as { code: string; message: string }).code,
              (outcome as Error).message,
            ).toBe('invalid');
            expect(await exportOf(registry), 'a rejected import wrote').toBe('');
          } finally {
            await registry.close();
          }
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  }, 120_000);
});
