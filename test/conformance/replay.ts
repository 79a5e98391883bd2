import { expect, it } from 'vitest';
import { openRegistry, type ProcessRegistry } from '../../src/index.ts';
import type { ConformanceContext } from '../support/harness.ts';
import { expectRegistryError } from '../support/registry-errors.ts';
import { registration } from './fixtures.ts';

/** p1's life, with p2 written in between so positions and revisions differ. */
const seed = async (ctx: ConformanceContext): Promise<void> => {
  const r = ctx.registry;
  const alice = r.withContext({ actor: 'alice', correlationId: 'req-1' });
  const worker = r.withContext({ actor: 'worker', correlationId: 'job-9' });
  await alice.registerProcess(registration('p1'));
  await r.registerProcess(registration('p2'));
  await alice.grantHandle({ sessionId: 'alice' }, 'p1', { label: 'mine' });
  await worker.appendEvent('p1', {
    eventType: 'producer.wake',
    payload: { text: 'w1' },
    wakeTargetScope: { sessionId: 'alice' },
  });
  ctx.clock.advance(10);
  const lease = await worker.claimProcessLease('p1', 'worker', 1000);
  await r.appendEvent('p2', { eventType: 'producer.line', payload: { text: 'x' } });
  ctx.clock.advance(10);
  await worker.renewProcessLease(lease, 5000);
  await alice.ackWake('p1', 1);
  await worker.appendEvent('p1', { eventType: 'producer.line', payload: { text: 'l2' } });
  await worker.completeProcessLease({ processId: 'p1', leaseToken: lease.leaseToken });
  ctx.clock.advance(10);
  await worker.completeProcess('p1', { type: 'success', value: { ok: true } });
};

const answers = async (
  r: Pick<
    ProcessRegistry,
    'getProcess' | 'eventsAfter' | 'wakeEventsAfter' | 'getProcessLease' | 'handleGrantsForProcess'
  >,
) => ({
  record: await r.getProcess('p1'),
  events: await r.eventsAfter('p1', 0),
  wakes: await r.wakeEventsAfter('p1', 0),
  lease: await r.getProcessLease('p1'),
  grants: await r.handleGrantsForProcess('p1'),
});

export const replayRules = (ctx: ConformanceContext): void => {
  it('replays a process: each event with its command, actor and correlation id, and the state the next command decides on', async () => {
    await seed(ctx);
    const steps = await ctx.registry.replay('p1');
    const history = await ctx.registry.history('p1');
    expect(steps.map((s) => [s.revision, s.position, s.type])).toEqual(
      history.map((e) => [e.revision, e.position, e.type]),
    );
    expect(steps.map((s) => [s.command, s.actor, s.correlationId])).toEqual([
      ['registerProcess', 'alice', 'req-1'],
      ['grantHandle', 'alice', 'req-1'],
      ['appendEvent', 'worker', 'job-9'],
      ['claimProcessLease', 'worker', 'job-9'],
      ['renewProcessLease', 'worker', 'job-9'],
      ['ackWake', 'alice', 'req-1'],
      ['appendEvent', 'worker', 'job-9'],
      ['completeProcessLease', 'worker', 'job-9'],
      ['completeProcess', 'worker', 'job-9'],
    ]);
    const t0 = steps[0]!.recordedAtMs;
    expect(steps.map((s) => s.after)).toEqual([
      {
        status: 'running',
        revision: 0,
        lastSequence: 0,
        grants: [],
        lease: null,
        maxFencingToken: 0,
        pendingWakes: [],
      },
      {
        status: 'running',
        revision: 1,
        lastSequence: 0,
        grants: ['session:alice'],
        lease: null,
        maxFencingToken: 0,
        pendingWakes: [],
      },
      {
        status: 'running',
        revision: 2,
        lastSequence: 1,
        grants: ['session:alice'],
        lease: null,
        maxFencingToken: 0,
        pendingWakes: [1],
      },
      {
        status: 'running',
        revision: 3,
        lastSequence: 1,
        grants: ['session:alice'],
        lease: { ownerId: 'worker', fencingToken: 1, expiresAtMs: t0 + 1010 },
        maxFencingToken: 1,
        pendingWakes: [1],
      },
      {
        status: 'running',
        revision: 4,
        lastSequence: 1,
        grants: ['session:alice'],
        lease: { ownerId: 'worker', fencingToken: 1, expiresAtMs: t0 + 5020 },
        maxFencingToken: 1,
        pendingWakes: [1],
      },
      {
        status: 'running',
        revision: 5,
        lastSequence: 1,
        grants: ['session:alice'],
        lease: { ownerId: 'worker', fencingToken: 1, expiresAtMs: t0 + 5020 },
        maxFencingToken: 1,
        pendingWakes: [],
      },
      {
        status: 'running',
        revision: 6,
        lastSequence: 2,
        grants: ['session:alice'],
        lease: { ownerId: 'worker', fencingToken: 1, expiresAtMs: t0 + 5020 },
        maxFencingToken: 1,
        pendingWakes: [],
      },
      {
        status: 'running',
        revision: 7,
        lastSequence: 2,
        grants: ['session:alice'],
        lease: null,
        maxFencingToken: 1,
        pendingWakes: [],
      },
      {
        status: 'completed',
        revision: 8,
        lastSequence: 3,
        grants: ['session:alice'],
        lease: null,
        maxFencingToken: 1,
        pendingWakes: [],
      },
    ]);
    // up to a point: the prefix, by position or by time
    const claimed = steps[3]!;
    expect(await ctx.registry.replay('p1', { until: { position: claimed.position } })).toEqual(
      steps.slice(0, 4),
    );
    expect(await ctx.registry.replay('p1', { until: t0 })).toEqual(steps.slice(0, 3));
    await expectRegistryError(ctx.registry.replay('p1', { until: t0 - 1 }), 'not_found');
    await expectRegistryError(ctx.registry.replay('ghost'), 'not_found');
    await expectRegistryError(ctx.registry.replay('p1', { until: 'soon' } as never), 'invalid');
  });

  it('extracts a case at any point that a fresh memory registry imports to answer as asOf that point', async () => {
    await seed(ctx);
    const history = await ctx.registry.history('p1');
    const points = [
      ...history.map((e) => ({ position: e.position })),
      { timeMs: history[0]!.recordedAtMs + 10 },
    ];
    for (const point of points) {
      const lines = await ctx.registry.extractCase('p1', { until: point });
      const local = await openRegistry('memory:');
      try {
        expect(await local.importEvents(() => lines)).toEqual({ imported: lines.length });
        expect(await answers(local), String(Object.values(point)[0])).toEqual(
          await answers(ctx.registry.asOf(point)),
        );
        expect((await local.listProcesses()).records).toHaveLength(1);
      } finally {
        await local.close();
      }
    }
    // without a point: the whole process as it is now
    const whole = await ctx.registry.extractCase('p1');
    expect(whole).toHaveLength(history.length);
    const local = await openRegistry('memory:');
    await local.importEvents(() => whole);
    expect(await answers(local)).toEqual(await answers(ctx.registry));
    await local.close();
  });
};
