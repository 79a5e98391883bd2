import { firstValueFrom, take, toArray } from 'rxjs';
import { expect, it } from 'vitest';
import type { ProcessRegistry } from '../../src/index.ts';
import type { ConformanceContext } from '../support/harness.ts';
import { registration } from './fixtures.ts';

const line = (text: string) => ({ eventType: 'producer.line', payload: { text } });
/**
 * Counts timers created and not yet cleared or fired while `during` runs, by wrapping the
 * global timer functions: exact, unlike counting the process's active handles. Timers
 * node-postgres sets for its own connections (a connect timeout, cleared when the
 * connection is up, which on a loaded machine can be after `during`) are not counted: they
 * are the driver's, not the waiters'.
 */
const outstandingTimers = async (during: () => Promise<void>): Promise<number> => {
  const live = new Set<unknown>();
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const patchedSet = ((callback: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    if (/node_modules[\\/]pg(-pool)?[\\/]/.test(new Error().stack ?? '')) {
      return realSet(callback, ms, ...args);
    }
    const handle: unknown = realSet(
      (...a: unknown[]) => {
        live.delete(handle);
        callback(...a);
      },
      ms,
      ...args,
    );
    live.add(handle);
    return handle;
  }) as typeof setTimeout;
  globalThis.setTimeout = patchedSet;
  globalThis.clearTimeout = ((handle: Parameters<typeof clearTimeout>[0]) => {
    live.delete(handle);
    realClear(handle);
  }) as typeof clearTimeout;
  try {
    await during();
  } finally {
    globalThis.setTimeout = realSet;
    globalThis.clearTimeout = realClear;
  }
  return live.size;
};

/** Waits until the registry's feed has no subscribers left (settling is synchronous, but a
 * rejected promise's handlers run a tick later). */
const settled = async (registry: ProcessRegistry) => {
  for (let i = 0; i < 50 && registry.diagnostics().feedSubscribers > 0; i++) {
    await new Promise((r) => setImmediate(r));
  }
  return registry.diagnostics().feedSubscribers;
};

/** Yields to the event loop until `condition` holds (a store read may take several turns). */
const until = async (condition: () => boolean): Promise<void> => {
  while (!condition()) await new Promise((r) => setImmediate(r));
};

