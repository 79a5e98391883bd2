import type { EventStore } from '../../src/store/port.ts';

/**
 * `store` itself (its models, journal, digests and every other member), except that each
 * append (`appendToStream`, `appendToStreams`) runs through `around`, which may wait before
 * it, or act on its outcome.
 */
export const aroundAppends = (
  store: EventStore,
  around: (append: () => Promise<unknown>) => Promise<unknown>,
): EventStore =>
  new Proxy(store, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      const method = (value as (...args: unknown[]) => Promise<unknown>).bind(target);
      if (key !== 'appendToStream' && key !== 'appendToStreams') return method;
      return (...args: unknown[]) => around(() => method(...args));
    },
  });

/**
 * `store`, except that its next append first awaits `before`: another instance's write lands
 * between a command's decision and its append.
 */
export const beforeNextAppend = (store: EventStore, before: () => Promise<void>): EventStore => {
  let pending: (() => Promise<void>) | undefined = before;
  return aroundAppends(store, async (append) => {
    const hook = pending;
    pending = undefined;
    await hook?.();
    return append();
  });
};

/**
 * `store`, except that once `together(count)` is called the next `count` appends wait for
 * one another and then all go in one turn of the event loop: a store that group-commits
 * writes them in one transaction.
 */
export const gathering = (
  store: EventStore,
): { store: EventStore; together: (count: number) => void } => {
  let waiting: { count: number; held: (() => void)[] } | undefined;
  const gathered = aroundAppends(store, async (append) => {
    const group = waiting;
    if (group) {
      await new Promise<void>((go) => {
        group.held.push(go);
        if (group.held.length < group.count) return;
        waiting = undefined;
        for (const release of group.held) release();
      });
    }
    return append();
  });
  return {
    store: gathered,
    together: (count) => {
      waiting = { count, held: [] };
    },
  };
};
