import { expect, it } from 'vitest';
import type { ProcessRegistry } from '../../src/index.ts';
import type { ConformanceContext } from '../support/harness.ts';
import { expectRejectedWithoutWrite, registration } from './fixtures.ts';

const huge = 'x'.repeat(2 * 1024 * 1024);
const cyclic: Record<string, unknown> = {};
cyclic.self = cyclic;

/** Each public method with a bad argument. The registry holds process `p1` with a lease. */
type BadCall = [string, (r: ProcessRegistry, lease: unknown) => Promise<unknown>];
const bad = (r: ProcessRegistry) =>
  r as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;

const badCalls: BadCall[] = [
  ['registerProcess(number)', (r) => bad(r).registerProcess!(42)],
  ['registerProcess(missing input)', (r) => bad(r).registerProcess!({ id: 'x' })],
  ['registerProcess(huge id)', (r) => r.registerProcess({ id: huge, input: { type: 't' } })],
  [
    'registerProcess(non-JSON input)',
    (r) => bad(r).registerProcess!({ id: 'x', input: { type: 't', f: () => 1 } }),
  ],
  [
    'registerProcess(NaN in input)',
    (r) => r.registerProcess({ id: 'x', input: { type: 't', n: Number.NaN } }),
  ],
  ['setExternalRef(blank id)', (r) => r.setExternalRef(' ', { backend: 'b', id: 'i' })],
  ['setExternalRef(missing backend)', (r) => bad(r).setExternalRef!('p1', { id: 'i' })],
  ['grantHandle(no scope)', (r) => bad(r).grantHandle!(undefined, 'p1', {})],
  ['grantHandle(blank session)', (r) => r.grantHandle({ sessionId: '' }, 'p1', {})],
  [
    'grantHandle(descriptor type)',
    (r) => bad(r).grantHandle!({ sessionId: 's' }, 'p1', { kind: 5 }),
  ],
  ['grantHandle(huge label)', (r) => r.grantHandle({ sessionId: 's' }, 'p1', { label: huge })],
  ['revokeHandle(number id)', (r) => bad(r).revokeHandle!({ sessionId: 's' }, 7)],
  [
    'transferHandleGrants(not an array)',
    (r) => bad(r).transferHandleGrants!({ sessionId: 'a' }, { sessionId: 'b' }, 'p1'),
  ],
  [
    'transferHandleGrants(blank id)',
    (r) => r.transferHandleGrants({ sessionId: 'a' }, { sessionId: 'b' }, ['']),
  ],
  ['listHandleGrants(string scope)', (r) => bad(r).listHandleGrants!('session:a')],
  ['listLiveHandleGrants(null)', (r) => bad(r).listLiveHandleGrants!(null)],
  ['hasHandleGrant(blank id)', (r) => r.hasHandleGrant({ sessionId: 's' }, '  ')],
  ['handleGrantsForProcess(object)', (r) => bad(r).handleGrantsForProcess!({})],
  ['deleteSessionProcessState(blank)', (r) => r.deleteSessionProcessState('')],
  ['appendEvent(no eventType)', (r) => bad(r).appendEvent!('p1', { payload: {} })],
  [
    'appendEvent(undefined payload member)',
    (r) =>
      bad(r).appendEvent!('p1', {
        eventType: 'producer.line',
        payload: { text: 'a', u: undefined },
      }),
  ],
  [
    'appendEvent(bigint payload)',
    (r) => bad(r).appendEvent!('p1', { eventType: 'producer.line', payload: { text: 'a', n: 1n } }),
  ],
  [
    'appendEvent(Infinity)',
    (r) =>
      r.appendEvent('p1', {
        eventType: 'producer.line',
        payload: { text: 'a', n: Number.POSITIVE_INFINITY },
      }),
  ],
  [
    'appendEvent(cyclic payload)',
    (r) => bad(r).appendEvent!('p1', { eventType: 'producer.line', payload: cyclic }),
  ],
  [
    'appendEvent(huge payload)',
    (r) => r.appendEvent('p1', { eventType: 'producer.line', payload: { text: huge } }),
  ],
  [
    'appendEvent(bad wake scope)',
    (r) =>
      bad(r).appendEvent!('p1', {
        eventType: 'producer.line',
        payload: { text: 'a' },
        wakeTargetScope: {},
      }),
  ],
  ['appendEvents(not an array)', (r) => bad(r).appendEvents!('p1', { eventType: 'producer.line' })],
  [
    'appendEvents(bad entry)',
    (r) =>
      bad(r).appendEvents!('p1', [
        { eventType: 'producer.line', payload: { text: 'a' } },
        { payload: 1 },
      ]),
  ],
  [
    'appendEvents(too many)',
    (r) =>
      r.appendEvents(
        'p1',
        Array.from({ length: 1001 }, () => ({
          eventType: 'producer.line',
          payload: { text: 'a' },
        })),
      ),
  ],
  ['eventsAfter(negative)', (r) => r.eventsAfter('p1', -1)],
  ['eventsAfter(fraction)', (r) => r.eventsAfter('p1', 1.5)],
  ['wakeEventsAfter(string)', (r) => bad(r).wakeEventsAfter!('p1', '0')],
  ['waitEventAfter(blank type)', (r) => r.waitEventAfter('p1', '', 0)],
  [
    'waitEventAfter(negative timeout)',
    (r) => r.waitEventAfter('p1', 'producer.line', 0, { timeoutMs: -1 }),
  ],
  ['awaitProcess(bad signal)', (r) => bad(r).awaitProcess!('p1', { signal: 'stop' })],
  ['completeProcess(unknown output type)', (r) => bad(r).completeProcess!('p1', { type: 'maybe' })],
  [
    'completeProcess(failure without code)',
    (r) => bad(r).completeProcess!('p1', { type: 'failure', class: 'c', message: 'm' }),
  ],
  ['getProcess(blank)', (r) => r.getProcess('')],
  ['ackWake(negative)', (r) => r.ackWake('p1', -3)],
  ['claimProcessLease(blank owner)', (r) => r.claimProcessLease('p1', ' ', 10)],
  ['claimProcessLease(negative ttl)', (r) => r.claimProcessLease('p1', 'w', -1)],
  ['claimProcessLease(ttl string)', (r) => bad(r).claimProcessLease!('p1', 'w', '10')],
  [
    'renewProcessLease(missing token)',
    (r, lease) => bad(r).renewProcessLease!({ ...(lease as object), leaseToken: undefined }, 10),
  ],
  ['renewProcessLease(bad ttl)', (r, lease) => bad(r).renewProcessLease!(lease, Number.NaN)],
  ['completeProcessLease(no token)', (r) => bad(r).completeProcessLease!({ processId: 'p1' })],
  ['withContext(blank actor)', async (r) => r.withContext({ actor: '' })],
  ['history(blank)', (r) => r.history(' ')],
  ['history(bad type filter)', (r) => bad(r).history!('p1', { types: ['NotAnEvent'] })],
  ['iterateHistory(bad page size)', (r) => r.iterateHistory('p1', { pageSize: 0 }).next()],
  ['events$(blank id)', async (r) => r.events$('  ')],
  ['events$(negative sequence)', async (r) => r.events$('p1', -1)],
  ['asOf(string)', async (r) => bad(r).asOf!('yesterday')],
  ['asOf(negative position)', async (r) => r.asOf({ position: -1 })],
  ['importEvents(not a function)', (r) => bad(r).importEvents!(['{}'])],
  // objects are strict: an unknown field is invalid
  [
    'appendEvent(unknown request field)',
    (r) =>
      bad(r).appendEvent!('p1', { eventType: 'producer.line', payload: { text: 'a' }, urgent: 1 }),
  ],
  ['grantHandle(unknown scope field)', (r) => bad(r).grantHandle!({ sessionId: 's', x: 1 }, 'p1')],
  [
    'grantHandle(unknown descriptor field)',
    (r) => bad(r).grantHandle!({ sessionId: 's' }, 'p1', { colour: 'red' }),
  ],
  [
    'setExternalRef(unknown field)',
    (r) => bad(r).setExternalRef!('p1', { backend: 'b', id: 'i', extra: 1 }),
  ],
  [
    'completeProcess(unknown output field)',
    (r) => bad(r).completeProcess!('p1', { type: 'success', value: 1, extra: 1 }),
  ],
  [
    'completeProcessLease(unknown field)',
    (r, lease) =>
      bad(r).completeProcessLease!({
        processId: 'p1',
        leaseToken: (lease as { leaseToken: string }).leaseToken,
        extra: 1,
      }),
  ],
  ['withContext(unknown field)', async (r) => bad(r).withContext!({ user: 'x' })],
  ['history(unknown option)', (r) => bad(r).history!('p1', { from: 0 })],
  ['ackWake(fraction)', (r) => r.ackWake('p1', 1.5)],
  ['getProcessLease(blank)', (r) => r.getProcessLease(' ')],
  ['prunedProcess(blank)', (r) => r.prunedProcess('')],
  ['recentEvents(blank id)', (r) => r.recentEvents(' ', 1)],
  ['replay(bad point)', (r) => r.replay('p1', { until: { position: -1 } })],
  ['extractCase(bad point)', (r) => bad(r).extractCase!('p1', { until: 'soon' })],
  ['changesBetween(bad point)', (r) => bad(r).changesBetween!('then', 0)],
  ['asOf(NaN time)', async (r) => r.asOf({ timeMs: Number.NaN })],
  ['asOf(unknown point field)', async (r) => bad(r).asOf!({ at: 5 })],
  ['listProcesses(unknown page field)', (r) => bad(r).listProcesses!({}, { size: 5 })],
];

