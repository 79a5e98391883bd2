import { z } from 'zod';
import {
  IdSchema,
  ProcessAwaitOutputSchema,
  ProcessLeaseSchema,
  ScopeSchema,
  SequenceSchema,
  TtlSchema,
} from '../domain/schemas.ts';

/**
 * Request bodies that wrap several arguments of one registry method. Single-argument
 * methods take the registry's own schema as the body (ProcessRegistrationSchema,
 * AppendRequestSchema, ...). Declared once; the routes parse with them and the OpenAPI
 * document is generated from them.
 */
export const GrantBodySchema = z.strictObject({
  scope: ScopeSchema,
  processId: IdSchema,
  descriptor: z
    .strictObject({ kind: z.string().max(512).optional(), label: z.string().max(4096).optional() })
    .optional(),
});
export const RevokeBodySchema = z.strictObject({ scope: ScopeSchema, processId: IdSchema });
export const TransferBodySchema = z.strictObject({
  from: ScopeSchema,
  to: ScopeSchema,
  processIds: z.array(IdSchema).max(10_000),
});
export const AckBodySchema = z.strictObject({ sequence: SequenceSchema });
export const ClaimBodySchema = z.strictObject({ ownerId: IdSchema, ttlMs: TtlSchema });
export const RenewBodySchema = z.strictObject({ lease: ProcessLeaseSchema, ttlMs: TtlSchema });
export const FencedCompletionBodySchema = z.strictObject({
  lease: ProcessLeaseSchema,
  awaitOutput: ProcessAwaitOutputSchema,
});
export const ReleaseBodySchema = z.strictObject({ leaseToken: IdSchema });
export const GrantCheckSchema = z.strictObject({ granted: z.boolean() });
