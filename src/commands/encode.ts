import { encodeEvent, type OwnEvent } from '../domain/codec.ts';
import {
  type DomainEvent,
  EVENT_VERSION,
  type EventMetadata,
  processIdOf,
  streamOf,
} from '../domain/events.ts';
import { deepFreeze } from '../domain/freeze.ts';
import type { ProcessState } from '../domain/process-state.ts';
import type { AuditContext } from '../domain/schemas.ts';
import type { StreamWrite } from '../store/port.ts';
import { eventIdFor } from './event-ids.ts';

/**
 * Encoding a decision for the store: the audit metadata every event of a command carries,
 * one write per touched stream with the expected revision the decision was made on, and
 * deterministic event ids (the same attempt re-sent is the same write: see event-ids.ts).
 */
export const metadataFor = (
  command: string,
  audit: AuditContext | undefined,
  commandId: string,
  now: number,
): EventMetadata => ({
  eventVersion: EVENT_VERSION,
  command,
  commandId,
  recordedAtMs: now,
  actor: audit?.actor ?? null,
  correlationId: audit?.correlationId ?? null,
  causationId: audit?.causationId ?? null,
});

/** A stream write with the domain events it encodes, for the cache to fold. */
export interface ProcessWrite extends StreamWrite {
  processId: string;
  domainEvents: DomainEvent[];
}

/** One write per touched stream, expecting the revision the decision was made on. */
export const writesFor = (
  events: readonly DomainEvent[],
  states: ReadonlyMap<string, ProcessState>,
  commandId: string,
  attempt: number,
  metadata: EventMetadata,
): ProcessWrite[] => {
  const byProcess = new Map<string, DomainEvent[]>();
  for (const event of events) {
    const processId = processIdOf(event);
    const list = byProcess.get(processId);
    if (list) list.push(event);
    else byProcess.set(processId, [event]);
  }
  return [...byProcess].map(([processId, domainEvents]) => {
    const revision = states.get(processId)?.revision ?? -1;
    const stream = streamOf(processId);
    return {
      processId,
      domainEvents,
      stream,
      expectedRevision: revision === -1 ? 'no_stream' : revision,
      events: domainEvents.map((event, index) =>
        encodeEvent(eventIdFor(commandId, attempt, stream, index), event, metadata),
      ),
    };
  });
};

/** The events as this instance holds them, announced before they are appended. */
export const ownEventsOf = (writes: readonly ProcessWrite[], metadata: EventMetadata): OwnEvent[] =>
  writes.flatMap((write) =>
    write.domainEvents.map((event, i) => ({
      // frozen: the same objects go to the read models and back to the caller
      event: deepFreeze(event),
      metadata,
      eventId: write.events[i]!.id,
    })),
  );
