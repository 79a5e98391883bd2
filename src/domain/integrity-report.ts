import { z } from 'zod';
import type { Position } from './stored-event.ts';

/**
 * What `verifyIntegrity` takes and answers (the check itself is integrity-check.ts, which
 * says what each kind of problem means).
 */

export const integrityProblemKinds = [
  'altered',
  'missing',
  'reordered',
  'inserted',
  'chain_broken',
] as const;

export const IntegrityProblemSchema = z.strictObject({
  position: z.bigint(),
  /** null where the log no longer says (a recorded position with nothing left there) */
  stream: z.string().nullable(),
  revision: z.number().int().nullable(),
  kind: z.enum(integrityProblemKinds),
});
export type IntegrityProblem = z.infer<typeof IntegrityProblemSchema>;

export const IntegrityReportSchema = z.strictObject({
  /** no problem found (an unchained prefix is reported below, and is not a problem) */
  ok: z.boolean(),
  /** process events checked */
  checked: z.number().int(),
  problems: z.array(IntegrityProblemSchema),
  /**
   * Events written before procreg hashed events (no `hash` in their metadata), all at the
   * start of the log: their content cannot be proven, only linked to by what follows.
   */
  unchained: z.strictObject({ events: z.number().int(), through: z.bigint().nullable() }),
  /** the digest recomputed from the log, up to its last process event */
  digest: z.strictObject({ digest: z.string(), position: z.bigint() }),
});
export type IntegrityReport = z.infer<typeof IntegrityReportSchema>;

export interface IntegrityProgress {
  checked: number;
  position: Position;
  /** where the read models stood when the check began: about where it ends */
  head: Position;
}

export const VerifyIntegrityOptionsSchema = z.strictObject({
  /** a digest kept earlier: the log up to its position must still hash to it */
  against: z
    .strictObject({
      digest: z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 hex digest'),
      position: z.union([z.bigint().nonnegative(), z.number().int().nonnegative()]),
    })
    .optional(),
  onProgress: z
    .custom<(progress: IntegrityProgress) => void>((v) => typeof v === 'function')
    .optional(),
});
export type VerifyIntegrityOptions = z.input<typeof VerifyIntegrityOptionsSchema>;
