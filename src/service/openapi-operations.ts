/** The service's routes as data: method, path, the registry method, schemas. */
import { z } from 'zod';
import { errorCodes } from '../domain/errors.ts';
import { PruneOptionsSchema } from '../domain/retention.ts';
import {
  AppendRequestSchema,
  ExternalRefSchema,
  LeaseReclaimSchema,
  ProcessAwaitOutputSchema,
  ProcessEventSchema,
  ProcessHandleGrantSchema,
  ProcessLeaseSchema,
  ProcessRecordSchema,
  ProcessRegistrationSchema,
  SessionDeleteReportSchema,
  WakeDeliverySchema,
} from '../domain/schemas.ts';
import {
  AckBodySchema,
  ClaimBodySchema,
  FencedCompletionBodySchema,
  GrantBodySchema,
  GrantCheckSchema,
  ReleaseBodySchema,
  RenewBodySchema,
  RevokeBodySchema,
  TransferBodySchema,
} from './bodies.ts';

const AppendOutcomeSchema = z.strictObject({
  event: ProcessEventSchema,
  wakeDelivery: WakeDeliverySchema.optional(),
});
const GrantEntrySchema = z.strictObject({
  grant: ProcessHandleGrantSchema,
  record: ProcessRecordSchema,
});
export const ErrorSchema = z.strictObject({
  error: z.strictObject({ code: z.enum([...errorCodes, 'unauthorized']), message: z.string() }),
});

export type Param =
  | 'id'
  | 'sessionId'
  | 'after'
  | 'asOf'
  | 'timeoutMs'
  | 'eventType'
  | 'all'
  | 'session'
  | 'scope'
  | 'live'
  | 'processId'
  | 'history'
  | 'window'
  | 'filter'
  | 'page'
  | 'limit'
  | 'count';
export interface Operation {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  /** the ProcessRegistry method it runs */
  operationId: string;
  summary: string;
  params?: Param[];
  body?: z.ZodType;
  response?: z.ZodType;
  /** content types besides JSON the response may have */
  streams?: ('text/event-stream' | 'application/x-ndjson')[];
  /** served without a token */
  open?: boolean;
  /** another content type of the response (metrics text, the page) */
  text?: string;
}

