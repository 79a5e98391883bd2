import { expect, it } from 'vitest';
import { openRegistry } from '../../src/index.ts';
import type { EventStore } from '../../src/store/port.ts';
import type { ConformanceContext } from '../support/harness.ts';
import { registration } from './fixtures.ts';

/**
 * A connection on which another writer gets in first: before each single-stream append goes
 * through, `rival` writes to the same stream, so the append's expected revision is stale.
 */
const contended = (store: EventStore, rival: (stream: string) => Promise<void>): EventStore =>
  new Proxy(store, {
    get(target, key) {
      if (key === 'appendToStream') {
        return async (...args: Parameters<EventStore['appendToStream']>) => {
          await rival(args[0]);
          return target.appendToStream(...args);
        };
      }
      const value: unknown = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

export const concurrencyRules = (ctx: ConformanceContext): void => {
  it('gives 50 concurrent appends on one process the sequences 1..50', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        ctx.registry.appendEvent('p1', { eventType: 'producer.line', payload: { text: `${i}` } }),
      ),
    );
    const sequences = results.map((r) => r.event.sequence).sort((a, b) => a - b);
    expect(sequences).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect((await ctx.registry.eventsAfter('p1', 0)).map((e) => e.sequence)).toEqual(sequences);
  });

  it('gives exactly one lease to 20 concurrent claims by different owners', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => ctx.registry.claimProcessLease('p1', `w${i}`, 60_000)),
    );
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const o of outcomes) {
      if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'lease_held' });
    }
  });

  it('keeps sequences dense when two instances append to one process concurrently', async () => {
    const other = await ctx.open();
    await ctx.registry.registerProcess(registration('p1'));
    const appendMany = (registry: typeof other, tag: string) =>
      Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          registry.appendEvent('p1', {
            eventType: 'producer.line',
            payload: { text: `${tag}${i}` },
          }),
        ),
      );
    await Promise.all([appendMany(ctx.registry, 'a'), appendMany(other, 'b')]);
    const events = await other.eventsAfter('p1', 0);
    expect(events.map((e) => e.sequence)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(await ctx.registry.eventsAfter('p1', 0)).toEqual(events);
    // the refused (stale) appends moved no digest: the log digest still chains every event
    for (const registry of [ctx.registry, other]) {
      expect(await registry.verifyIntegrity()).toMatchObject({ ok: true, problems: [] });
    }
  });

  it('gives one lease across two instances racing for it', async () => {
    const other = await ctx.open();
    await ctx.registry.registerProcess(registration('p1'));
    const outcomes = await Promise.allSettled([
      ...Array.from({ length: 5 }, (_, i) => ctx.registry.claimProcessLease('p1', `a${i}`, 60_000)),
      ...Array.from({ length: 5 }, (_, i) => other.claimProcessLease('p1', `b${i}`, 60_000)),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
  });

  it('answers every query with what another instance committed before the call', async () => {
    const writer = await ctx.open();
    const reader = ctx.registry;
    await reader.listNonTerminal(); // the reader is up and has read models already
    await writer.registerProcess(registration('a'));
    await writer.registerProcess(registration('b'));
    await writer.grantHandle({ sessionId: 's' }, 'a', { label: 'L' });
    const lease = await writer.claimProcessLease('a', 'w', 60_000);
    await writer.appendEvent('a', { eventType: 'producer.line', payload: { text: 'x' } });
    await writer.completeProcess('b', { type: 'success', value: 1 });
    expect((await reader.listNonTerminal()).map((r) => r.id)).toEqual(['a']);
    expect(
      (await reader.listHandleGrants({ sessionId: 's' })).map((e) => e.grant.processId),
    ).toEqual(['a']);
    expect(await reader.getProcessLease('a')).toEqual(lease);
    expect((await reader.eventsAfter('a', 0)).map((e) => e.sequence)).toEqual([1]);
    expect((await reader.getProcess('b'))?.status.state).toBe('completed');
    expect((await reader.listProcesses({ status: 'terminal' })).records.map((r) => r.id)).toEqual([
      'b',
    ]);
    expect((await reader.processesChangedSince()).records.map((r) => r.id)).toEqual(['a', 'b']);
    expect(await reader.countEvents('a')).toBe(1);
  });

  it('checks every argument before looking the process up: a bad one is invalid even for an unknown id', async () => {
    const lease = {
      schemaVersion: 1,
      processId: 'ghost',
      ownerId: 'w',
      leaseToken: 't',
      fencingToken: 1,
      claimedAtMs: 0,
      expiresAtMs: 1,
    } as const;
    const r = ctx.registry;
    const calls: [string, () => Promise<unknown>][] = [
      ['setExternalRef', () => r.setExternalRef('ghost', { backend: '', id: 'i' } as never)],
      ['grantHandle', () => r.grantHandle({ sessionId: '' }, 'ghost', {})],
      ['appendEvent', () => r.appendEvent('ghost', { eventType: ' ', payload: {} })],
      ['appendEvents', () => r.appendEvents('ghost', [{ payload: 1 } as never])],
      ['eventsAfter', () => r.eventsAfter('ghost', -1)],
      ['ackWake', () => r.ackWake('ghost', 0.5)],
      ['completeProcess', () => r.completeProcess('ghost', { type: 'nope' } as never)],
      ['claimProcessLease', () => r.claimProcessLease('ghost', 'w', -1)],
      ['renewProcessLease', () => r.renewProcessLease(lease, -1)],
      ['completeProcessWithLease', () => r.completeProcessWithLease(lease, { type: 'x' } as never)],
      [
        'reclaimProcessLease',
        () => r.reclaimProcessLease('ghost', { owner: '', observedLeaseToken: 't', ttlMs: 1 }),
      ],
      ['handleGrantsForProcess', () => r.handleGrantsForProcess('')],
      ['countEvents', () => r.countEvents('ghost', { upToSequence: -1 })],
      ['history', () => r.history('ghost', { pageSize: 0 })],
    ];
    for (const [name, call] of calls) {
      await expect(call(), name).rejects.toMatchObject({ code: 'invalid' });
    }
  });

  // In process only: a remote registry's service opens its own store connection.
  it.skipIf(ctx.backend.openRegistry !== undefined)(
    'fails `concurrency` once conflicts with other instances outlast the retry budget, writing none of its own',
    async () => {
      await ctx.registry.registerProcess(registration('p1'));
      const rival = ctx.registry;
      let rivalWrites = 0;
      const loser = await openRegistry(
        contended(await ctx.connect(), async () => {
          rivalWrites += 1;
          await rival.appendEvent('p1', { eventType: 'producer.line', payload: { text: 'rival' } });
        }),
        { clock: ctx.clock.read, retryBudgetMs: 20 },
      );
      try {
        const error = await loser
          .appendEvent('p1', { eventType: 'producer.line', payload: { text: 'mine' } })
          .catch((e: unknown) => e);
        expect(error).toMatchObject({ name: 'RegistryError', code: 'concurrency' });
        expect((error as Error).message).toContain('`p1`');
        // one rival write per attempt (how many fit in the budget depends on the store's
        // speed), and nothing of its own stored
        expect(rivalWrites).toBeGreaterThanOrEqual(1);
        const texts = (await ctx.registry.eventsAfter('p1', 0)).map((e) => e.payload);
        expect(texts).toEqual(Array.from({ length: rivalWrites }, () => ({ text: 'rival' })));
      } finally {
        await loser.close();
      }
    },
  );
};
