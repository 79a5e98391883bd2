import fc from 'fast-check';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  isRegistryError,
  openRegistry,
  type ProcessRegistry,
  type RegistryErrorCode,
} from '../../src/index.ts';
import { registration as fixtureRegistration } from '../conformance/fixtures.ts';
import { TestClock } from '../support/harness.ts';
import * as arb from './arbitraries.ts';

/**
 * Fuzzed inputs (issue #10, item 5): every public method gets generated arguments. A call
 * with an argument that breaks its schema must fail `invalid`; any call may fail only with
 * a RegistryError of a code that method can give; and a failed call leaves the log exactly
 * as it was (an export before and after compares equal).
 */
const soak = process.env.PROCREG_SOAK === '1';
const RUNS = soak ? 2_000 : 150;
const soakTimeout = soak ? 600_000 : undefined;
const SEED = Number(process.env.PROCREG_SEED ?? 20261127);

type Call = (registry: ProcessRegistry, args: unknown[]) => unknown;

interface Method {
  params: arb.Param[];
  call: Call;
  /** codes besides `invalid` the method may fail with on well-typed arguments */
  codes: RegistryErrorCode[];
}

const r = (registry: ProcessRegistry) => registry as unknown as Record<string, Call>;
const method = (
  name: string,
  params: arb.Param[],
  codes: RegistryErrorCode[] = [],
): [string, Method] => [
  name,
  { params, call: (registry, args) => r(registry)[name]!.apply(registry, args as never), codes },
];

const waiterCodes: RegistryErrorCode[] = ['not_found', 'timeout'];

const methods: Record<string, Method> = Object.fromEntries([
  method('registerProcess', [arb.registration], ['conflict']),
  method('setExternalRef', [arb.id, arb.externalRef], ['not_found']),
  method('grantHandle', [arb.scope, arb.id, arb.descriptor], ['not_found']),
  method('revokeHandle', [arb.scope, arb.id]),
  method('transferHandleGrants', [arb.scope, arb.scope, arb.ids], ['not_granted']),
  method('listHandleGrants', [arb.scope]),
  method('listLiveHandleGrants', [arb.scope]),
  method('hasHandleGrant', [arb.scope, arb.id]),
  method('handleGrantsForProcess', [arb.id], ['not_found']),
  method('deleteSessionProcessState', [arb.id]),
  method('appendEvent', [arb.id, arb.appendRequest], ['not_found', 'conflict', 'already_terminal']),
  method(
    'appendEvents',
    [
      arb.id,
      {
        good: fc.array(arb.appendRequest.good, { maxLength: 3 }),
        bad: fc.oneof(
          arb.appendRequest.bad.map((b) => [b]),
          arb.id.good,
        ),
      },
    ],
    ['not_found', 'conflict', 'already_terminal'],
  ),
  method('eventsAfter', [arb.id, arb.sequence], ['not_found']),
  method('wakeEventsAfter', [arb.id, arb.sequence], ['not_found']),
  method('waitEventAfter', [arb.id, arb.id, arb.sequence, arb.waitOptions], waiterCodes),
  method('awaitProcess', [arb.id, arb.waitOptions], waiterCodes),
  method(
    'completeProcess',
    [arb.id, arb.awaitOutput],
    ['not_found', 'already_terminal', 'conflict'],
  ),
  method('getProcess', [arb.id]),
  method('ackWake', [arb.id, arb.sequence], ['not_found']),
  method(
    'claimProcessLease',
    [arb.id, arb.id, arb.ttl],
    ['not_found', 'already_terminal', 'lease_held'],
  ),
  method('renewProcessLease', [arb.lease, arb.ttl], ['not_found', 'lease_lost']),
  method('completeProcessLease', [arb.leaseCompletion], ['not_found']),
  method('getProcessLease', [arb.id], ['not_found']),
  method(
    'completeProcessWithLease',
    [arb.lease, arb.awaitOutput],
    ['not_found', 'lease_lost', 'already_terminal', 'conflict'],
  ),
  method(
    'reclaimProcessLease',
    [arb.id, arb.leaseReclaim],
    ['not_found', 'already_terminal', 'lease_held'],
  ),
  method('recentEvents', [arb.id, arb.recentLimit], ['not_found']),
  method('countEvents', [arb.id, arb.countOptions], ['not_found']),
  method('history', [arb.id, arb.historyOptions], ['not_found']),
  [
    'asOf',
    {
      params: [arb.asOfPoint],
      call: (registry, [at]) => registry.asOf(at as never).listProcesses(),
      codes: [],
    },
  ],
  [
    'withContext',
    {
      params: [arb.auditContext],
      call: (registry, [context]) => registry.withContext(context as never).listNonTerminal(),
      codes: [],
    },
  ],
  [
    'events$',
    {
      params: [arb.id, arb.sequence],
      call: (registry, [id, after]) => registry.events$(id as never, after as never),
      codes: [],
    },
  ],
]);

