import { isRetentionStream, type RecordedPrune, readRetentionEvent } from '../domain/retention.ts';
import type { StoredEvent } from './port.ts';

/**
 * EventStoreDB keeps what a prune removed: a soft-deleted stream's events stay in `$all`
 * until a scavenge, and a stream written again continues the old revisions (the server
 * sets its `$tb`, truncate-before, to the first new one). procreg's port promises neither:
 * a removed stream is gone from the log, and a re-created one starts at revision 0. These
 * two maps translate.
 */

/**
 * `$all` side. Each prune record (the `procreg-retention` stream) is appended before the
 * streams it names are deleted, and after every event of theirs it archived: an event of a
 * named stream that comes before the last record naming it belongs to a pruned incarnation
 * (hidden), one after it to a later incarnation, whose revisions need rebasing by where
 * that incarnation starts (`incarnationBase`). Positioned by the records' own places in
 * this log, not by the positions they name, so an imported record (named positions of
 * another log) hides nothing it should not.
 */
export class PrunedStreams {
  /** each named stream: the position of the last record naming it */
  private readonly lastRecord = new Map<string, bigint>();
  /**
   * the records applied, by position: each applies once, in any order (readers at different
   * places in the log share one index, and a refresh may re-read what a reader met)
   */
  private readonly applied = new Set<bigint>();

  /** `onNamed`: a record names the stream (what was known of its incarnations is stale) */
  constructor(private readonly onNamed: (stream: string) => void = () => {}) {}

  add(prune: RecordedPrune): void {
    if (this.applied.has(prune.position)) return;
    this.applied.add(prune.position);
    for (const entry of prune.event.data.processes) {
      const known = this.lastRecord.get(entry.stream);
      if (known === undefined || known < prune.position) {
        this.lastRecord.set(entry.stream, prune.position);
      }
      this.onNamed(entry.stream);
    }
  }

  /**
   * What a `$all` reader does with the event: a record passing by is applied first (a feed
   * meets it before any event of the incarnation after it).
   */
  classify(event: StoredEvent): 'hidden' | 'rebase' | 'as-is' {
    if (isRetentionStream(event.stream)) this.add(readRetentionEvent(event));
    const at = this.lastRecord.get(event.stream);
    if (at === undefined) return 'as-is';
    return event.position < at ? 'hidden' : 'rebase';
  }
}

/**
 * The ESDB revision an event's incarnation starts at, from every `$tb` the stream's
 * metadata has held (each re-creation sets one at its first event; DeletedStream values
 * excluded): the greatest start at or below the event's revision (incarnations follow one
 * another in revision order), 0 for the first.
 */
export const incarnationBase = (starts: readonly number[], revision: number): number =>
  starts.reduce((base, start) => (start <= revision && start > base ? start : base), 0);

/** Streams whose first revision is not 0, remembered at most this many at a time. */
const MAX_REMEMBERED = 100_000;

/**
 * Stream side: each stream's first ESDB revision of its current incarnation (its `$tb`), as
 * this adapter last learnt it (a read from the start, an append expecting no stream, the
 * stream's metadata); `deleted`: soft-deleted and not written since. Bounded (oldest
 * forgotten first; a forgotten entry costs one metadata read). An entry goes stale only when
 * another instance prunes and re-creates the stream: an append with it expects the wrong
 * revision, the server refuses it and the entry is forgotten; a read from a revision is off
 * by the new incarnation's base until the next read from the start (the registry's state
 * cache checks the event it folded last, sees another one and reads from the start).
 */
export type StreamBase = number | 'deleted';

export class StreamBases {
  private readonly known = new Map<string, StreamBase>();

  get(stream: string): StreamBase | undefined {
    return this.known.get(stream);
  }

  set(stream: string, base: StreamBase): void {
    this.known.delete(stream);
    this.known.set(stream, base);
    if (this.known.size > MAX_REMEMBERED) {
      const oldest = this.known.keys().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
  }

  forget(stream: string): void {
    this.known.delete(stream);
  }
}

/** `$tb` from a stream's metadata: DeletedStream (long.MaxValue) marks a soft delete. */
export const baseFromTruncateBefore = (tb: unknown): StreamBase => {
  const value = typeof tb === 'bigint' ? Number(tb) : typeof tb === 'number' ? tb : 0;
  return value >= Number.MAX_SAFE_INTEGER ? 'deleted' : Math.max(0, Math.trunc(value));
};
