import { encodeEvent, type OwnEvent } from '../domain/codec.ts';
import {
  type DomainEvent,
  EVENT_VERSION,
  type EventMetadata,
  processIdOf,
  streamOf,
} from '../domain/events.ts';
import { deepFreeze } from '../domain/freeze.ts';
import { hashedText } from '../domain/integrity.ts';
import type { ProcessState } from '../domain/process-state.ts';
import type { AuditContext } from '../domain/schemas.ts';
import type { StreamWrite } from '../store/port.ts';
import { eventIdFor } from './event-ids.ts';

/**
 * Encoding a decision for the store: the audit metadata every event of a command carries,
 * one write per touched stream with the expected revision the decision was made on, each
 * event hash-linked to the one before it in its stream, and deterministic event ids (the same attempt re-sent is the same write: see event-ids.ts).
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
  /** each event's metadata: the command's, chained (`hash`, `prevHash`) */
  metadata: EventMetadata[];
}

/**
 * The command's metadata for each event of a stream, hash-linked (domain/integrity.ts):
 * the first names the stream's last hash as `prevHash`, each next one the hash before it.
 * Each event's JSON is canonicalised once, for its hash and as the text stored.
 */
const chained = (
  events: readonly DomainEvent[],
  stream: string,
  state: ProcessState | undefined,
  metadata: EventMetadata,
): { metadata: EventMetadata; text: { data: string; metadata: string } }[] => {
  let revision = state?.revision ?? -1;
  let prevHash = revision === -1 ? null : (state?.lastHash ?? null);
  return events.map((event) => {
    revision += 1;
    const linked = sortedMetadata(metadata, prevHash);
    const {
      hash,
      data,
      metadata: text,
    } = hashedText({
      stream,
      revision,
      type: event.type,
      data: event.data,
      metadata: linked,
    });
    const withHash = sortedMetadata(metadata, prevHash, hash);
    prevHash = hash;
    return { metadata: withHash, text: { data, metadata: text } };
  });
};

/**
 * The command's metadata with `prevHash` and, once known, `hash`, members in canonical
 * (sorted) order, each a string, number or null: its canonical JSON is JSON.stringify's
 * (domain/canonical.ts). Before the hash is known its member is `undefined`, which both
 * leave out, so the same builder gives the hashed form and the stored one.
 */
const sortedMetadata = (
  metadata: EventMetadata,
  prevHash: string | null,
  hash?: string,
): EventMetadata => ({
  actor: metadata.actor,
  causationId: metadata.causationId,
  command: metadata.command,
  commandId: metadata.commandId,
  correlationId: metadata.correlationId,
  eventVersion: metadata.eventVersion,
  hash,
  prevHash,
  recordedAtMs: metadata.recordedAtMs,
});

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
    const state = states.get(processId);
    const revision = state?.revision ?? -1;
    const stream = streamOf(processId);
    const linked = chained(domainEvents, stream, state, metadata);
    return {
      processId,
      domainEvents,
      metadata: linked.map((link) => link.metadata),
      stream,
      expectedRevision: revision === -1 ? 'no_stream' : revision,
      events: domainEvents.map((event, index) =>
        encodeEvent(
          eventIdFor(commandId, attempt, stream, index),
          event,
          linked[index]!.metadata,
          linked[index]!.text,
        ),
      ),
    };
  });
};

/** The events as this instance holds them, announced before they are appended. */
export const ownEventsOf = (writes: readonly ProcessWrite[]): OwnEvent[] =>
  writes.flatMap((write) =>
    write.domainEvents.map((event, i) => ({
      // frozen: the same objects go to the read models and back to the caller
      event: deepFreeze(event),
      metadata: write.metadata[i]!,
      eventId: write.events[i]!.id,
    })),
  );