/** Arguments for one call, and whether any of them breaks its schema. */
const argsFor = (params: arb.Param[]): fc.Arbitrary<{ args: unknown[]; bad: boolean }> =>
  fc
    .tuple(
      ...params.map((p) =>
        fc.oneof(
          { weight: 2, arbitrary: p.good.map((v) => ({ v, bad: false })) },
          p.bad.map((v) => ({ v, bad: true })),
        ),
      ),
    )
    .map((parts) => ({ args: parts.map((p) => p.v), bad: parts.some((p) => p.bad) }));

/** Plus calls whose every argument is anything at all (no claim about validity). */
const wildArgs = (params: arb.Param[]) =>
  fc.array(arb.anything, { minLength: 0, maxLength: params.length + 1 });

const exportOf = async (registry: ProcessRegistry): Promise<string> => {
  let text = '';
  for await (const line of registry.exportEvents()) text += line;
  return text;
};

const fuzzCounts = { inputs: 0, rejected: 0, invalid: 0 };

describe('fuzzed public method arguments', () => {
  let registry: ProcessRegistry;
  const clock = new TestClock();

  // a fresh, small registry per method, so exporting the log around every call stays cheap
  beforeEach(async () => {
    registry = await openRegistry('memory:', { clock: clock.read });
    await registry.registerProcess(fixtureRegistration('p1'));
    await registry.registerProcess(fixtureRegistration('done'));
    await registry.grantHandle({ sessionId: 's1' }, 'p1', { kind: 'tool' });
    await registry.appendEvent('p1', { eventType: 'producer.line', payload: { text: 'a' } });
    await registry.completeProcess('done', { type: 'success', value: 1 });
    await registry.claimProcessLease('p1', 'w1', 1_000);
  });
  afterEach(() => registry.close());
  afterAll(() => {
    console.log(
      `fuzzed API calls: ${fuzzCounts.inputs} inputs over ${Object.keys(methods).length} methods, ${fuzzCounts.rejected} rejected (${fuzzCounts.invalid} invalid), all RegistryErrors, log unchanged on every rejection`,
    );
  });

  /** Runs one call; returns a description of what broke the rules, or undefined. */
  const attempt = async (m: Method, args: unknown[], mustBeInvalid: boolean) => {
    fuzzCounts.inputs++;
    const before = await exportOf(registry);
    let outcome: { ok: true } | { ok: false; error: unknown };
    try {
      const result = m.call(registry, args);
      if (result instanceof Promise) await result;
      outcome = { ok: true };
    } catch (error) {
      outcome = { ok: false, error };
    }
    if (outcome.ok) {
      expect(mustBeInvalid, 'a call with a bad argument succeeded').toBe(false);
      return;
    }
    fuzzCounts.rejected++;
    const { error } = outcome;
    expect(
      isRegistryError(error),
      `not a RegistryError: ${String((error as Error)?.stack ?? error)}`,
    ).toBe(true);
    const code = (error as { code: RegistryErrorCode }).code;
    if (code === 'invalid') fuzzCounts.invalid++;
    if (mustBeInvalid) expect(code).toBe('invalid');
    else expect(['invalid', ...m.codes]).toContain(code);
    expect(await exportOf(registry), 'a rejected call changed the log').toBe(before);
  };

  for (const [name, m] of Object.entries(methods)) {
    it(
      `${name}: bad arguments fail \`invalid\`, any failure is a RegistryError and writes nothing`,
      async () => {
        await fc.assert(
          fc.asyncProperty(argsFor(m.params), ({ args, bad }) => attempt(m, args, bad)),
          { numRuns: RUNS, seed: SEED },
        );
        await fc.assert(
          fc.asyncProperty(wildArgs(m.params), (args) => attempt(m, args, false)),
          { numRuns: Math.ceil(RUNS / 3), seed: SEED },
        );
        // a soak's runs take longer than the default timeout (every run exports the log)
      },
      soakTimeout,
    );
  }
});
