import { readStoredEvent } from '../domain/codec.ts';
import { RegistryError } from '../domain/errors.ts';
import { streamOf } from '../domain/events.ts';
import { toExportLine } from '../domain/export-line.ts';
import { type ReplayStep, replaySteps } from '../domain/replay.ts';
import type { EventStore, Position, StoredEvent } from '../store/port.ts';

const PAGE = 500;

/**
 * A process's stored events up to a log position (inclusive; all without one), in stream order, each decoded
 * on the way (an unreadable event fails `unavailable`, never skipped). None → `not_found`.
 */
const streamUpTo = async (
  store: EventStore,
  processId: string,
  upTo: Position | undefined,
  where: string,
): Promise<StoredEvent[]> => {
  const events: StoredEvent[] = [];
  for (let from = 0; ; from += PAGE) {
    const page = await store.readStream(streamOf(processId), {
      fromRevision: from,
      maxCount: PAGE,
    });
    for (const stored of page) {
      if (upTo !== undefined && stored.position > upTo) return done(events, processId, where);
      readStoredEvent(stored);
      events.push(stored);
    }
    if (page.length < PAGE) return done(events, processId, where);
  }
};

const done = (events: StoredEvent[], processId: string, where: string): StoredEvent[] => {
  if (events.length > 0) return events;
  throw new RegistryError(
    'not_found',
    `process \`${processId}\` did not exist ${where}; register it first or pick a later point`,
  );
};

/** The replay of a process up to a position: each event and the folded state after it. */
export const replayOf = async (
  store: EventStore,
  processId: string,
  upTo: Position | undefined,
  where: string,
): Promise<ReplayStep[]> =>
  replaySteps((await streamUpTo(store, processId, upTo, where)).map(readStoredEvent));

/**
 * A self-contained case: the process's events up to the position as export lines. A process
 * stream references no other stream (grants name scopes, provenance and payloads are data),
 * so these lines alone import into an empty store and fold to the same state.
 */
export const caseOf = async (
  store: EventStore,
  processId: string,
  upTo: Position | undefined,
  where: string,
): Promise<string[]> =>
  (await streamUpTo(store, processId, upTo, where)).map(
    (stored) => `${JSON.stringify(toExportLine(stored))}\n`,
  );
