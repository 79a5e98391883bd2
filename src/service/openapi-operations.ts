/** The service's routes as data: method, path, the registry method, schemas. */
import { z } from 'zod';
import { errorCodes } from '../domain/errors.ts';
import { logAndAdminRoutes } from './openapi-admin-routes.ts';
import { leaseAndGrantRoutes } from './openapi-lease-grant-routes.ts';
import { processRoutes } from './openapi-process-routes.ts';

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

/**
 * Every route, in the order of SPEC.md's table; the document is generated from this. The
 * entries are declared by area in openapi-*-routes.ts.
 */
export const operations: Operation[] = [
  ...processRoutes,
  ...leaseAndGrantRoutes,
  ...logAndAdminRoutes,
];
