import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry, type ProcessRegistry } from '../../src/index.ts';
import type { RunningService } from '../../src/service/server.ts';
import { registration } from '../conformance/fixtures.ts';
import { call } from './helpers.ts';
import { serveOn } from './support.ts';

describe('operations: OpenAPI, health, readiness, metrics', () => {
  let local: ProcessRegistry;
  let service: RunningService;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ local, service, close } = await serveOn('memory:'));
    await local.registerProcess(registration('p1'));
  });
  afterAll(() => close());

  it('describes every route in an OpenAPI 3.1 document generated from the zod schemas', async () => {
    const { status, body } = await call(service.url, 'GET', '/openapi.json');
    expect(status).toBe(200);
    const doc = body as {
      openapi: string;
      paths: Record<
        string,
        Record<
          string,
          {
            operationId: string;
            requestBody?: {
              content: Record<string, { schema: { required?: string[]; properties?: object } }>;
            };
          }
        >
      >;
    };
    expect(doc.openapi).toBe('3.1.0');
    const operations = Object.values(doc.paths).flatMap((p) =>
      Object.values(p).map((o) => o.operationId),
    );
    for (const method of [
      'registerProcess',
      'setExternalRef',
      'grantHandle',
      'revokeHandle',
      'transferHandleGrants',
      'listHandleGrants',
      'hasHandleGrant',
      'handleGrantsForProcess',
      'deleteSessionProcessState',
      'appendEvent',
      'appendEvents',
      'eventsAfter',
      'wakeEventsAfter',
      'waitEventAfter',
      'awaitProcess',
      'completeProcess',
      'getProcess',
      'ackWake',
      'listNonTerminal',
      'listProcesses',
      'processesChangedSince',
      'claimProcessLease',
      'renewProcessLease',
      'completeProcessLease',
      'completeProcessWithLease',
      'reclaimProcessLease',
      'recentEvents',
      'countEvents',
      'getProcessLease',
      'history',
      'exportEvents',
      'importEvents',
      'verifyProjections',
      'rebuildProjections',
    ]) {
      expect(operations).toContain(method);
    }
    const append = doc.paths['/processes/{id}/events']!.post!;
    const schema = append.requestBody!.content['application/json']!.schema;
    expect(schema.required).toEqual(expect.arrayContaining(['eventType', 'payload']));
    // every documented route exists: a request to it never gets the "no route" answer
    for (const [path, methods] of Object.entries(doc.paths)) {
      if (path === '/feed') continue; // an endless stream; checked below
      for (const method of Object.keys(methods)) {
        const reply = await call(
          service.url,
          method.toUpperCase(),
          path
            .replace(/\{\w+\}/g, 'p1')
            .concat(
              path.includes('wait')
                ? '?eventType=x&timeoutMs=0'
                : path.includes('outcome')
                  ? '?timeoutMs=0'
                  : '',
            ),
          {
            ...(method === 'get' ? {} : { rawBody: '{' }),
            ...(path === '/feed' ? { accept: 'application/json' } : {}),
          },
        );
        expect(reply.text, `${method} ${path}`).not.toContain('no route');
      }
    }
    const feed = new AbortController();
    const response = await fetch(`${service.url}/feed`, { signal: feed.signal });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    feed.abort();
  });

  it('answers /healthz and /readyz (store reachable, read models caught up)', async () => {
    expect(await call(service.url, 'GET', '/healthz')).toMatchObject({
      status: 200,
      body: { status: 'ok', durabilityTier: 'inline' },
    });
    const ready = await call(service.url, 'GET', '/readyz');
    expect(ready).toMatchObject({ status: 200, body: { status: 'ready', caughtUpEvents: 0 } });
    expect(Number((ready.body as { position: string }).position)).toBeGreaterThan(0);
  });

  it('counts commands by name and outcome and observes append latency in /metrics', async () => {
    const metric = async (line: string) => {
      const text = (await call(service.url, 'GET', '/metrics')).text;
      const found = text.split('\n').find((l) => l.startsWith(`${line} `));
      return found ? Number(found.slice(line.length + 1)) : 0;
    };
    const watched = [
      'procreg_commands_total{operation="appendEvent",outcome="ok"}',
      'procreg_commands_total{operation="appendEvent",outcome="invalid"}',
      'procreg_commands_total{operation="getProcess",outcome="not_found"}',
      'procreg_append_duration_seconds_count{operation="appendEvent"}',
    ];
    const before = await Promise.all(watched.map(metric));
    await call(service.url, 'POST', '/processes/p1/events', {
      body: { eventType: 'producer.line', payload: { text: 'a' } },
    });
    await call(service.url, 'POST', '/processes/p1/events', {
      body: { eventType: 'nope', payload: {} },
    });
    await call(service.url, 'GET', '/processes/ghost');
    const text = (await call(service.url, 'GET', '/metrics')).text;
    const after = await Promise.all(watched.map(metric));
    expect(after.map((n, i) => n - before[i]!)).toEqual([1, 1, 1, 2]);
    for (const gauge of [
      'procreg_open_waiters',
      'procreg_sse_clients',
      'procreg_projection_lag_events',
      'procreg_feed_subscribers',
    ]) {
      expect(text).toMatch(new RegExp(`^${gauge} \\d+$`, 'm'));
    }
  });

  it('rebuilds and verifies the read models through the remote registry, with progress', async () => {
    const remote = await openRegistry(service.url);
    const progress: bigint[] = [];
    await remote.rebuildProjections(({ done }) => progress.push(done));
    expect(progress.length).toBeGreaterThan(0);
    expect(await remote.verifyProjections()).toEqual([]);
    expect((await remote.getProcess('p1'))?.id).toBe('p1');
    await remote.close();
  });

  it('answers /readyz with 503 when the store behind it is gone, /healthz still 200', async () => {
    const broken = await serveOn('memory:');
    await broken.local.close();
    expect(await call(broken.service.url, 'GET', '/readyz')).toMatchObject({
      status: 503,
      body: { error: { code: 'unavailable' } },
    });
    expect((await call(broken.service.url, 'GET', '/healthz')).status).toBe(200);
    await broken.service.close();
  });
});
