import { expect, it } from 'vitest';
import type { ProcessRegistry } from '../../src/index.ts';
import type { ConformanceContext } from '../support/harness.ts';
import { expectRejectedWithoutWrite, registration } from './fixtures.ts';

/** Appends `n` lines and every third one a wake, in one batch: types interleave. */
const seed = async (registry: ProcessRegistry, id: string, n: number): Promise<void> => {
  await registry.registerProcess(registration(id));
  await registry.appendEvents(
    id,
    Array.from({ length: n }, (_, i) =>
      (i + 1) % 3 === 0
        ? {
            eventType: 'producer.wake',
            payload: { text: `w${i + 1}` },
            wakeTargetScope: { sessionId: 's' },
          }
        : { eventType: 'producer.line', payload: { text: `l${i + 1}` } },
    ),
  );
};

/** recentEvents and countEvents: answers from indexes, as the full list would give them. */
export const eventCountRules = (ctx: ConformanceContext): void => {
  it('recentEvents returns the last N events, ascending', async () => {
    await seed(ctx.registry, 'p1', 10);
    const all = await ctx.registry.eventsAfter('p1', 0);
    expect(await ctx.registry.recentEvents('p1', 3)).toEqual(all.slice(7));
    expect((await ctx.registry.recentEvents('p1', 1)).map((e) => e.sequence)).toEqual([10]);
    expect(await ctx.registry.recentEvents('p1', 1000)).toEqual(all);
    await ctx.registry.registerProcess(registration('empty'));
    expect(await ctx.registry.recentEvents('empty', 5)).toEqual([]);
    await ctx.registry.appendEvent('p1', { eventType: 'producer.line', payload: { text: 'x' } });
    expect((await ctx.registry.recentEvents('p1', 2)).map((e) => e.sequence)).toEqual([10, 11]);
  });

  it('countEvents counts all events, one type, and up to a sequence', async () => {
    await seed(ctx.registry, 'p1', 10); // wakes at 3, 6, 9
    const count = (options?: Parameters<ProcessRegistry['countEvents']>[1]) =>
      ctx.registry.countEvents('p1', options);
    expect(await count()).toBe(10);
    expect(await count({})).toBe(10);
    expect(await count({ eventType: 'producer.wake' })).toBe(3);
    expect(await count({ eventType: 'producer.line' })).toBe(7);
    expect(await count({ eventType: 'process.completed' })).toBe(0);
    expect(await count({ upToSequence: 4 })).toBe(4);
    expect(await count({ upToSequence: 0 })).toBe(0);
    expect(await count({ upToSequence: 99 })).toBe(10);
    expect(await count({ eventType: 'producer.wake', upToSequence: 8 })).toBe(2);
    expect(await count({ eventType: 'producer.wake', upToSequence: 9 })).toBe(3);
    expect(await count({ eventType: 'producer.line', upToSequence: 5 })).toBe(4);
    await ctx.registry.completeProcess('p1', { type: 'success', value: null });
    expect(await count({ eventType: 'process.completed' })).toBe(1);
    expect(await count()).toBe(11);
  });

  it('counts 0 for an undeclared event type instead of refusing it', async () => {
    await seed(ctx.registry, 'p1', 4);
    expect(await ctx.registry.countEvents('p1', { eventType: 'never.declared' })).toBe(0);
    expect(
      await ctx.registry.countEvents('p1', { eventType: 'never.declared', upToSequence: 4 }),
    ).toBe(0);
  });

  it('counts what another instance appended, and the same after a rebuild', async () => {
    const other = await ctx.open();
    await seed(other, 'p1', 7);
    expect(await ctx.registry.countEvents('p1', { eventType: 'producer.wake' })).toBe(2);
    expect((await ctx.registry.recentEvents('p1', 2)).map((e) => e.sequence)).toEqual([6, 7]);
    await ctx.registry.rebuildProjections();
    expect(await ctx.registry.countEvents('p1', { eventType: 'producer.line' })).toBe(5);
    expect(
      await ctx.registry.countEvents('p1', { eventType: 'producer.wake', upToSequence: 5 }),
    ).toBe(1);
    expect((await ctx.registry.recentEvents('p1', 2)).map((e) => e.sequence)).toEqual([6, 7]);
  });

  it('answers recentEvents and countEvents as of a past point', async () => {
    await seed(ctx.registry, 'p1', 6); // wakes at 3, 6
    const atFour = (await ctx.registry.history('p1')).find(
      (h) => h.type === 'ProcessEventAppended' && h.data.event.sequence === 4,
    );
    const view = ctx.registry.asOf({ position: atFour!.position });
    expect(await view.countEvents('p1')).toBe(4);
    expect(await view.countEvents('p1', { eventType: 'producer.wake' })).toBe(1);
    expect((await view.recentEvents('p1', 2)).map((e) => e.sequence)).toEqual([3, 4]);
    expect(await ctx.registry.countEvents('p1')).toBe(6);
    await expect(ctx.registry.asOf({ position: 0n }).countEvents('p1')).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('refuses bad arguments with invalid and unknown processes with not_found', async () => {
    await seed(ctx.registry, 'p1', 3);
    for (const limit of [0, -1, 1001, 1.5, Number.NaN, '2']) {
      await expectRejectedWithoutWrite(
        ctx,
        () => ctx.registry.recentEvents('p1', limit as never),
        'invalid',
      );
    }
    for (const options of [
      { eventType: ' ' },
      { eventType: 'x'.repeat(513) },
      { upToSequence: -1 },
      { upToSequence: 1.5 },
      { other: 1 },
      'producer.line',
    ]) {
      await expectRejectedWithoutWrite(
        ctx,
        () => ctx.registry.countEvents('p1', options as never),
        'invalid',
      );
    }
    // arguments are checked before the process is looked up
    await expectRejectedWithoutWrite(ctx, () => ctx.registry.recentEvents('ghost', 0), 'invalid');
    await expectRejectedWithoutWrite(ctx, () => ctx.registry.recentEvents('ghost', 1), 'not_found');
    await expectRejectedWithoutWrite(ctx, () => ctx.registry.countEvents('ghost'), 'not_found');
  });
};
