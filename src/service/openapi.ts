import { z } from 'zod';
import { statusOfCode } from './errors.ts';
import { ErrorSchema, operations, type Param } from './openapi-operations.ts';

const schemaOf = (schema: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any', cycles: 'ref', reused: 'inline' });

const query = (name: string, description: string, schema: object = { type: 'string' }) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});

const parameters: Record<Param, object[]> = {
  id: [
    {
      name: 'id',
      in: 'path',
      required: true,
      schema: { type: 'string' },
      description: 'process id (URL-encoded)',
    },
  ],
  sessionId: [{ name: 'sessionId', in: 'path', required: true, schema: { type: 'string' } }],
  after: [query('after', 'sequence to read after (default 0)', { type: 'integer', minimum: 0 })],
  asOf: [query('asOf', 'answer as of a past point: epoch ms, ISO time, or pos:<global position>')],
  timeoutMs: [
    query('timeoutMs', 'reject with timeout (408) after this long', {
      type: 'integer',
      minimum: 0,
    }),
  ],
  eventType: [{ name: 'eventType', in: 'query', required: true, schema: { type: 'string' } }],
  all: [query('all', 'true: every process, terminal ones too', { type: 'boolean' })],
  session: [query('session', 'only processes this session owns or holds a grant on')],
  scope: [
    { name: 'sessionId', in: 'query', required: true, schema: { type: 'string' } },
    query('agentFrameId', 'frame part of the scope'),
  ],
  live: [query('live', 'true: non-terminal processes only', { type: 'boolean' })],
  processId: [{ name: 'processId', in: 'query', required: true, schema: { type: 'string' } }],
  window: [
    { name: 'from', in: 'query', required: true, schema: { type: 'string' } },
    { name: 'to', in: 'query', required: true, schema: { type: 'string' } },
  ],
  filter: [
    query('status', 'running, completed, failed, cancelled, or terminal (any of the three)'),
    query('ownerSessionId', "the owner scope's session"),
    query('grantedSessionId', 'a session holding a grant on the process'),
    query('inputType', 'input.type'),
    query('label', "a grant descriptor's label"),
    query('createdFromMs', 'created at or after (epoch ms)', { type: 'number' }),
    query('createdToMs', 'created before (epoch ms)', { type: 'number' }),
  ],
  page: [
    query('limit', 'page size (default 100, at most 1000)', { type: 'integer', minimum: 1 }),
    query('cursor', 'nextCursor of the previous page; absent: from the start'),
  ],
  limit: [
    {
      name: 'limit',
      in: 'query',
      required: true,
      schema: { type: 'integer', minimum: 1, maximum: 1000 },
    },
  ],
  count: [
    query('eventType', 'count only events of this type'),
    query('upToSequence', 'count only sequences up to this one', { type: 'integer', minimum: 0 }),
  ],
  history: [
    query('fromMs', 'recorded at or after (epoch ms)', { type: 'number' }),
    query('toMs', 'recorded at or before (epoch ms)', { type: 'number' }),
    query('types', 'comma-separated domain event types'),
    query('includeRefused', 'true: interleave the journal of refused commands', {
      type: 'boolean',
    }),
  ],
};

/** The OpenAPI 3.1 document, generated from the same zod schemas the routes parse with. */
export const openApiDocument = (): object => {
  const errorResponse = (status: number) => ({
    description:
      Object.entries(statusOfCode)
        .filter(([, s]) => s === status)
        .map(([code]) => code)
        .join(', ') || 'error',
    content: { 'application/json': { schema: schemaOf(ErrorSchema, 'output') } },
  });
  const paths: Record<string, Record<string, object>> = {};
  for (const op of operations) {
    const content: Record<string, object> = {};
    if (op.response) content['application/json'] = { schema: schemaOf(op.response, 'output') };
    for (const type of op.streams ?? []) content[type] = { schema: { type: 'string' } };
    if (op.text) content[op.text] = { schema: { type: 'string' } };
    const ok =
      op.response || op.streams || op.text
        ? { description: 'success', content }
        : { description: 'done, no body' };
    paths[op.path] ??= {};
    paths[op.path]![op.method] = {
      operationId: op.operationId,
      summary: op.summary,
      ...(op.open ? { security: [] } : {}),
      parameters: (op.params ?? []).flatMap((p) => parameters[p]),
      ...(op.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: schemaOf(op.body, 'input') } },
            },
          }
        : {}),
      responses: {
        [op.response || op.streams || op.text ? '200' : '204']: ok,
        ...Object.fromEntries(
          [400, 401, 404, 408, 409, 503].map((s) => [String(s), errorResponse(s)]),
        ),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'procreg',
      version: '0.1.0',
      description:
        'The process registry over HTTP. Errors are {"error":{"code","message"}} with the registry’s codes; 401/403 are code `unauthorized`. Send `Authorization: Bearer <token>`; `x-correlation-id` and `x-causation-id` are stamped into the events a request writes.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    },
    security: [{ bearer: [] }],
    paths,
  };
};