export const waiterRules = (ctx: ConformanceContext): void => {
  it('resolves waitEventAfter at once when a matching event is stored', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    await ctx.registry.appendEvent('p1', line('a'));
    await ctx.registry.appendEvent('p1', {
      eventType: 'producer.wake',
      payload: { text: 'w' },
      wakeTargetScope: { sessionId: 's' },
    });
    const event = await ctx.registry.waitEventAfter('p1', 'producer.wake', 0);
    expect(event.sequence).toBe(2);
    expect(await settled(ctx.registry)).toBe(0);
  });

  it('resolves waitEventAfter later, on the first matching event after the sequence', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    await ctx.registry.appendEvent('p1', line('old'));
    const waiting = ctx.registry.waitEventAfter('p1', 'producer.line', 1);
    await ctx.registry.appendEvent('p1', {
      eventType: 'producer.wake',
      payload: { text: 'x' },
      wakeTargetScope: { sessionId: 's' },
    });
    await ctx.registry.appendEvent('p1', line('new'));
    await ctx.registry.appendEvent('p1', line('newer'));
    const event = await waiting;
    expect(event).toMatchObject({ sequence: 3, payload: { text: 'new' } });
    expect(await settled(ctx.registry)).toBe(0);
  });

  it('rejects waiters on an unknown process with not_found', async () => {
    await expect(ctx.registry.waitEventAfter('ghost', 'x', 0)).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(ctx.registry.awaitProcess('ghost')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('checks the inputs of a waiter before looking its process up', async () => {
    await expect(ctx.registry.waitEventAfter('ghost', '  ', 0)).rejects.toMatchObject({
      code: 'invalid',
    });
    await expect(ctx.registry.waitEventAfter('ghost', 'x', -1)).rejects.toMatchObject({
      code: 'invalid',
    });
    await expect(
      ctx.registry.awaitProcess('ghost', { timeoutMs: -1 } as never),
    ).rejects.toMatchObject({ code: 'invalid' });
  });

  it('takes a timeoutMs up to 2³¹−1 and refuses a larger one as invalid', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    await ctx.registry.appendEvent('p1', line('a'));
    const max = 2 ** 31 - 1;
    expect(
      (await ctx.registry.waitEventAfter('p1', 'producer.line', 0, { timeoutMs: max })).sequence,
    ).toBe(1);
    await expect(
      ctx.registry.waitEventAfter('p1', 'producer.line', 0, { timeoutMs: max + 1 }),
    ).rejects.toMatchObject({ code: 'invalid' });
    await expect(ctx.registry.awaitProcess('p1', { timeoutMs: max + 1 })).rejects.toMatchObject({
      code: 'invalid',
    });
    await expect(ctx.registry.awaitProcess('p1', { timeoutMs: 1.5 })).rejects.toMatchObject({
      code: 'invalid',
    });
    expect(await settled(ctx.registry)).toBe(0);
  });

  it('rejects waiters with unavailable when their registry closes while they wait', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    const other = await ctx.open();
    const waiting = other.waitEventAfter('p1', 'producer.line', 0);
    const awaiting = other.awaitProcess('p1');
    await until(() => other.diagnostics().openWaiters === 2);
    // handlers attached before closing: the waiters reject while close() is still running
    const rejected = [
      expect(waiting).rejects.toMatchObject({ code: 'unavailable' }),
      expect(awaiting).rejects.toMatchObject({ code: 'unavailable' }),
    ];
    await other.close();
    await Promise.all(rejected);
    // the registry the test keeps is untouched
    await ctx.registry.appendEvent('p1', line('after'));
    expect((await ctx.registry.eventsAfter('p1', 0)).map((e) => e.sequence)).toEqual([1]);
  });

  it('keeps the other waiters working when some are aborted', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    const controller = new AbortController();
    const aborted = ctx.registry.waitEventAfter('p1', 'producer.line', 0, {
      signal: controller.signal,
    });
    const kept = ctx.registry.waitEventAfter('p1', 'producer.line', 0);
    const keptAwait = ctx.registry.awaitProcess('p1');
    await until(() => ctx.registry.diagnostics().openWaiters === 3);
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'aborted' });
    await ctx.registry.appendEvent('p1', line('still heard'));
    expect((await kept).payload).toEqual({ text: 'still heard' });
    await ctx.registry.completeProcess('p1', { type: 'success', value: 'ok' });
    expect(await keptAwait).toEqual({ type: 'success', value: 'ok' });
    expect(await settled(ctx.registry)).toBe(0);
  });

  const remote = ctx.backend.openRegistry !== undefined;
  if (!remote) {
    it('yields nothing from events$ of a process not registered yet, then its events once it is', async () => {
      const received = firstValueFrom(ctx.registry.events$('later', 0).pipe(take(2), toArray()));
      await ctx.registry.registerProcess(registration('other'));
      await ctx.registry.appendEvent('other', line('not mine'));
      await ctx.registry.registerProcess(registration('later'));
      await ctx.registry.appendEvent('later', line('one'));
      await ctx.registry.appendEvent('later', line('two'));
      const events = await received;
      expect(events.map((e) => [e.processId, e.sequence])).toEqual([
        ['later', 1],
        ['later', 2],
      ]);
      expect(await settled(ctx.registry)).toBe(0);
    });
  } else {
    // the service checks that the caller may see a process before it streams its events
    // (SPEC, remote registry): an id it does not know yet is `not_found`, nothing written
    it('fails events$ of a process the service does not know yet with not_found', async () => {
      const before = (await ctx.log()).length;
      await expect(firstValueFrom(ctx.registry.events$('later', 0))).rejects.toMatchObject({
        code: 'not_found',
      });
      expect((await ctx.log()).length).toBe(before);
    });
  }

  it('rejects at once on an already-aborted signal', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    const controller = new AbortController();
    controller.abort();
    await expect(
      ctx.registry.waitEventAfter('p1', 'producer.line', 0, { signal: controller.signal }),
    ).rejects.toMatchObject({ code: 'aborted' });
    await expect(
      ctx.registry.awaitProcess('p1', { signal: controller.signal }),
    ).rejects.toMatchObject({
      code: 'aborted',
    });
    expect(await settled(ctx.registry)).toBe(0);
  });

  it('rejects with aborted when the signal fires while waiting, leaking nothing', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    const leaked = await outstandingTimers(async () => {
      const controller = new AbortController();
      const waiting = ctx.registry.waitEventAfter('p1', 'producer.line', 0, {
        signal: controller.signal,
        timeoutMs: 60_000,
      });
      const awaiting = ctx.registry.awaitProcess('p1', { signal: controller.signal });
      // both subscribe once the process is found (after a catch-up read of the store)
      await until(() => ctx.registry.diagnostics().openWaiters === 2);
      // in process, one shared timer and one listener on the signal serve both waiters (a
      // remote registry holds two requests; the timers are the service's)
      const inProcess = ctx.backend.openRegistry === undefined;
      expect(ctx.registry.diagnostics()).toMatchObject({
        feedSubscribers: 2,
        processListeners: 2,
        ...(inProcess ? { timeouts: 1, nativeTimers: 1, abortSignals: 1 } : {}),
      });
      controller.abort();
      await expect(waiting).rejects.toMatchObject({ code: 'aborted' });
      await expect(awaiting).rejects.toMatchObject({ code: 'aborted' });
      expect(await settled(ctx.registry)).toBe(0);
      expect(ctx.registry.diagnostics()).toMatchObject({
        openWaiters: 0,
        timeouts: 0,
        nativeTimers: 0,
        abortSignals: 0,
      });
    });
    expect(leaked).toBe(0);
  });

  it('rejects with timeout after timeoutMs, leaking nothing', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    const leaked = await outstandingTimers(async () => {
      const started = Date.now();
      await expect(
        ctx.registry.waitEventAfter('p1', 'producer.line', 0, { timeoutMs: 30 }),
      ).rejects.toMatchObject({ code: 'timeout' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(25);
      await expect(ctx.registry.awaitProcess('p1', { timeoutMs: 1 })).rejects.toMatchObject({
        code: 'timeout',
      });
      expect(await settled(ctx.registry)).toBe(0);
    });
    expect(leaked).toBe(0);
  });

  it('clears the timeout timer when the waiter resolves first', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    const leaked = await outstandingTimers(async () => {
      const waiting = ctx.registry.waitEventAfter('p1', 'producer.line', 0, { timeoutMs: 60_000 });
      await new Promise((r) => setImmediate(r));
      await ctx.registry.appendEvent('p1', line('now'));
      await waiting;
      expect(await settled(ctx.registry)).toBe(0);
    });
    expect(leaked).toBe(0);
  });

  it('resolves awaitProcess at once when terminal, and later when it ends', async () => {
    await ctx.registry.registerProcess(registration('done'));
    await ctx.registry.completeProcess('done', { type: 'success', value: 'v' });
    expect(await ctx.registry.awaitProcess('done')).toEqual({ type: 'success', value: 'v' });
    await ctx.registry.registerProcess(registration('later'));
    const awaiting = ctx.registry.awaitProcess('later');
    await ctx.registry.appendEvent('later', line('progress'));
    const output = { type: 'cancelled' as const, message: 'stop' };
    await ctx.registry.completeProcess('later', output);
    expect(await awaiting).toEqual(output);
    expect(await settled(ctx.registry)).toBe(0);
  });

  it('streams events$ as catch-up then live, each event once', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    await ctx.registry.appendEvent('p1', line('1'));
    await ctx.registry.appendEvent('p1', line('2'));
    const received = firstValueFrom(ctx.registry.events$('p1', 1).pipe(take(3), toArray()));
    await ctx.registry.appendEvent('p1', line('3'));
    await ctx.registry.appendEvent('p1', line('4'));
    expect((await received).map((e) => e.sequence)).toEqual([2, 3, 4]);
    expect(await settled(ctx.registry)).toBe(0);
  });

  it('completes events$ when its registry closes', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    await ctx.registry.appendEvent('p1', line('1'));
    const other = await ctx.open();
    const seen: number[] = [];
    const completed = new Promise<void>((resolve, reject) => {
      other.events$('p1').subscribe({
        next: (e) => seen.push(e.sequence),
        error: reject,
        complete: resolve,
      });
    });
    await until(() => seen.length === 1);
    await other.close();
    await completed;
    expect(seen).toEqual([1]);
  });

  // In process: over HTTP a waiter is a request of its own, answered on its own schedule.
  it.skipIf(ctx.backend.openRegistry !== undefined)(
    'has settled this instance’s waiters by the time the command that satisfied them resolves',
    async () => {
      await ctx.registry.registerProcess(registration('p1'));
      const waiting = ctx.registry.waitEventAfter('p1', 'producer.line', 0);
      const awaiting = ctx.registry.awaitProcess('p1');
      await until(() => ctx.registry.diagnostics().openWaiters === 2);
      await ctx.registry.appendEvent('p1', line('seen'));
      // no turn of the event loop in between: the append's own dispatch settled the waiter
      expect(ctx.registry.diagnostics().openWaiters).toBe(1);
      await ctx.registry.completeProcess('p1', { type: 'success', value: null });
      expect(ctx.registry.diagnostics().openWaiters).toBe(0);
      expect((await waiting).payload).toEqual({ text: 'seen' });
      expect(await awaiting).toEqual({ type: 'success', value: null });
    },
  );

  it('resolves a waiter on one instance from an append through another', async () => {
    const other = await ctx.open();
    await ctx.registry.registerProcess(registration('p1'));
    await other.getProcess('p1');
    const waiting = other.waitEventAfter('p1', 'producer.line', 0, { timeoutMs: 10_000 });
    const awaiting = other.awaitProcess('p1', { timeoutMs: 10_000 });
    await ctx.registry.appendEvent('p1', line('cross'));
    expect((await waiting).payload).toEqual({ text: 'cross' });
    await ctx.registry.completeProcess('p1', { type: 'success', value: 1 });
    expect(await awaiting).toEqual({ type: 'success', value: 1 });
  });
};
