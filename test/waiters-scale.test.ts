import { firstValueFrom, take, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openRegistry, type ProcessRegistry } from '../src/index.ts';
import { registration } from './conformance/fixtures.ts';

const N = 10_000;
const ids = Array.from({ length: N }, (_, i) => `proc-${i}`);
const line = (text: string) => ({ eventType: 'producer.line', payload: { text } });

/** Yields to the event loop until `condition` holds. */
const until = async (condition: () => boolean): Promise<void> => {
  while (!condition()) await new Promise((r) => setImmediate(r));
};

/** A promise's outcome as it stands, without waiting for it. */
const track = <T>(promise: Promise<T>) => {
  const state: { settled: boolean; value?: T; error?: { code?: string } } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: { code?: string }) => Object.assign(state, { settled: true, error }),
  );
  return state;
};

const nothingHeld = {
  feedSubscribers: 0,
  processListeners: 0,
  globalListeners: 0,
  processes: 0,
  openWaiters: 0,
  timeouts: 0,
  nativeTimers: 0,
  abortSignals: 0,
};

describe('waiters at scale (memory store)', () => {
  let registry: ProcessRegistry;
  beforeEach(async () => {
    registry = await openRegistry('memory:');
    for (const id of ids) await registry.registerProcess(registration(id));
  }, 60_000);
  afterEach(() => registry.close());

  it('resolves 10 000 awaitProcess waiters with their own outcome only; aborting half leaves the rest working and nothing held', async () => {
    const shared = new AbortController();
    const waiters = ids.map((id, i) =>
      track(
        registry.awaitProcess(id, {
          timeoutMs: 600_000,
          ...(i % 2 === 1 ? { signal: shared.signal } : {}),
        }),
      ),
    );
    await until(() => registry.diagnostics().openWaiters === N);
    expect(registry.diagnostics()).toMatchObject({
      feedSubscribers: N,
      processListeners: N,
      processes: N,
      timeouts: N,
      nativeTimers: 1,
      abortSignals: 1,
    });

    shared.abort();
    await until(() => waiters.filter((w) => w.settled).length === N / 2);
    waiters.forEach((w, i) => {
      expect(w.settled).toBe(i % 2 === 1);
      if (i % 2 === 1) expect(w.error?.code).toBe('aborted');
    });
    expect(registry.diagnostics()).toMatchObject({
      processListeners: N / 2,
      processes: N / 2,
      openWaiters: N / 2,
      timeouts: N / 2,
      nativeTimers: 1,
      abortSignals: 0,
    });

    // complete the even processes of the first half: exactly their waiters settle
    const firstHalf = ids.slice(0, N / 2).filter((_, i) => i % 2 === 0);
    for (const id of firstHalf) {
      await registry.appendEvent(id, line('progress'));
      await registry.completeProcess(id, { type: 'success', value: id });
    }
    waiters.forEach((w, i) => {
      if (i % 2 === 1) return;
      expect(w.settled).toBe(i < N / 2);
      if (i < N / 2) expect(w.value).toEqual({ type: 'success', value: ids[i] });
    });
    expect(registry.diagnostics().openWaiters).toBe(N / 4);

    // an aborted waiter's process ending changes nothing for anyone
    await registry.completeProcess(ids[1]!, { type: 'success', value: 'late' });
    expect(waiters[1]!.error?.code).toBe('aborted');

    for (const id of ids.slice(N / 2).filter((_, i) => i % 2 === 0)) {
      await registry.completeProcess(id, { type: 'failure', class: 'x', code: id, message: id });
    }
    await until(() => waiters.every((w) => w.settled));
    waiters.forEach((w, i) => {
      if (i % 2 === 1 || i < N / 2) return;
      expect(w.value).toEqual({ type: 'failure', class: 'x', code: ids[i], message: ids[i] });
    });
    expect(registry.diagnostics()).toMatchObject(nothingHeld);
  }, 60_000);

  it('aborts waiters with signals of their own individually, waitEventAfter and events$ alike', async () => {
    const count = 2_000;
    const controllers = ids.slice(0, count).map(() => new AbortController());
    const waiting = ids
      .slice(0, count)
      .map((id, i) =>
        track(registry.waitEventAfter(id, 'producer.line', 0, { signal: controllers[i]!.signal })),
      );
    const feeds = ids
      .slice(0, count)
      .map((id) => firstValueFrom(registry.events$(id).pipe(take(2), toArray())));
    await until(() => registry.diagnostics().openWaiters === count);
    expect(registry.diagnostics()).toMatchObject({
      processListeners: 2 * count,
      processes: count,
      abortSignals: count,
      timeouts: 0,
      nativeTimers: 0,
    });

    for (let i = 0; i < count; i += 2) controllers[i]!.abort();
    await until(() => waiting.filter((w) => w.settled).length === count / 2);
    expect(registry.diagnostics()).toMatchObject({
      processListeners: count + count / 2,
      openWaiters: count / 2,
      abortSignals: count / 2,
    });

    // appends in reverse order: each waiter and feed sees its own process's event
    for (let i = count - 1; i >= 0; i--) await registry.appendEvent(ids[i]!, line(ids[i]!));
    await until(() => waiting.every((w) => w.settled));
    waiting.forEach((w, i) => {
      if (i % 2 === 0) expect(w.error?.code).toBe('aborted');
      else expect(w.value).toMatchObject({ processId: ids[i], payload: { text: ids[i] } });
    });
    for (let i = 0; i < count; i++) await registry.appendEvent(ids[i]!, line(`${ids[i]}#2`));
    const seen = await Promise.all(feeds);
    seen.forEach((events, i) => {
      expect(events.map((e) => [e.processId, e.sequence])).toEqual([
        [ids[i], 1],
        [ids[i], 2],
      ]);
    });
    expect(registry.diagnostics()).toMatchObject(nothingHeld);
  }, 60_000);

  it('rejects every open waiter with unavailable on close, holding nothing after', async () => {
    const waiters = ids
      .slice(0, 1_000)
      .map((id) => track(registry.awaitProcess(id, { timeoutMs: 600_000 })));
    const applied = firstValueFrom(registry.applied$.pipe(toArray()));
    await until(() => registry.diagnostics().openWaiters === 1_000);
    expect(registry.diagnostics().globalListeners).toBe(1);
    await registry.close();
    await until(() => waiters.every((w) => w.settled));
    expect(waiters.every((w) => w.error?.code === 'unavailable')).toBe(true);
    expect(await applied).toEqual([]);
    expect(registry.diagnostics()).toMatchObject(nothingHeld);
  });
});