export const validationRules = (ctx: ConformanceContext): void => {
  it.each(badCalls)('rejects bad input to %s as invalid, writing nothing', async (_name, call) => {
    await ctx.registry.registerProcess(registration('p1'));
    const lease = await ctx.registry.claimProcessLease('p1', 'w', 1000);
    await expectRejectedWithoutWrite(ctx, () => call(ctx.registry, lease), 'invalid');
  });

  it('rejects every call on a closed registry with unavailable', async () => {
    const other = await ctx.open();
    await other.close();
    await expect(other.getProcess('p1')).rejects.toMatchObject({ code: 'unavailable' });
    await expect(other.registerProcess(registration('p9'))).rejects.toMatchObject({
      code: 'unavailable',
    });
    expect(await ctx.registry.getProcess('p9')).toBeUndefined();
  });

  it('refuses every command and query of a closed registry with unavailable, writing nothing; close again is fine', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    const lease = await ctx.registry.claimProcessLease('p1', 'w', 60_000);
    const closed = await ctx.open();
    await closed.getProcess('p1');
    await closed.close();
    await closed.close();
    const scope = { sessionId: 's' };
    const line = { eventType: 'producer.line', payload: { text: 'a' } };
    const done = { type: 'success', value: 1 } as const;
    const calls: [string, () => Promise<unknown>][] = [
      ['registerProcess', () => closed.registerProcess(registration('p9'))],
      [
        'withContext(…).registerProcess',
        () => closed.withContext({ actor: 'a' }).registerProcess(registration('p9')),
      ],
      ['setExternalRef', () => closed.setExternalRef('p1', { backend: 'b', id: 'i' })],
      ['grantHandle', () => closed.grantHandle(scope, 'p1', {})],
      ['revokeHandle', () => closed.revokeHandle(scope, 'p1')],
      [
        'transferHandleGrants',
        () => closed.transferHandleGrants(scope, { sessionId: 't' }, ['p1']),
      ],
      ['listHandleGrants', () => closed.listHandleGrants(scope)],
      ['listLiveHandleGrants', () => closed.listLiveHandleGrants(scope)],
      ['hasHandleGrant', () => closed.hasHandleGrant(scope, 'p1')],
      ['handleGrantsForProcess', () => closed.handleGrantsForProcess('p1')],
      ['deleteSessionProcessState', () => closed.deleteSessionProcessState('s')],
      ['appendEvent', () => closed.appendEvent('p1', line)],
      ['appendEvents', () => closed.appendEvents('p1', [line])],
      ['eventsAfter', () => closed.eventsAfter('p1', 0)],
      ['wakeEventsAfter', () => closed.wakeEventsAfter('p1', 0)],
      [
        'waitEventAfter',
        () => closed.waitEventAfter('p1', 'producer.line', 0, { timeoutMs: 5_000 }),
      ],
      ['awaitProcess', () => closed.awaitProcess('p1', { timeoutMs: 5_000 })],
      ['completeProcess', () => closed.completeProcess('p1', done)],
      ['getProcess', () => closed.getProcess('p1')],
      ['ackWake', () => closed.ackWake('p1', 1)],
      ['listNonTerminal', () => closed.listNonTerminal()],
      ['claimProcessLease', () => closed.claimProcessLease('p1', 'w2', 10)],
      ['renewProcessLease', () => closed.renewProcessLease(lease, 10)],
      [
        'completeProcessLease',
        () => closed.completeProcessLease({ processId: 'p1', leaseToken: lease.leaseToken }),
      ],
      ['getProcessLease', () => closed.getProcessLease('p1')],
      ['completeProcessWithLease', () => closed.completeProcessWithLease(lease, done)],
      [
        'reclaimProcessLease',
        () =>
          closed.reclaimProcessLease('p1', {
            owner: 'w2',
            observedLeaseToken: lease.leaseToken,
            ttlMs: 10,
          }),
      ],
      ['recentEvents', () => closed.recentEvents('p1', 1)],
      ['countEvents', () => closed.countEvents('p1')],
      ['listProcesses', () => closed.listProcesses()],
      ['processesChangedSince', () => closed.processesChangedSince()],
      ['history', () => closed.history('p1')],
      ['iterateHistory', () => closed.iterateHistory('p1').next()],
      ['asOf(…).getProcess', async () => closed.asOf(ctx.clock.now).getProcess('p1')],
      ['changesBetween', () => closed.changesBetween(0, ctx.clock.now)],
      ['replay', () => closed.replay('p1')],
      ['extractCase', () => closed.extractCase('p1')],
      ['exportEvents', () => closed.exportEvents().next()],
      ['importEvents', () => closed.importEvents(() => [])],
      ['prunedProcess', () => closed.prunedProcess('p1')],
      ['digest', () => closed.digest()],
      ['verifyIntegrity', () => closed.verifyIntegrity()],
      ['verifyProjections', () => closed.verifyProjections()],
      ['rebuildProjections', () => closed.rebuildProjections()],
    ];
    for (const [name, call] of calls) {
      await expectRejectedWithoutWrite(ctx, call, 'unavailable').catch((error: unknown) => {
        throw new Error(`${name} on a closed registry: ${String(error)}`);
      });
    }
    expect(await ctx.registry.getProcessLease('p1')).toEqual(lease);
  });

  it('throws RegistryError instances with a code and a message naming the process', async () => {
    const error = await ctx.registry.eventsAfter('ghost-7', 0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'RegistryError', code: 'not_found' });
    expect((error as Error).message).toContain('ghost-7');
  });
};
