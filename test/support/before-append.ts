import type { EventStore } from '../../src/store/port.ts';

/**
 * `store` itself (its models, journal and every other member), except that its next append
 * first awaits `before`: another instance's write lands between a command's decision and its
 * append.
 */
export const beforeNextAppend = (store: EventStore, before: () => Promise<void>): EventStore => {
  let pending: (() => Promise<void>) | undefined = before;
  return new Proxy(store, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      const method = (value as (...args: unknown[]) => unknown).bind(target);
      if (key !== 'appendToStream' && key !== 'appendToStreams') return method;
      return async (...args: unknown[]) => {
        const hook = pending;
        pending = undefined;
        await hook?.();
        return method(...args);
      };
    },
  });
};
