import { z } from 'zod';
import { PruneOptionsSchema } from '../domain/retention.ts';
import { ProcessLeaseSchema } from '../domain/schemas.ts';
import type { Operation } from './openapi-operations.ts';

/** The routes of time travel, export, import, retention, verification, health and the page, in SPEC order. */
export const logAndAdminRoutes: Operation[] = [
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
    summary:
      'The whole log as NDJSON (admin); a failure met on the way ends it with one {"error": …} line',
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
