import { z } from 'zod';
import {
  LeaseReclaimSchema,
  ProcessHandleGrantSchema,
  ProcessLeaseSchema,
  ProcessRecordSchema,
  SessionDeleteReportSchema,
} from '../domain/schemas.ts';
import {
  ClaimBodySchema,
  FencedCompletionBodySchema,
  GrantBodySchema,
  GrantCheckSchema,
  ReleaseBodySchema,
  RenewBodySchema,
  RevokeBodySchema,
  TransferBodySchema,
} from './bodies.ts';
import type { Operation } from './openapi-operations.ts';

const GrantEntrySchema = z.strictObject({
  grant: ProcessHandleGrantSchema,
  record: ProcessRecordSchema,
});
/** The routes of leases, grants and sessions, in SPEC order. */
export const leaseAndGrantRoutes: Operation[] = [
  {
    method: 'get',
    path: '/processes/{id}/lease',
    operationId: 'getProcessLease',
    summary: 'The stored lease, or null',
    params: ['id', 'asOf'],
    response: z.strictObject({ lease: ProcessLeaseSchema.nullable() }),
  },
  {
    method: 'post',
    path: '/processes/{id}/lease',
    operationId: 'claimProcessLease',
    summary: 'Claim the lease',
    params: ['id'],
    body: ClaimBodySchema,
    response: ProcessLeaseSchema,
  },
  {
    method: 'post',
    path: '/processes/{id}/lease/renewal',
    operationId: 'renewProcessLease',
    summary: 'Renew a held lease',
    params: ['id'],
    body: RenewBodySchema,
    response: ProcessLeaseSchema,
  },
  {
    method: 'post',
    path: '/processes/{id}/lease/release',
    operationId: 'completeProcessLease',
    summary: 'Release a lease (stale tokens are a no-op); 204',
    params: ['id'],
    body: ReleaseBodySchema,
  },
  {
    method: 'post',
    path: '/processes/{id}/lease/completion',
    operationId: 'completeProcessWithLease',
    summary:
      'Complete and release the held lease in one write (409 lease_lost when it is not the live lease)',
    params: ['id'],
    body: FencedCompletionBodySchema,
    response: ProcessRecordSchema,
  },
  {
    method: 'post',
    path: '/processes/{id}/lease/reclaim',
    operationId: 'reclaimProcessLease',
    summary:
      'Take over the observed lease of a dead holder, even before expiry (409 lease_held when it is no longer the stored one)',
    params: ['id'],
    body: LeaseReclaimSchema,
    response: ProcessLeaseSchema,
  },
  {
    method: 'put',
    path: '/grants',
    operationId: 'grantHandle',
    summary: 'Grant (upsert) a handle',
    body: GrantBodySchema,
    response: ProcessHandleGrantSchema,
  },
  {
    method: 'post',
    path: '/grants/revoke',
    operationId: 'revokeHandle',
    summary: 'Revoke a handle (absent: no-op); 204',
    body: RevokeBodySchema,
  },
  {
    method: 'post',
    path: '/grants/transfer',
    operationId: 'transferHandleGrants',
    summary: 'Move grants between scopes, all or nothing; 204',
    body: TransferBodySchema,
  },
  {
    method: 'get',
    path: '/grants',
    operationId: 'listHandleGrants',
    summary: "A scope's grants with their records (live=true: listLiveHandleGrants)",
    params: ['scope', 'live', 'asOf'],
    response: z.array(GrantEntrySchema),
  },
  {
    method: 'get',
    path: '/grants/check',
    operationId: 'hasHandleGrant',
    summary: 'Whether a scope holds a grant',
    params: ['scope', 'processId', 'asOf'],
    response: GrantCheckSchema,
  },
  {
    method: 'delete',
    path: '/sessions/{sessionId}/process-state',
    operationId: 'deleteSessionProcessState',
    summary: 'Revoke every grant of a session and report',
    params: ['sessionId'],
    response: SessionDeleteReportSchema,
  },
];
