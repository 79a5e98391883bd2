import { RegistryError } from './errors.ts';
import {
  type DomainEvent,
  DomainEventSchema,
  EVENT_VERSION,
  type EventMetadata,
  EventMetadataSchema,
} from './events.ts';
import type { Json } from './json.ts';
import type { NewEvent, Position, StoredEvent, StreamRevision } from './stored-event.ts';
import { unreadableEvent } from './unreadable.ts';

/** A domain event as read back from the store, with where and when it was recorded. */
export interface RecordedDomainEvent {
  event: DomainEvent;
  metadata: EventMetadata;
  stream: string;
  revision: StreamRevision;
  position: Position;
  eventId: string;
}

/** An event this instance is appending, as it holds it before the store assigns a position. */
export type OwnEvent = Pick<RecordedDomainEvent, 'event' | 'metadata' | 'eventId'>;

/**
 * The one place stored events become domain events. Data and metadata are parsed with zod,
 * so a corrupted or foreign event fails loudly here instead of poisoning a read model.
 * Upcasting older `eventVersion`s belongs here too (there is only version 1 so far).
 */
export const decodeEvent = (stored: StoredEvent): RecordedDomainEvent => {
  const metadata = EventMetadataSchema.safeParse(stored.metadata);
  const event = DomainEventSchema.safeParse({ type: stored.type, data: stored.data });
  if (!metadata.success || !event.success) {
    throw new RegistryError(
      'invalid',
      `stored event ${stored.id} at ${stored.stream}@${stored.revision} is not a procreg domain event (${
        (metadata.error ?? event.error)?.message ?? 'unknown shape'
      }); the store holds foreign data: point procreg at its own store`,
    );
  }
  if (metadata.data.eventVersion > EVENT_VERSION) {
    throw new RegistryError(
      'invalid',
      `stored event ${stored.id} has eventVersion ${metadata.data.eventVersion}, newer than this procreg understands (${EVENT_VERSION}); upgrade procreg`,
    );
  }
  return {
    event: event.data,
    metadata: metadata.data,
    stream: stored.stream,
    revision: stored.revision,
    position: stored.position,
    eventId: stored.id,
  };
};

/**
 * A stored event read back by the registry (the models, commands, history, export): one
 * it cannot read is not the caller's fault, so it fails `unavailable`, naming the event and
 * the fix (see unreadable.ts), where `decodeEvent` alone says `invalid` (import lines).
 */
export const readStoredEvent = (stored: StoredEvent): RecordedDomainEvent => {
  try {
    return decodeEvent(stored);
  } catch (error) {
    throw unreadableEvent(stored, error);
  }
};

export const encodeEvent = (
  id: string,
  event: DomainEvent,
  metadata: EventMetadata,
  text?: NewEvent['text'],
): NewEvent => ({
  id,
  type: event.type,
  // zod-inferred types allow `undefined` members; the store drops them (JSON), so the cast is
  // sound for every value the domain builds.
  data: event.data as Json,
  metadata,
  ...(text && { text }),
});
