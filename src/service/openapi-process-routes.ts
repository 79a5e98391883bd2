import { z } from 'zod';
import {
  AppendRequestSchema,
  ExternalRefSchema,
  ProcessAwaitOutputSchema,
  ProcessEventSchema,
  ProcessHandleGrantSchema,
  ProcessRecordSchema,
  ProcessRegistrationSchema,
  WakeDeliverySchema,
} from '../domain/schemas.ts';
import { AckBodySchema } from './bodies.ts';
import type { Operation } from './openapi-operations.ts';

const AppendOutcomeSchema = z.strictObject({
  event: ProcessEventSchema,
  wakeDelivery: WakeDeliverySchema.optional(),
});
/** The routes of processes, their events, waits, completion, wakes and history, in SPEC order. */
export const processRoutes: Operation[] = [
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
];
