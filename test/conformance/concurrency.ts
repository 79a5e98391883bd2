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
        // it retried (one rival write per attempt) and stored nothing of its own
        expect(rivalWrites).toBeGreaterThan(1);
        const texts = (await ctx.registry.eventsAfter('p1', 0)).map((e) => e.payload);
        expect(texts).toEqual(Array.from({ length: rivalWrites }, () => ({ text: 'rival' })));
      } finally {
        await loser.close();
      }
    },
  );
};
