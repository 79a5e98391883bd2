import { z } from 'zod';
import { domainEventTypeNames } from './event-types.ts';
import {
  ExternalRefSchema,
  HandleDescriptorSchema,
  ProcessEventSchema,
  ProcessLeaseSchema,
  ProcessRecordSchema,
  ScopeSchema,
} from './schemas.ts';

/**
 * The domain events: past-tense facts, the only thing the registry stores. Every read model
 * is a fold of these. All of a process's events live on its stream `process-<processId>`,
 * so one expected revision guards every invariant of that process.
 *
 * Versioning: each stored event carries `eventVersion` in its metadata. A schema change
 * adds a version and an upcaster in `decodeEvent` (codec.ts); old events keep loading.
 */
export const EVENT_VERSION = 1;

export const STREAM_PREFIX = 'process-';
export const streamOf = (processId: string): string => `${STREAM_PREFIX}${processId}`;

const ProcessRegistered = z.strictObject({
  type: z.literal('ProcessRegistered'),
  data: z.strictObject({ record: ProcessRecordSchema }),
});

const ExternalRefSet = z.strictObject({
  type: z.literal('ExternalRefSet'),
  data: z.strictObject({ processId: z.string(), externalRef: ExternalRefSchema, atMs: z.number() }),
});

const HandleGranted = z.strictObject({
  type: z.literal('HandleGranted'),
  data: z.strictObject({
    processId: z.string(),
    scope: ScopeSchema,
    descriptor: HandleDescriptorSchema,
    atMs: z.number(),
  }),
});

const HandleRevoked = z.strictObject({
  type: z.literal('HandleRevoked'),
  data: z.strictObject({
    processId: z.string(),
    scope: ScopeSchema,
    reason: z.enum(['revoked', 'session_deleted']),
    atMs: z.number(),
  }),
});

/** The grant keeps its descriptor; it moves from one scope to another in one fact. */
const HandleTransferred = z.strictObject({
  type: z.literal('HandleTransferred'),
  data: z.strictObject({
    processId: z.string(),
    from: ScopeSchema,
    to: ScopeSchema,
    descriptor: HandleDescriptorSchema,
    atMs: z.number(),
  }),
});

const ProcessEventAppended = z.strictObject({
  type: z.literal('ProcessEventAppended'),
  data: z.strictObject({
    event: ProcessEventSchema,
    /**
     * SHA-256 of canonical [eventType, payload], compared when the replay key is used
     * again; only events with a replay key carry it (nothing else is ever compared).
     */
    payloadHash: z.string().optional(),
    /** where the wake (if any) was delivered; kept so unacked wakes can be listed */
    wakeTargetScope: ScopeSchema.optional(),
  }),
});

const WakeAcked = z.strictObject({
  type: z.literal('WakeAcked'),
  data: z.strictObject({ processId: z.string(), sequence: z.number(), atMs: z.number() }),
});

const LeaseClaimed = z.strictObject({
  type: z.literal('LeaseClaimed'),
  data: z.strictObject({ lease: ProcessLeaseSchema }),
});

const LeaseRenewed = z.strictObject({
  type: z.literal('LeaseRenewed'),
  data: z.strictObject({
    processId: z.string(),
    leaseToken: z.string(),
    fencingToken: z.number(),
    expiresAtMs: z.number(),
    atMs: z.number(),
  }),
});

const LeaseReleased = z.strictObject({
  type: z.literal('LeaseReleased'),
  data: z.strictObject({
    processId: z.string(),
    leaseToken: z.string(),
    fencingToken: z.number(),
    atMs: z.number(),
  }),
});

export const DomainEventSchema = z.discriminatedUnion('type', [
  ProcessRegistered,
  ExternalRefSet,
  HandleGranted,
  HandleRevoked,
  HandleTransferred,
  ProcessEventAppended,
  WakeAcked,
  LeaseClaimed,
  LeaseRenewed,
  LeaseReleased,
]);
export type DomainEvent = z.infer<typeof DomainEventSchema>;
export type DomainEventType = DomainEvent['type'];
export type EventOf<T extends DomainEventType> = Extract<DomainEvent, { type: T }>;

export const domainEventTypes = domainEventTypeNames satisfies readonly DomainEventType[];

/**
 * Audit metadata on every stored event. Without a caller context the audit fields are
 * `null`: the log says explicitly that nobody was named, rather than inventing an actor.
 */
export const EventMetadataSchema = z.strictObject({
  eventVersion: z.number().int().positive(),
  /** the public method that caused the event, e.g. `appendEvent` */
  command: z.string(),
  /** one id per command invocation, shared by all events it wrote */
  commandId: z.string(),
  recordedAtMs: z.number(),
  actor: z.string().nullable(),
  correlationId: z.string().nullable(),
  causationId: z.string().nullable(),
  /**
   * SHA-256 of the event's canonical content and the previous event's in its stream
   * (integrity.ts); absent on events written before procreg chained them.
   */
  hash: z.string().optional(),
  prevHash: z.string().nullable().optional(),
});
export type EventMetadata = z.infer<typeof EventMetadataSchema>;

/** The processId a domain event belongs to (its stream is `process-<processId>`). */
export const processIdOf = (event: DomainEvent): string => {
  switch (event.type) {
    case 'ProcessRegistered':
      return event.data.record.id;
    case 'ProcessEventAppended':
      return event.data.event.processId;
    case 'LeaseClaimed':
      return event.data.lease.processId;
    default:
      return event.data.processId;
  }
};
