import { z } from 'zod';
import type { RegistryErrorCode } from './errors.ts';

/**
 * A command the registry refused with a domain error, as the journal of refused commands
 * keeps it. Only these codes are journaled: each is a fact about an existing process (a
 * stale lease holder, a conflicting completion). Bad input (`invalid`) is the caller's
 * mistake, not a fact about a process, and is never journaled; nor are `not_found`,
 * `concurrency` and `unavailable`, which say nothing about what the process decided.
 */
export const journaledCodes = [
  'lease_lost',
  'lease_held',
  'not_granted',
  'conflict',
  'already_terminal',
] as const satisfies readonly RegistryErrorCode[];
export type JournaledCode = (typeof journaledCodes)[number];

export const isJournaledCode = (code: RegistryErrorCode): code is JournaledCode =>
  (journaledCodes as readonly string[]).includes(code);

export const RefusedCommandSchema = z.strictObject({
  processId: z.string(),
  /** the public method, as in event metadata (`completeProcessLease`) */
  command: z.string(),
  /** one per call, as in event metadata */
  commandId: z.string(),
  code: z.enum(journaledCodes),
  message: z.string(),
  actor: z.string().nullable(),
  correlationId: z.string().nullable(),
  causationId: z.string().nullable(),
  /** the registry clock when the command was refused */
  recordedAtMs: z.number(),
  /**
   * The process record's `createdAtMs`: which incarnation of the id the refusal concerns (an
   * id whose stream was removed and registered again starts another), so a history never
   * shows an earlier incarnation's refusals.
   */
  processCreatedAtMs: z.number(),
  /**
   * The revision of the process's stream the refusal was decided on: it came after that
   * event and before the next, which is where `history` interleaves it.
   */
  afterRevision: z.number().int().min(0),
});
export type RefusedCommand = z.infer<typeof RefusedCommandSchema>;

/** How many refusals the journal keeps per process; older ones are dropped as new ones come. */
export const JOURNAL_KEEP_PER_PROCESS = 1_000;
