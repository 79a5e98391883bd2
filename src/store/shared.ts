import type {
  AppendResult,
  EventStore,
  ExpectedRevision,
  ReadStreamOptions,
  StoredEvent,
  StreamRevision,
  StreamWrite,
} from './port.ts';

/**
 * What every adapter means the same way by (see port.ts), written once: the revision check,
 * answering an exact retry with the first append's result, a single-stream append, a
 * stream read over events in memory. Adapters import these, never each other's files.
 */

/** A single-stream append for stores whose real work is `appendToStreams`. */
export const appendOneVia = async (
  store: Pick<EventStore, 'appendToStreams'>,
  write: StreamWrite,
): Promise<AppendResult> => {
  const [result] = await store.appendToStreams([write]);
  return result!;
};

export const revisionMatches = (expected: ExpectedRevision, actual: StreamRevision): boolean =>
  expected === 'any' || (expected === 'no_stream' ? actual === -1 : expected === actual);

/**
 * A retried append (same event ids at the same expected revision) is answered with the
 * original result instead of storing the events twice.
 */
export const replayedAppend = (
  existing: readonly StoredEvent[],
  write: StreamWrite,
): AppendResult | undefined => {
  const first = write.events[0];
  if (
    !first ||
    (typeof write.expectedRevision !== 'number' && write.expectedRevision !== 'no_stream')
  )
    return undefined;
  const start = write.expectedRevision === 'no_stream' ? 0 : write.expectedRevision + 1;
  const same = write.events.every((event, i) => existing[start + i]?.id === event.id);
  if (!same) return undefined;
  const last = existing[start + write.events.length - 1]!;
  return { nextRevision: last.revision, position: last.position };
};

export const sliceStream = (
  events: readonly StoredEvent[],
  { fromRevision, maxCount, direction = 'forwards' }: ReadStreamOptions,
): StoredEvent[] => {
  if (direction === 'backwards') {
    const end = Math.min(fromRevision ?? events.length - 1, events.length - 1) + 1;
    const start = maxCount === undefined ? 0 : Math.max(0, end - maxCount);
    return events.slice(start, end).reverse();
  }
  const start = fromRevision ?? 0;
  return events.slice(start, maxCount === undefined ? undefined : start + maxCount);
};
