import { type OwnEvent, type RecordedDomainEvent, readStoredEvent } from '../domain/codec.ts';
import { deepFreeze } from '../domain/freeze.ts';
import type { StoredEvent } from '../store/port.ts';

/**
 * Turns stored events into domain events for the projections and the feed. Events this
 * instance is appending are announced first, so reading them skips decoding what it
 * already holds: purely a shortcut, an announced event is the same fact as its decoding.
 * Every event it returns is frozen (it reaches read models and callers as it is), unless
 * the caller says it only feeds tables that copy it.
 */
export class EventReader {
  /** by event id; bounded by the appends in flight */
  private readonly own = new Map<string, OwnEvent>();

  /** Returns the function that forgets the announcement (after the append, whatever its outcome). */
  announce(events: readonly OwnEvent[]): () => void {
    for (const own of events) this.own.set(own.eventId, own);
    return () => {
      for (const own of events) this.own.delete(own.eventId);
    };
  }

  /**
   * The domain event, or a `unavailable` error naming the event and the fix. `copied`:
   * for tables that store copies of their rows (SQLite), so the event reaches no caller
   * and a decoded one is left unfrozen (an announced one is frozen all the same: the
   * handler holds it too).
   */
  read(stored: StoredEvent, copied = false): RecordedDomainEvent {
    const own = this.own.get(stored.id);
    if (own) {
      deepFreeze(own.event);
      return {
        ...own,
        stream: stored.stream,
        revision: stored.revision,
        position: stored.position,
      };
    }
    const recorded = readStoredEvent(stored);
    if (!copied) deepFreeze(recorded.event);
    return recorded;
  }
}
