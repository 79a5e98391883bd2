import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import type { Logger } from 'pino';
import { AuditContextSchema } from '../domain/schemas.ts';
import { parseInput } from '../domain/validation.ts';
import type { ProcessRegistry } from '../registry.ts';
import { ServiceError, wireErrorOf } from './errors.ts';
import type { ServiceMetrics } from './metrics.ts';
import { openApiDocument } from './openapi.ts';
import { adminRoutes } from './routes-admin.ts';
import { grantRoutes } from './routes-grants.ts';
import { processRoutes } from './routes-processes.ts';
import { streamRoutes } from './routes-streams.ts';
import { temporalRoutes } from './routes-temporal.ts';
import type { SseHub } from './sse.ts';
import { staticRoutes } from './static.ts';
import type { Principal, TokenTable } from './tokens.ts';
import { type Env, json, stringify } from './wire.ts';

export interface AppDeps {
  registry: ProcessRegistry;
  /** undefined: open mode (no tokens; the caller names its actor with `x-procreg-actor`) */
  tokens: TokenTable | undefined;
  logger: Logger;
  metrics: ServiceMetrics;
  hub: SseHub;
  /** aborted once shutdown began: new requests get 503, long-poll waiters end */
  shutdown: AbortSignal;
}

/** Paths anyone may read: the page, the API description, health and metrics. */
const isPublic = (path: string): boolean =>
  path === '/' ||
  path.startsWith('/ui/') ||
  path === '/openapi.json' ||
  path === '/healthz' ||
  path === '/readyz' ||
  path === '/metrics';

const CorrelationIdPattern = /^[\w.:@/+=-]{1,128}$/;

/** `Authorization: Bearer <token>` → the token's principal; every failure is a 401. */
const authenticate = (deps: AppDeps, header: string | undefined, actor: string | undefined) => {
  if (!deps.tokens) return { kind: 'open', actor } satisfies Principal;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) {
    throw new ServiceError(
      'unauthorized',
      'missing bearer token; send `Authorization: Bearer <token>` (see the README for tokens)',
    );
  }
  const principal = deps.tokens.lookup(match[1]!);
  if (!principal) throw new ServiceError('unauthorized', 'unknown or revoked token');
  return principal;
};

/**
 * The HTTP face of one registry. Every request gets a correlation id (`x-correlation-id`,
 * echoed back, generated when absent), a principal from its token, and a registry view
 * whose writes carry the token's actor: the audit actor is never taken from the body.
 */
export const createApp = (deps: AppDeps): Hono<Env> => {
  const app = new Hono<Env>();
  const { logger, metrics } = deps;

  app.use('*', async (c, next) => {
    const started = performance.now();
    const given = c.req.header('x-correlation-id');
    const correlationId = given && CorrelationIdPattern.test(given) ? given : randomUUID();
    c.set('correlationId', correlationId);
    c.set('operation', 'http');
    c.set('outcome', 'ok');
    c.header('x-correlation-id', correlationId);
    try {
      if (deps.shutdown.aborted) {
        c.header('connection', 'close');
        throw new ServiceError(
          'unavailable',
          'the procreg service is shutting down; retry on another instance',
        );
      }
      if (!isPublic(c.req.path)) {
        const claimed = c.req.header('x-procreg-actor');
        const principal = authenticate(deps, c.req.header('authorization'), claimed || undefined);
        c.set('principal', principal);
        const causationId = c.req.header('x-causation-id');
        const audit = parseInput(
          AuditContextSchema,
          {
            ...(principal.actor !== undefined ? { actor: principal.actor } : {}),
            // only a caller-given correlation id is stamped into events; a generated one
            // is for logs and the response header
            ...(given && CorrelationIdPattern.test(given) ? { correlationId } : {}),
            ...(causationId ? { causationId } : {}),
          },
          'caller context (x-procreg-actor, x-correlation-id, x-causation-id headers)',
        );
        c.set('registry', deps.registry.withContext(audit));
      }
      await next();
    } finally {
      const operation = c.get('operation');
      const outcome = c.get('outcome');
      const ms = performance.now() - started;
      if (operation !== 'http') metrics.commands.inc({ operation, outcome });
      if (operation === 'appendEvent' || operation === 'appendEvents') {
        metrics.appendSeconds.observe({ operation }, ms / 1000);
      }
      logger.info(
        {
          correlationId,
          method: c.req.method,
          path: c.req.path,
          operation,
          outcome,
          status: c.res.status,
          ms: Math.round(ms * 10) / 10,
          actor: c.get('principal')?.actor ?? null,
        },
        'request',
      );
    }
  });

  app.onError((error, c) => {
    const { status, body } = wireErrorOf(error);
    c.set('outcome', body.error.code);
    if (status >= 500 && !(error instanceof ServiceError) && !('code' in error)) {
      logger.error({ correlationId: c.get('correlationId'), err: error }, 'unexpected error');
    }
    return json(c as never, body, status);
  });

  app.notFound((c) => {
    c.set('outcome', 'not_found');
    return c.body(
      stringify({
        error: {
          code: 'not_found',
          message: `no route ${c.req.method} ${c.req.path}; /openapi.json lists the routes`,
        },
      }),
      404,
      { 'content-type': 'application/json; charset=utf-8' },
    );
  });

  app.get('/healthz', (c) =>
    json(c, { status: 'ok', durabilityTier: deps.registry.durabilityTier }),
  );

  app.get('/whoami', (c) => {
    const p = c.get('principal');
    return json(c, {
      actor: p.actor ?? null,
      access: p.kind,
      ...(p.kind === 'sessions' ? { sessions: [...p.sessions] } : {}),
    });
  });

  app.get('/readyz', async (c) => {
    const before = deps.registry.diagnostics().position;
    // a query catches the read models up with the store: this proves the store answers
    await deps.registry.getProcess('readyz-probe');
    const { position, liveFeedError } = deps.registry.diagnostics();
    metrics.projectionLag.set(Number(position - before));
    if (liveFeedError) {
      throw new ServiceError('unavailable', `read models stopped: ${liveFeedError}`);
    }
    return json(c, { status: 'ready', position, caughtUpEvents: Number(position - before) });
  });

  app.get('/metrics', async (c) => {
    const before = deps.registry.diagnostics().position;
    await deps.registry.getProcess('metrics-probe').catch(() => undefined);
    const after = deps.registry.diagnostics();
    metrics.projectionLag.set(Number(after.position - before));
    metrics.feedSubscribers.set(after.feedSubscribers);
    return c.body(await metrics.registry.metrics(), 200, {
      'content-type': metrics.registry.contentType,
    });
  });

  const document = openApiDocument();
  app.get('/openapi.json', (c) => json(c, document));

  processRoutes(app);
  streamRoutes(app, deps.hub, metrics, deps.shutdown);
  grantRoutes(app);
  temporalRoutes(app);
  adminRoutes(app, deps.hub);
  staticRoutes(app);
  return app;
};
