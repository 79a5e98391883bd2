import { RegistryError } from './errors.ts';
import { EVENT_VERSION } from './events.ts';
import type { StoredEvent } from './stored-event.ts';

/**
 * An event this release cannot read: an unknown type, a newer `eventVersion`, data that
 * fails its schema. The read models stop before it (skipping it would make every later
 * answer silently wrong) and everything that needs them fails `unavailable` with this
 * message until the event becomes readable: after an upgrade, or a repair of the row.
 * Its own class, so that nothing retries it as if the store were briefly away.
 */
export class UnreadableEventError extends RegistryError {}

export const unreadableEvent = (stored: StoredEvent, cause: unknown): UnreadableEventError => {
  const version = (stored.metadata as { eventVersion?: unknown } | null)?.eventVersion;
  const newer = typeof version === 'number' && version > EVENT_VERSION;
  const why = newer
    ? `it was written by a newer procreg (eventVersion ${version}; this one reads up to ${EVENT_VERSION}); upgrade procreg`
    : `${(cause as Error)?.message ?? String(cause)}; upgrade procreg if a newer release wrote it, or repair the stored row`;
  return new UnreadableEventError(
    'unavailable',
    `cannot read the event at position ${stored.position} (stream ${stored.stream}, revision ${stored.revision}, type ${stored.type}): ${why}. The read models stop before it and resume once it is readable`,
    { cause },
  );
};
