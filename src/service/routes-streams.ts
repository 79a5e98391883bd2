import type { Hono } from 'hono';
import { isRegistryError } from '../domain/errors.ts';
import { IdSchema, type ProcessEvent, WaitOptionsSchema } from '../domain/schemas.ts';
import { parseInput } from '../domain/validation.ts';
import { requireVisible } from './access.ts';
import { ServiceError, wireErrorOf } from './errors.ts';
import type { ServiceMetrics } from './metrics.ts';
import { readSideOf } from './read-side.ts';
import { type SseHub, wantsEventStream } from './sse.ts';
import { type Ctx, type Env, intQuery, json, pathParam, stringify } from './wire.ts';

/**
 * Reads that follow the log: a process's events (JSON, or SSE catch-up then live, resumable
 * with Last-Event-ID) and the two waiters (SSE, or long-poll JSON). A closed connection
 * aborts the registry-side wait or subscription: nothing outlives its request.
 */
export const streamRoutes = (
  app: Hono<Env>,
  hub: SseHub,
  metrics: ServiceMetrics,
  shutdown: AbortSignal,
): void => {
  app.get('/processes/:id/events', async (c) => {
    const id = pathParam(c, 'id');
    const registry = c.get('registry');
    if (!wantsEventStream(c)) {
      c.set('operation', 'eventsAfter');
      const view = readSideOf(c);
      const after = intQuery(c, 'after', 0)!;
      await requireVisible(view, c.get('principal'), id);
      return json(c, await view.eventsAfter(id, after));
    }
    c.set('operation', 'events$');
    // Last-Event-ID (the last sequence the client saw) wins over ?after=: it is the resume point
    const lastEventId = c.req.header('last-event-id');
    const after =
      lastEventId !== undefined && /^\d{1,15}$/.test(lastEventId)
        ? Number(lastEventId)
        : intQuery(c, 'after', 0)!;
    await requireVisible(registry, c.get('principal'), id);
    await registry.eventsAfter(id, after); // validates `after` and the process before 200
    return hub.respond(c, (sender) => {
      const subscription = registry.events$(id, after).subscribe({
        next: (event: ProcessEvent) =>
          sender.send({ event: 'event', id: String(event.sequence), data: stringify(event) }),
        error: (error: unknown) => {
          sender.send({ event: 'error', data: stringify(wireErrorOf(error).body.error) });
          sender.close();
        },
      });
      return () => subscription.unsubscribe();
    });
  });

  app.get('/processes/:id/wait', async (c) => {
    c.set('operation', 'waitEventAfter');
    const id = pathParam(c, 'id');
    const eventType = parseInput(IdSchema, c.req.query('eventType'), 'event type');
    const after = intQuery(c, 'after', 0)!;
    const timeoutMs = intQuery(c, 'timeoutMs');
    return waitRoute(c, { hub, metrics, shutdown }, id, (registry, signal) =>
      registry.waitEventAfter(id, eventType, after, waitOptions(signal, timeoutMs)),
    );
  });

  app.get('/processes/:id/outcome', async (c) => {
    c.set('operation', 'awaitProcess');
    const id = pathParam(c, 'id');
    const timeoutMs = intQuery(c, 'timeoutMs');
    return waitRoute(c, { hub, metrics, shutdown }, id, (registry, signal) =>
      registry.awaitProcess(id, waitOptions(signal, timeoutMs)),
    );
  });
};

const waitOptions = (signal: AbortSignal, timeoutMs: number | undefined) =>
  parseInput(
    WaitOptionsSchema,
    { signal, ...(timeoutMs !== undefined ? { timeoutMs } : {}) },
    'wait options',
  )!;

/**
 * One waiter per request, aborted when the request's connection closes. Over SSE the
 * response starts at once (`: waiting`), so neither side's header timeout limits a long wait;
 * the outcome is one `result` or `error` event. As long-poll it is a plain JSON response.
 */
const waitRoute = async (
  c: Ctx,
  { hub, metrics, shutdown }: { hub: SseHub; metrics: ServiceMetrics; shutdown: AbortSignal },
  id: string,
  wait: (registry: Ctx['var']['registry'], signal: AbortSignal) => Promise<unknown>,
): Promise<Response> => {
  const registry = c.get('registry');
  await requireVisible(registry, c.get('principal'), id);
  if (!wantsEventStream(c)) {
    metrics.openWaiters.inc();
    try {
      return json(c, await wait(registry, AbortSignal.any([c.req.raw.signal, shutdown])));
    } catch (error) {
      if (isRegistryError(error, 'aborted') && shutdown.aborted) {
        throw new ServiceError(
          'unavailable',
          'the procreg service is shutting down; wait again on another instance',
        );
      }
      throw error;
    } finally {
      metrics.openWaiters.dec();
    }
  }
  return hub.respond(c, (sender, ended) => {
    metrics.openWaiters.inc();
    wait(registry, ended).then(
      (value) => {
        sender.send({ event: 'result', data: stringify(value) });
        sender.close();
      },
      (error: unknown) => {
        if (!(isRegistryError(error, 'aborted') && ended.aborted)) {
          sender.send({ event: 'error', data: stringify(wireErrorOf(error).body.error) });
        }
        sender.close();
      },
    );
    return () => metrics.openWaiters.dec();
  });
};
