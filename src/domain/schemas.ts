import { z } from 'zod';
import { type JsonObject, JsonObjectSchema, JsonSchema } from './json.ts';

/**
 * Every shape of docs/SPEC.md, declared once as a zod schema; the TypeScript types are
 * inferred from these. Public inputs are parsed with them at the edge (see validation.ts).
 * One file on purpose (~330 lines): the contract's shapes reference each other, and a
 * reader of SPEC.md finds each one here under the same name.
 */

/** Longest id or name the registry accepts; longer ones are `invalid`, not stored. */
export const MAX_ID_LENGTH = 512;

export const IdSchema = z
  .string()
  .max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`)
  .refine((s) => s.trim().length > 0, 'must not be blank');

export const ScopeSchema = z.strictObject({
  sessionId: IdSchema,
  agentFrameId: z.string().max(MAX_ID_LENGTH).optional(),
});
export type Scope = z.infer<typeof ScopeSchema>;

export type Selector =
  | { kind: 'payload' }
  | { kind: 'pointer'; pointer: string }
  | { kind: 'const'; value: z.infer<typeof JsonSchema> }
  | { kind: 'template'; template: string; fields: Record<string, Selector> }
  | { kind: 'present'; pointer: string };

const PointerSchema = z
  .string()
  .refine((p) => p === '' || p.startsWith('/'), 'a JSON pointer is empty or starts with "/"');

export const SelectorSchema: z.ZodType<Selector> = z.lazy(() =>
  z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('payload') }),
    z.strictObject({ kind: z.literal('pointer'), pointer: PointerSchema }),
    z.strictObject({ kind: z.literal('const'), value: JsonSchema }),
    z.strictObject({
      kind: z.literal('template'),
      template: z.string(),
      fields: z.record(z.string(), SelectorSchema),
    }),
    z.strictObject({ kind: z.literal('present'), pointer: PointerSchema }),
  ]),
);

export const DedupeKeySchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('eventIdentity') }),
  z.strictObject({ kind: z.literal('selector'), selector: SelectorSchema }),
  z.strictObject({ kind: z.literal('const'), value: z.string() }),
]);
export type DedupeKey = z.infer<typeof DedupeKeySchema>;

export const terminalStates = ['completed', 'failed', 'cancelled'] as const;
export const TerminalStateSchema = z.enum(terminalStates);
export type TerminalState = z.infer<typeof TerminalStateSchema>;

export const EventSemanticsSchema = z.strictObject({
  terminal: z
    .strictObject({ state: TerminalStateSchema, awaitOutput: SelectorSchema.optional() })
    .optional(),
  wake: z
    .strictObject({
      when: SelectorSchema.optional(),
      input: SelectorSchema,
      dedupeKey: DedupeKeySchema.optional(),
    })
    .optional(),
});
export type EventSemantics = z.infer<typeof EventSemanticsSchema>;

/** A JSON Schema document: `true`/`{}` accept anything. */
export const PayloadSchemaSchema = z.union([z.boolean(), JsonObjectSchema]);

export const ProcessEventTypeSchema = z.strictObject({
  name: IdSchema,
  payloadSchema: PayloadSchemaSchema,
  semantics: EventSemanticsSchema.optional(),
});
export type ProcessEventType = z.infer<typeof ProcessEventTypeSchema>;

export const ProvenanceSchema = z.strictObject({
  ownerScope: ScopeSchema,
  hostProfileId: IdSchema,
  causedBy: JsonSchema.optional(),
});
export type Provenance = z.infer<typeof ProvenanceSchema>;

/** `{ type: string, ...json }`: the process's input, any JSON object with a string `type`. */
export type ProcessInput = JsonObject & { type: string };
export const ProcessInputSchema: z.ZodType<ProcessInput> = JsonObjectSchema.refine(
  (input): input is ProcessInput => typeof input.type === 'string',
  { message: 'input.type must be a string', path: ['type'] },
);

export const ProcessRegistrationSchema = z.strictObject({
  id: IdSchema,
  input: ProcessInputSchema,
  eventTypes: z.array(ProcessEventTypeSchema).optional(),
  provenance: ProvenanceSchema.optional(),
});
export type ProcessRegistration = z.input<typeof ProcessRegistrationSchema>;

export const ExternalRefSchema = z.strictObject({
  backend: IdSchema,
  id: IdSchema,
  metadata: JsonSchema.optional(),
});
export type ExternalRef = z.infer<typeof ExternalRefSchema>;

export const ControlSchema = JsonSchema.optional();

export const ProcessAwaitOutputSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('success'), value: JsonSchema, control: ControlSchema }),
  z.strictObject({
    type: z.literal('failure'),
    class: z.string(),
    code: z.string(),
    message: z.string(),
    raw: JsonSchema.optional(),
    control: ControlSchema,
  }),
  z.strictObject({
    type: z.literal('cancelled'),
    message: z.string(),
    raw: JsonSchema.optional(),
    control: ControlSchema,
  }),
]);
export type ProcessAwaitOutput = z.infer<typeof ProcessAwaitOutputSchema>;

export const ProcessStatusSchema = z.union([
  z.strictObject({ state: z.literal('running') }),
  z.strictObject({ state: TerminalStateSchema, awaitOutput: ProcessAwaitOutputSchema }),
]);
export type ProcessStatus = z.infer<typeof ProcessStatusSchema>;

export const ProcessRecordSchema = z.strictObject({
  id: z.string(),
  registrationHash: z.string(),
  input: ProcessInputSchema,
  eventTypes: z.array(ProcessEventTypeSchema),
  provenance: ProvenanceSchema,
  createdAtMs: z.number(),
  updatedAtMs: z.number(),
  externalRef: ExternalRefSchema.optional(),
  status: ProcessStatusSchema,
});
export type ProcessRecord = z.infer<typeof ProcessRecordSchema>;

export const ProcessEventSchema = z.strictObject({
  processId: z.string(),
  sequence: z.number(),
  eventType: z.string(),
  payload: JsonSchema,
  occurredAtMs: z.number(),
  invocation: z.strictObject({
    scope: z.string(),
    subject: z.strictObject({
      kind: z.literal('processEvent'),
      processId: z.string(),
      sequence: z.number(),
      eventType: z.string(),
    }),
    causedBy: z.strictObject({ kind: z.literal('process'), processId: z.string() }),
    replay: z.strictObject({ key: z.string() }).optional(),
  }),
  semantics: z.strictObject({
    terminal: z
      .strictObject({ state: TerminalStateSchema, awaitOutput: ProcessAwaitOutputSchema })
      .optional(),
    wake: z.strictObject({ input: z.string(), dedupeKey: z.string() }).optional(),
  }),
});
export type ProcessEvent = z.infer<typeof ProcessEventSchema>;

/** Largest serialized payload `appendEvent` accepts (bytes of its JSON). */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

/** JSON size of a payload in bytes: what the payload limits count. */
export const payloadBytes = (payload: unknown): number =>
  Buffer.byteLength(JSON.stringify(payload));

export const AppendRequestSchema = z
  .strictObject({
    eventType: IdSchema,
    payload: JsonSchema,
    replayKey: z.string().max(MAX_ID_LENGTH).optional(),
    wakeTargetScope: ScopeSchema.optional(),
  })
  .superRefine((request, ctx) => {
    const bytes = payloadBytes(request.payload);
    if (bytes > MAX_PAYLOAD_BYTES) {
      ctx.addIssue({
        code: 'custom',
        path: ['payload'],
        message: `is ${bytes} bytes, over the ${MAX_PAYLOAD_BYTES}-byte limit; store large data elsewhere and append a reference`,
      });
    }
  });
export type AppendRequest = z.infer<typeof AppendRequestSchema>;

/** One `appendEvents` batch is one write: at most this many events and bytes of payload. */
export const MAX_BATCH_EVENTS = 1_000;
export const MAX_BATCH_BYTES = 4 * MAX_PAYLOAD_BYTES;

export const AppendBatchSchema = z
  .array(AppendRequestSchema)
  .max(MAX_BATCH_EVENTS)
  .superRefine((batch, ctx) => {
    let bytes = 0;
    for (const request of batch) bytes += payloadBytes(request.payload);
    if (bytes > MAX_BATCH_BYTES) {
      ctx.addIssue({
        code: 'custom',
        message: `the batch carries ${bytes} bytes of payload, over the ${MAX_BATCH_BYTES}-byte limit; split it`,
      });
    }
  });

export const HandleDescriptorSchema = z.strictObject({
  kind: z.string().max(MAX_ID_LENGTH).optional(),
  label: z.string().max(4096).optional(),
});
export type HandleDescriptor = z.infer<typeof HandleDescriptorSchema>;

export const ProcessHandleGrantSchema = z.strictObject({
  sessionId: z.string(),
  agentFrameId: z.string().optional(),
  scopeId: z.string(),
  processId: z.string(),
  descriptor: HandleDescriptorSchema,
  grantedAtMs: z.number(),
});
export type ProcessHandleGrant = z.infer<typeof ProcessHandleGrantSchema>;

export const WakeDeliverySchema = z.strictObject({
  wakeId: z.string(),
  targetSessionId: z.string(),
  targetScopeId: z.string(),
  processId: z.string(),
  sequence: z.number(),
  eventType: z.string(),
  eventInvocation: ProcessEventSchema.shape.invocation,
  processCausedBy: JsonSchema.optional(),
  dedupeKey: z.string(),
  input: z.string(),
  createdAtMs: z.number(),
});
export type WakeDelivery = z.infer<typeof WakeDeliverySchema>;

export const ProcessLeaseSchema = z.strictObject({
  schemaVersion: z.literal(1),
  processId: IdSchema,
  ownerId: IdSchema,
  leaseToken: IdSchema,
  fencingToken: z.number().int().nonnegative(),
  claimedAtMs: z.number(),
  expiresAtMs: z.number(),
});
export type ProcessLease = z.infer<typeof ProcessLeaseSchema>;

export const LeaseCompletionSchema = z.strictObject({
  processId: IdSchema,
  leaseToken: IdSchema,
});
export type LeaseCompletion = z.infer<typeof LeaseCompletionSchema>;

export const SessionDeleteReportSchema = z.strictObject({
  sessionId: z.string(),
  revokedHandleCount: z.number(),
  /**
   * Always 0, kept for the lash report shape: procreg stores no per-session wake state to
   * delete. A wake is part of its process event (materialized for the target scope when
   * delivered) and is acked per process (`ackWake`), so deleting a session removes grants only.
   */
  deletedWakeCount: z.number(),
  cancelProcessIds: z.array(z.string()),
  preservedProcessIds: z.array(z.string()),
});
export type SessionDeleteReport = z.infer<typeof SessionDeleteReportSchema>;

export const SequenceSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** Lease TTLs up to ten years; longer is almost certainly a unit mistake. */
export const TtlSchema = z
  .number()
  .int()
  .nonnegative()
  .max(10 * 365 * 24 * 3600 * 1000);

export const WaitOptionsSchema = z
  .strictObject({
    signal: z.instanceof(AbortSignal).optional(),
    timeoutMs: z
      .number()
      .int()
      .nonnegative()
      .max(2 ** 31 - 1)
      .optional(),
  })
  .optional();
export type WaitOptions = z.infer<typeof WaitOptionsSchema>;

/** How many events `recentEvents` returns at most per call (a page, not the stream). */
export const MAX_RECENT_EVENTS = 1_000;
export const RecentLimitSchema = z.number().int().min(1).max(MAX_RECENT_EVENTS);

/** `countEvents` options: only events of one type, only sequences up to one. */
export const CountEventsOptionsSchema = z
  .strictObject({
    eventType: IdSchema.optional(),
    upToSequence: SequenceSchema.optional(),
  })
  .optional();
export type CountEventsOptions = z.infer<typeof CountEventsOptionsSchema>;

/** `reclaimProcessLease` options: take over the lease whose token the caller saw held by a dead owner. */
export const LeaseReclaimSchema = z.strictObject({
  owner: IdSchema,
  observedLeaseToken: IdSchema,
  ttlMs: TtlSchema,
});
export type LeaseReclaim = z.infer<typeof LeaseReclaimSchema>;

export const AuditContextSchema = z.strictObject({
  actor: IdSchema.optional(),
  correlationId: IdSchema.optional(),
  causationId: IdSchema.optional(),
});
export type AuditContext = z.infer<typeof AuditContextSchema>;
