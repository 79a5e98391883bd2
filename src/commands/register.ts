import type { z } from 'zod';
import { hashJson } from '../domain/canonical.ts';
import { RegistryError } from '../domain/errors.ts';
import { payloadCheckFor } from '../domain/payload-schema.ts';
import type { ProcessState } from '../domain/process-state.ts';
import type {
  ProcessEventType,
  ProcessRecord,
  ProcessRegistrationSchema,
  Provenance,
} from '../domain/schemas.ts';
import { normalizeScope } from '../domain/scope.ts';
import { type Decision, noop } from './decision.ts';

export type ParsedRegistration = z.output<typeof ProcessRegistrationSchema>;

const awaitOutputPointer = { kind: 'pointer', pointer: '/awaitOutput' } as const;

/** Added to every registration that does not declare them itself. */
export const coreEventTypes: readonly ProcessEventType[] = [
  { name: 'process.cancel_requested', payloadSchema: true },
  {
    name: 'process.completed',
    payloadSchema: true,
    semantics: { terminal: { state: 'completed', awaitOutput: awaitOutputPointer } },
  },
  {
    name: 'process.failed',
    payloadSchema: true,
    semantics: { terminal: { state: 'failed', awaitOutput: awaitOutputPointer } },
  },
  {
    name: 'process.cancelled',
    payloadSchema: true,
    semantics: { terminal: { state: 'cancelled', awaitOutput: awaitOutputPointer } },
  },
];

export const defaultProvenance: Provenance = {
  ownerScope: { sessionId: 'root' },
  hostProfileId: 'default',
};

export interface NormalizedRegistration {
  id: string;
  input: ProcessRecord['input'];
  eventTypes: ProcessEventType[];
  provenance: Provenance;
}

/**
 * The registration as stored and hashed: core event types appended when missing, default
 * provenance filled in, empty frame ids dropped. Registering the same thing twice gives the
 * same normalized value, hence the same hash.
 */
export const normalizeRegistration = (registration: ParsedRegistration): NormalizedRegistration => {
  const declared = registration.eventTypes ?? [];
  const names = new Set(declared.map((t) => t.name));
  const provenance = registration.provenance ?? defaultProvenance;
  return {
    id: registration.id,
    input: registration.input,
    eventTypes: [...declared, ...coreEventTypes.filter((t) => !names.has(t.name))],
    provenance: { ...provenance, ownerScope: normalizeScope(provenance.ownerScope) },
  };
};

const invalid = (id: string, why: string): RegistryError =>
  new RegistryError('invalid', `cannot register process \`${id}\`: ${why}`);

/** Rules zod cannot express: unique names, terminal selectors, compilable payload schemas. */
const checkEventTypes = (id: string, eventTypes: readonly ProcessEventType[]): void => {
  const seen = new Set<string>();
  for (const eventType of eventTypes) {
    if (seen.has(eventType.name)) {
      throw invalid(id, `duplicate event type name \`${eventType.name}\`; declare each once`);
    }
    seen.add(eventType.name);
    const terminal = eventType.semantics?.terminal;
    if (terminal && terminal.state !== 'completed' && !terminal.awaitOutput) {
      throw invalid(
        id,
        `terminal event type \`${eventType.name}\` (${terminal.state}) needs an awaitOutput selector`,
      );
    }
    try {
      payloadCheckFor(eventType);
    } catch (error) {
      throw invalid(
        id,
        `payload schema of \`${eventType.name}\` is not a supported JSON Schema (${(error as Error).message})`,
      );
    }
  }
};

/**
 * registerProcess. Same id and same registration hash again → the stored record, nothing
 * written; same id with another hash → `conflict`.
 */
export const decideRegister = (
  state: ProcessState,
  command: { registration: ParsedRegistration; now: number },
): Decision<ProcessRecord> => {
  const normalized = normalizeRegistration(command.registration);
  checkEventTypes(normalized.id, normalized.eventTypes);
  const registrationHash = hashJson(normalized);
  if (state.record) {
    if (state.record.registrationHash === registrationHash) return noop(state.record);
    throw new RegistryError(
      'conflict',
      `process \`${normalized.id}\` is already registered with another registration (registration hash conflict); use a new process id or register the identical registration`,
    );
  }
  const record: ProcessRecord = {
    ...normalized,
    registrationHash,
    createdAtMs: command.now,
    updatedAtMs: command.now,
    status: { state: 'running' },
  };
  return { events: [{ type: 'ProcessRegistered', data: { record } }], result: record };
};
