import { map } from 'rxjs';
import type { EventStore, StoredEvent, StreamWrite } from '../../src/store/port.ts';

/**
 * Gives a test its own corner of a shared store (a real EventStoreDB server that outlives
 * the test run): stream `process-X` is stored as `process-<namespace>-X`, and the global log
 * is read through a prefix that only this namespace's streams carry. The registry derives
 * process ids from event data, never from stream names, so it cannot tell the difference.
 */
export const namespacedStore = (store: EventStore, namespace: string): EventStore => {
  const inner = (stream: string) => stream.replace(/^process-/, `process-${namespace}-`);
  const outer = (event: StoredEvent): StoredEvent => ({
    ...event,
    stream: event.stream.replace(`process-${namespace}-`, 'process-'),
  });
  const prefix = (p: string | undefined) => inner(p ?? 'process-');
  const innerWrite = (w: StreamWrite): StreamWrite => ({ ...w, stream: inner(w.stream) });
  return {
    durabilityTier: store.durabilityTier,
    appendToStream: (stream, events, options) =>
      store.appendToStream(inner(stream), events, options),
    appendToStreams: (writes) => store.appendToStreams(writes.map(innerWrite)),
    readStream: async (stream, options) =>
      (await store.readStream(inner(stream), options)).map(outer),
    streamRevision: (stream) => store.streamRevision(inner(stream)),
    async *readAll(options = {}) {
      for await (const event of store.readAll({
        ...options,
        streamPrefix: prefix(options.streamPrefix),
      })) {
        yield outer(event);
      }
    },
    subscribeToAll: (options = {}) =>
      store
        .subscribeToAll({ ...options, streamPrefix: prefix(options.streamPrefix) })
        .pipe(map(outer)),
    close: () => store.close(),
  };
};