/** Every route, in the order of SPEC.md's table; the document is generated from this. */
export const operations: Operation[] = [
  {
    method: 'post',
    path: '/processes',
    operationId: 'registerProcess',
    summary: 'Register a process (idempotent for the same registration)',
    body: ProcessRegistrationSchema,
    response: ProcessRecordSchema,
  },
  {
    method: 'get',
    path: '/processes',
    operationId: 'listNonTerminal',
    summary:
      'Running processes (all=true: every process, listProcesses); session= keeps those a session owns or holds a grant on',
    params: ['all', 'session', 'asOf'],
    response: z.array(ProcessRecordSchema),
  },
  {
    method: 'get',
    path: '/process-pages',
    operationId: 'listProcesses',
    summary:
      'A page of processes matching the filter, oldest first ((createdAtMs, id) order), with nextCursor when there may be more',
    params: ['filter', 'page', 'asOf'],
    response: z.strictObject({
      records: z.array(ProcessRecordSchema),
      nextCursor: z.string().optional(),
    }),
  },
  {
    method: 'get',
    path: '/process-changes',
    operationId: 'processesChangedSince',
    summary:
      'The change feed: processes whose record changed after cursor, each once at its latest state, in change order',
    params: ['page'],
    response: z.strictObject({ records: z.array(ProcessRecordSchema), nextCursor: z.string() }),
  },
  {
    method: 'get',
    path: '/processes/{id}',
    operationId: 'getProcess',
    summary: 'One process record (404 when unknown or not visible to the token)',
    params: ['id', 'asOf'],
    response: ProcessRecordSchema,
  },
  {
    method: 'put',
    path: '/processes/{id}/external-ref',
    operationId: 'setExternalRef',
    summary: 'Set the external reference',
    params: ['id'],
    body: ExternalRefSchema,
    response: ProcessRecordSchema,
  },
  {
    method: 'post',
    path: '/processes/{id}/events',
    operationId: 'appendEvent',
    summary: 'Append a process event',
    params: ['id'],
    body: AppendRequestSchema,
    response: AppendOutcomeSchema,
  },
  {
    method: 'post',
    path: '/processes/{id}/event-batches',
    operationId: 'appendEvents',
    summary: 'Append up to 1000 events in one write, all or nothing',
    params: ['id'],
    body: z.array(AppendRequestSchema),
    response: z.array(AppendOutcomeSchema),
  },
  {
    method: 'get',
    path: '/processes/{id}/events',
    operationId: 'eventsAfter',
    summary:
      'Events after a sequence. With Accept: text/event-stream: catch-up then live (event `event`, id = sequence), resumable with Last-Event-ID',
    params: ['id', 'after', 'asOf'],
    response: z.array(ProcessEventSchema),
    streams: ['text/event-stream'],
  },
  {
    method: 'get',
    path: '/processes/{id}/wake-events',
    operationId: 'wakeEventsAfter',
    summary: 'Unacked events with a wake, after a sequence',
    params: ['id', 'after', 'asOf'],
    response: z.array(ProcessEventSchema),
  },
  {
    method: 'get',
    path: '/processes/{id}/recent-events',
    operationId: 'recentEvents',
    summary: 'The last limit (1 to 1000) events, ascending',
    params: ['id', 'limit', 'asOf'],
    response: z.array(ProcessEventSchema),
  },
  {
    method: 'get',
    path: '/processes/{id}/event-count',
    operationId: 'countEvents',
    summary: 'How many events (of eventType only, up to upToSequence) the process has',
    params: ['id', 'count', 'asOf'],
    response: z.strictObject({ count: z.number() }),
  },
  {
    method: 'get',
    path: '/processes/{id}/wait',
    operationId: 'waitEventAfter',
    summary:
      'First event of a type after a sequence, now or when it arrives. Long-poll JSON, or SSE (one `result` or `error` event). Closing the connection aborts the wait',
    params: ['id', 'eventType', 'after', 'timeoutMs'],
    response: ProcessEventSchema,
    streams: ['text/event-stream'],
  },
  {
    method: 'get',
    path: '/processes/{id}/outcome',
    operationId: 'awaitProcess',
    summary: 'The await output once the process is terminal (long-poll or SSE, as wait)',
    params: ['id', 'timeoutMs'],
    response: ProcessAwaitOutputSchema,
    streams: ['text/event-stream'],
  },
  {
    method: 'post',
    path: '/processes/{id}/completion',
    operationId: 'completeProcess',
    summary: 'Complete with an await output (idempotent)',
    params: ['id'],
    body: ProcessAwaitOutputSchema,
    response: ProcessRecordSchema,
  },
  {
    method: 'post',
    path: '/processes/{id}/wake-acks',
    operationId: 'ackWake',
    summary: 'Acknowledge a wake (idempotent); 204',
    params: ['id'],
    body: AckBodySchema,
  },
  {
    method: 'get',
    path: '/processes/{id}/grants',
    operationId: 'handleGrantsForProcess',
    summary: 'Grants on a process',
    params: ['id', 'asOf'],
    response: z.array(ProcessHandleGrantSchema),
  },
  {
    method: 'get',
    path: '/processes/{id}/history',
    operationId: 'history',
    summary:
      'Domain events of the process with metadata (Accept: application/x-ndjson streams them page by page)',
    params: ['id', 'history'],
    response: z.array(
      z.looseObject({ type: z.string(), position: z.string(), revision: z.number() }),
    ),
    streams: ['application/x-ndjson'],
  },
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
  {
    method: 'get',
    path: '/changes',
    operationId: 'changesBetween',
    summary:
      'Per process, what changed between two moments (from=, to=: epoch ms, ISO time or pos:N)',
    params: ['window'],
    response: z.looseObject({
      from: z.looseObject({}),
      to: z.looseObject({}),
      processes: z.array(z.looseObject({ processId: z.string() })),
    }),
  },
  {
    method: 'get',
    path: '/as-of/position',
    operationId: 'asOf.position',
    summary: 'The last log position an asOf point includes',
    params: ['asOf'],
    response: z.strictObject({ position: z.string() }),
  },
  {
    method: 'get',
    path: '/as-of/pruned',
    operationId: 'asOf.prunedSince',
    summary: 'The processes pruned after an asOf point (none for session tokens)',
    params: ['asOf'],
    response: z.array(z.looseObject({ processId: z.string() })),
  },
  {
    method: 'get',
    path: '/as-of/leases',
    operationId: 'asOf.leases',
    summary: 'Every lease stored at an asOf point (possibly expired by then)',
    params: ['asOf'],
    response: z.array(ProcessLeaseSchema),
  },
  {
    method: 'get',
    path: '/export',
    operationId: 'exportEvents',
    summary: 'The whole log as NDJSON (admin)',
    streams: ['application/x-ndjson'],
  },
  {
    method: 'post',
    path: '/import',
    operationId: 'importEvents',
    summary: 'Import an NDJSON export into an empty store (admin); NDJSON progress then result',
    streams: ['application/x-ndjson'],
  },
  {
    method: 'post',
    path: '/prune',
    operationId: 'pruneTerminalProcesses',
    summary:
      'Archive, then remove, terminal processes that ended before terminalBeforeMs (admin; archiveTo is a directory on the service machine); NDJSON progress then result',
    body: PruneOptionsSchema,
    streams: ['application/x-ndjson'],
  },
  {
    method: 'post',
    path: '/import-archive',
    operationId: 'importArchive',
    summary:
      'Restore the processes of a prune archive directory (admin); NDJSON progress then result',
    body: z.strictObject({ dir: z.string() }),
    streams: ['application/x-ndjson'],
  },
  {
    method: 'get',
    path: '/pruned/{id}',
    operationId: 'prunedProcess',
    summary: 'The last prune that removed this process id (admin), or null',
    params: ['id'],
    response: z.strictObject({ pruned: z.looseObject({}).nullable() }),
  },
  {
    method: 'post',
    path: '/verify',
    operationId: 'verifyProjections',
    summary: 'Rebuild read models and diff (admin); NDJSON progress then result',
    streams: ['application/x-ndjson'],
  },
  {
    method: 'post',
    path: '/verify/integrity',
    operationId: 'verifyIntegrity',
    summary:
      'Check every event hash, stream link and recorded position, optionally against a kept digest `{ against: { digest, position } }` (admin); NDJSON progress then result',
    streams: ['application/x-ndjson'],
  },
  {
    method: 'get',
    path: '/digest',
    operationId: 'digest',
    summary: 'The log digest `{ digest, position }` to keep outside the store (admin)',
    response: z.strictObject({ digest: z.string(), position: z.string() }),
  },
  {
    method: 'get',
    path: '/whoami',
    operationId: 'whoami',
    summary: 'The caller as the service sees it: actor, access (admin, sessions or open), sessions',
    response: z.strictObject({
      actor: z.string().nullable(),
      access: z.enum(['admin', 'sessions', 'open']),
      sessions: z.array(z.string()).optional(),
    }),
  },
  {
    method: 'get',
    path: '/healthz',
    operationId: 'healthz',
    summary: 'Liveness: the process answers',
    response: z.strictObject({
      status: z.literal('ok'),
      durabilityTier: z.enum(['inline', 'durable']),
    }),
    open: true,
  },
  {
    method: 'get',
    path: '/readyz',
    operationId: 'readyz',
    summary: 'Readiness: the store answers and the read models have caught up (503 otherwise)',
    response: z.strictObject({
      status: z.literal('ready'),
      position: z.string(),
      caughtUpEvents: z.number(),
    }),
    open: true,
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics',
    text: 'text/plain',
    open: true,
  },
  {
    method: 'get',
    path: '/',
    operationId: 'timelinePage',
    summary: 'The web timeline (HTML; its files under /ui/)',
    text: 'text/html',
    open: true,
  },
  {
    method: 'post',
    path: '/rebuild',
    operationId: 'rebuildProjections',
    summary:
      'Empty the read models and rebuild them from the log (admin); NDJSON progress then result',
    streams: ['application/x-ndjson'],
  },
  {
    method: 'get',
    path: '/feed',
    operationId: 'applied$',
    summary: 'Every domain event as applied, SSE (admin)',
    streams: ['text/event-stream'],
  },
];
