import { describe, expect, it } from 'vitest';
import { DeadlineQueue, type Expiring } from '../src/queries/deadlines.ts';

describe('DeadlineQueue (one native timer for every waiter timeout)', () => {
  it('expires live entries in deadline order, never removed ones, and holds no timer after', async () => {
    const queue = new DeadlineQueue();
    const expired: Expiring[] = [];
    let pending = 0;
    let allDone: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      allDone = resolve;
    });
    const items = Array.from({ length: 2_000 }, (_, i) => {
      const item: Expiring & { removed: boolean } = {
        deadline: 0,
        queued: false,
        removed: false,
        expire() {
          expired.push(item);
          if (--pending === 0) allDone();
        },
      };
      queue.add(item, 1 + ((i * 7919) % 25));
      return item;
    });
    expect(queue.counts).toMatchObject({ timeouts: 2_000, nativeTimers: 1 });
    // remove three in four (enough to make the heap rebuild itself), then wait for the rest
    items.forEach((item, i) => {
      if (i % 4 === 0) return;
      item.removed = true;
      queue.remove(item);
      queue.remove(item);
    });
    pending = 500;
    expect(queue.counts.timeouts).toBe(500);
    expect(queue.counts.heapSlots).toBeLessThan(2_000);
    await done;
    expect(expired).toHaveLength(500);
    expect(expired.some((item) => (item as { removed?: boolean }).removed)).toBe(false);
    for (let i = 1; i < expired.length; i++) {
      expect(expired[i]!.deadline).toBeGreaterThanOrEqual(expired[i - 1]!.deadline);
    }
    expect(queue.counts).toEqual({ timeouts: 0, heapSlots: 0, nativeTimers: 0 });
  });

  it('drops its timer as soon as nothing is queued', () => {
    const queue = new DeadlineQueue();
    const item: Expiring = { deadline: 0, queued: false, expire: () => expect.fail('expired') };
    queue.add(item, 60_000);
    expect(queue.counts.nativeTimers).toBe(1);
    queue.remove(item);
    expect(queue.counts).toEqual({ timeouts: 0, heapSlots: 0, nativeTimers: 0 });
  });
});
