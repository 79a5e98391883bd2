import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProcessRegistry } from '../../src/index.ts';
import { openRegistry } from '../../src/index.ts';
import { hashToken, TokenTable } from '../../src/service/tokens.ts';
import { registration } from '../conformance/fixtures.ts';
import { call, exported } from './helpers.ts';
import { serveOn } from './support.ts';

const tokens = { admin: 'tok-admin', alice: 'tok-alice', bob: 'tok-bob' };
const table = new TokenTable({
  tokens: [
    { actor: 'ops', sha256: hashToken(tokens.admin), admin: true },
    { actor: 'agent-alice', sha256: hashToken(tokens.alice), sessions: ['alice'] },
    { actor: 'agent-bob', sha256: hashToken(tokens.bob), sessions: ['bob'] },
  ],
});
const owned = (session: string) => ({
  provenance: { ownerScope: { sessionId: session }, hostProfileId: 'h' },
});

/** Every route that names a process, with a body that would be valid for it. */
const processRoutes: [method: string, path: string, body?: unknown, accept?: string][] = [
  ['GET', '/processes/{id}'],
  ['PUT', '/processes/{id}/external-ref', { backend: 'k8s', id: 'job' }],
  ['POST', '/processes/{id}/events', { eventType: 'producer.line', payload: { text: 'x' } }],
  [
    'POST',
    '/processes/{id}/event-batches',
    [{ eventType: 'producer.line', payload: { text: 'x' } }],
  ],
  ['GET', '/processes/{id}/events?after=0'],
  ['GET', '/processes/{id}/events?after=0', undefined, 'text/event-stream'],
  ['GET', '/processes/{id}/events?asOf=pos:1'],
  ['GET', '/processes/{id}/wake-events'],
  ['GET', '/processes/{id}/wait?eventType=producer.line&timeoutMs=1'],
  ['GET', '/processes/{id}/wait?eventType=producer.line', undefined, 'text/event-stream'],
  ['GET', '/processes/{id}/outcome?timeoutMs=1'],
  ['POST', '/processes/{id}/completion', { type: 'success', value: 1 }],
  ['POST', '/processes/{id}/wake-acks', { sequence: 1 }],
  ['GET', '/processes/{id}/grants'],
  ['GET', '/processes/{id}/history'],
  ['GET', '/processes/{id}/lease'],
  ['POST', '/processes/{id}/lease', { ownerId: 'w', ttlMs: 1000 }],
  [
    'POST',
    '/processes/{id}/lease/renewal',
    {
      lease: {
        schemaVersion: 1,
        processId: 'x',
        ownerId: 'w',
        leaseToken: 't',
        fencingToken: 1,
        claimedAtMs: 1,
        expiresAtMs: 2,
      },
      ttlMs: 1000,
    },
  ],
  ['POST', '/processes/{id}/lease/release', { leaseToken: 't' }],
  [
    'POST',
    '/processes/{id}/lease/completion',
    {
      lease: {
        schemaVersion: 1,
        processId: 'x',
        ownerId: 'w',
        leaseToken: 't',
        fencingToken: 1,
        claimedAtMs: 1,
        expiresAtMs: 2,
      },
      awaitOutput: { type: 'success', value: 1 },
    },
  ],
  ['POST', '/processes/{id}/lease/reclaim', { owner: 'w', observedLeaseToken: 't', ttlMs: 10 }],
  ['GET', '/processes/{id}/recent-events?limit=5'],
  ['GET', '/processes/{id}/event-count?eventType=producer.line&upToSequence=3'],
  ['GET', '/processes/{id}/event-count?asOf=pos:1'],
  ['PUT', '/grants', { scope: { sessionId: 'alice' }, processId: '{id}' }],
  [
    'POST',
    '/grants/transfer',
    { from: { sessionId: 'alice' }, to: { sessionId: 'x' }, processIds: ['{id}'] },
  ],
];
/** Routes that name no process: scopes, sessions, the whole log. */
const otherRoutes: [method: string, path: string, body?: unknown][] = [
  ['POST', '/processes', { id: 'fresh', input: { type: 't' } }],
  ['GET', '/processes'],
  ['GET', '/processes?all=true&asOf=pos:1'],
  ['GET', '/grants?sessionId=alice'],
  ['GET', '/grants/check?sessionId=alice&processId=pa'],
  ['POST', '/grants/revoke', { scope: { sessionId: 'alice' }, processId: 'pa' }],
  ['DELETE', '/sessions/alice/process-state'],
  ['GET', '/export'],
  ['POST', '/import'],
  ['POST', '/verify'],
  ['POST', '/rebuild'],
  ['GET', '/feed'],
  ['GET', '/whoami'],
  ['GET', '/changes?from=0&to=pos:99'],
  ['GET', '/as-of/position?asOf=pos:1'],
  ['GET', '/as-of/leases?asOf=pos:99'],
  ['GET', '/as-of/pruned?asOf=pos:1'],
  // admin routes: refused before their bodies are read (as /import)
  ['POST', '/prune'],
  ['POST', '/import-archive'],
  ['GET', '/pruned/pa'],
];
const bodyRoutes = [...processRoutes, ...otherRoutes].filter(([, , body]) => body !== undefined);

const withId = (value: unknown, id: string): unknown =>
  JSON.parse(JSON.stringify(value ?? null).replaceAll('{id}', id)) ?? undefined;

describe('the service with tokens: authentication, scopes, bad input', () => {
  let registry: ProcessRegistry;
  let base: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const served = await serveOn('memory:', {}, table);
    registry = served.local;
    base = served.service.url;
    close = served.close;
    await registry.registerProcess(registration('pa', owned('alice')));
    await registry.registerProcess(registration('pb', owned('bob')));
    await registry.registerProcess(registration('shared', owned('bob')));
    await registry.grantHandle({ sessionId: 'alice', agentFrameId: 'f1' }, 'shared', {});
  });
  afterAll(() => close());

  it.each(processRoutes)(
    '%s %s: 401 without a token or with a wrong one, writing nothing',
    async (method, path, body, accept) => {
      const before = await exported(registry);
      for (const token of [undefined, 'not-a-token', `${tokens.alice}x`]) {
        const reply = await call(base, method, path.replace('{id}', 'pa'), {
          token,
          body: withId(body, 'pa'),
          ...(accept ? { accept } : {}),
        });
        expect(reply.status, `token ${token}`).toBe(401);
        expect(reply.body).toMatchObject({ error: { code: 'unauthorized' } });
      }
      expect(await exported(registry)).toEqual(before);
    },
  );

  it.each(otherRoutes)(
    '%s %s: 401 without a token or with a wrong one, writing nothing',
    async (method, path, body) => {
      const before = await exported(registry);
      for (const token of [undefined, 'not-a-token']) {
        const reply = await call(base, method, path, { token, body });
        expect(reply.status, `token ${token}`).toBe(401);
        expect(reply.body).toMatchObject({ error: { code: 'unauthorized' } });
      }
      expect(await exported(registry)).toEqual(before);
    },
  );

  it.each(bodyRoutes)(
    '%s %s: malformed (400) and oversized (413) bodies are invalid, writing nothing',
    async (method, path, body) => {
      const before = await exported(registry);
      const url = path.replace('{id}', 'pa');
      const malformed = await call(base, method, url, { token: tokens.alice, rawBody: '{"a":' });
      expect(malformed).toMatchObject({ status: 400, body: { error: { code: 'invalid' } } });
      const oversized = await call(base, method, url, {
        token: tokens.alice,
        rawBody: JSON.stringify({ ...(body as object), pad: 'x'.repeat(6 * 1024 * 1024) }),
      });
      expect(oversized).toMatchObject({ status: 413, body: { error: { code: 'invalid' } } });
      const mistyped = await call(base, method, url, {
        token: tokens.alice,
        body: { ...(body as object), unexpected: 1 },
      });
      expect(mistyped).toMatchObject({ status: 400, body: { error: { code: 'invalid' } } });
      expect(await exported(registry)).toEqual(before);
    },
  );

  it.each(processRoutes)(
    "%s %s: another session's process answers exactly like an unknown one, writing nothing",
    async (method, path, body, accept) => {
      const before = await exported(registry);
      const hidden = await call(base, method, path.replace('{id}', 'pb'), {
        token: tokens.alice,
        body: withId(body, 'pb'),
        ...(accept ? { accept } : {}),
      });
      const unknown = await call(base, method, path.replace('{id}', 'zz'), {
        token: tokens.alice,
        body: withId(body, 'zz'),
        ...(accept ? { accept } : {}),
      });
      expect(hidden.status).toBeGreaterThanOrEqual(400);
      expect(hidden.status).toBe(unknown.status);
      expect(hidden.text.replaceAll('pb', 'ID')).toBe(unknown.text.replaceAll('zz', 'ID'));
      expect(await exported(registry)).toEqual(before);
    },
  );

  it('lets a token see what its sessions own or hold a grant on, and nothing else', async () => {
    const list = await call(base, 'GET', '/processes', { token: tokens.alice });
    expect((list.body as { id: string }[]).map((r) => r.id)).toEqual(['pa', 'shared']);
    const bobs = await call(base, 'GET', '/processes?all=true', { token: tokens.bob });
    expect((bobs.body as { id: string }[]).map((r) => r.id)).toEqual(['pb', 'shared']);
    const admin = await call(base, 'GET', '/processes', { token: tokens.admin });
    expect((admin.body as { id: string }[]).map((r) => r.id)).toEqual(['pa', 'pb', 'shared']);
    expect((await call(base, 'GET', '/processes/shared', { token: tokens.alice })).status).toBe(
      200,
    );
    const check = await call(
      base,
      'GET',
      '/grants/check?sessionId=alice&agentFrameId=f1&processId=shared',
      { token: tokens.alice },
    );
    expect(check.body).toEqual({ granted: true });
  });

  it('filters changesBetween and the leases as of a point to what the token sees', async () => {
    await registry.claimProcessLease('pb', 'bob-worker', 600_000);
    const changes = await call(base, 'GET', `/changes?from=0&to=${Date.now() + 1000}`, {
      token: tokens.alice,
    });
    expect(changes.status).toBe(200);
    const ids = (changes.body as { processes: { processId: string }[] }).processes.map(
      (p) => p.processId,
    );
    expect(ids).toContain('pa');
    expect(ids).not.toContain('pb');
    const leases = await call(base, 'GET', `/as-of/leases?asOf=${Date.now() + 1000}`, {
      token: tokens.alice,
    });
    expect(leases.status).toBe(200);
    expect((leases.body as { processId: string }[]).map((l) => l.processId)).not.toContain('pb');
    const all = await call(base, 'GET', `/as-of/leases?asOf=${Date.now() + 1000}`, {
      token: tokens.admin,
    });
    expect((all.body as { processId: string }[]).map((l) => l.processId)).toContain('pb');
  });

  it("refuses (403, writing nothing) to act for another session's scope or on the whole log", async () => {
    const before = await exported(registry);
    const refused: [string, string, unknown?][] = [
      ['GET', '/grants?sessionId=bob'],
      ['GET', '/grants/check?sessionId=bob&processId=pb'],
      [
        'POST',
        '/grants/transfer',
        { from: { sessionId: 'bob' }, to: { sessionId: 'alice' }, processIds: ['pb'] },
      ],
      ['DELETE', '/sessions/bob/process-state'],
      ['POST', '/processes', registration('new', owned('bob'))],
      ['GET', '/export'],
      ['POST', '/import', undefined],
      ['POST', '/verify'],
      ['POST', '/rebuild'],
      ['GET', '/feed'],
      ['POST', '/prune', { terminalBeforeMs: Date.now() + 1, archiveTo: '/nonexistent/x' }],
      ['POST', '/import-archive', { dir: '/nonexistent/x' }],
      ['GET', '/pruned/pb'],
    ];
    for (const [method, path, body] of refused) {
      const reply = await call(base, method, path, { token: tokens.alice, body });
      expect(reply.status, `${method} ${path}`).toBe(403);
      expect(reply.body).toMatchObject({ error: { code: 'unauthorized' } });
    }
    // revoking a hidden process's grant is the same no-op as revoking an absent one
    const revoke = await call(base, 'POST', '/grants/revoke', {
      token: tokens.alice,
      body: { scope: { sessionId: 'bob' }, processId: 'pb' },
    });
    expect(revoke.status).toBe(204);
    expect(await exported(registry)).toEqual(before);
  });

  it('stamps the token’s actor into the audit trail, whatever the request claims', async () => {
    const reply = await call(base, 'POST', '/processes/pa/events', {
      token: tokens.alice,
      body: { eventType: 'producer.line', payload: { text: 'hi', actor: 'mallory' } },
      headers: { 'x-procreg-actor': 'mallory', 'x-correlation-id': 'corr-1' },
    });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('x-correlation-id')).toBe('corr-1');
    const last = (await registry.history('pa')).at(-1)!;
    expect(last.metadata).toMatchObject({ actor: 'agent-alice', correlationId: 'corr-1' });
  });

  it('registers with the token’s session as owner and keeps other tokens’ ids unavailable', async () => {
    const reply = await call(base, 'POST', '/processes', {
      token: tokens.alice,
      body: { id: 'alice-new', input: { type: 't' } },
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ provenance: { ownerScope: { sessionId: 'alice' } } });
    const taken = await call(base, 'POST', '/processes', {
      token: tokens.bob,
      body: { id: 'alice-new', input: { type: 't' } },
    });
    expect(taken.status).toBe(409);
    expect(taken.text).not.toContain('registration hash');
  });

  it('refuses malformed, mistyped and oversized bodies with typed errors, writing nothing', async () => {
    const before = await exported(registry);
    const bad: [string, string, { rawBody?: string; body?: unknown }, number][] = [
      ['POST', '/processes/pa/events', { rawBody: '{"eventType":' }, 400],
      ['POST', '/processes/pa/events', { rawBody: '' }, 400],
      ['POST', '/processes/pa/events', { body: { eventType: 7, payload: {} } }, 400],
      [
        'POST',
        '/processes/pa/events',
        { body: { eventType: 'producer.line', payload: { text: 'x' }, extra: 1 } },
        400,
      ],
      [
        'POST',
        '/processes/pa/events',
        {
          rawBody: JSON.stringify({
            eventType: 'producer.line',
            payload: { text: 'x'.repeat(6 * 1024 * 1024) },
          }),
        },
        413,
      ],
      ['POST', '/processes/pa/event-batches', { body: { eventType: 'producer.line' } }, 400],
      ['POST', '/processes', { body: { id: ' ', input: { type: 't' } } }, 400],
      ['POST', '/processes/pa/wake-acks', { body: { sequence: -1 } }, 400],
      ['POST', '/processes/pa/lease', { body: { ownerId: 'w', ttlMs: '10' } }, 400],
      ['PUT', '/grants', { body: { scope: 'alice', processId: 'pa' } }, 400],
      ['GET', '/processes/pa/events?after=-1', {}, 400],
      ['GET', '/processes/pa/events?asOf=yesterday', {}, 400],
      ['GET', '/processes/pa/wait?after=0', {}, 400],
    ];
    for (const [method, path, options, status] of bad) {
      const reply = await call(base, method, path, { token: tokens.alice, ...options });
      expect(reply.status, `${method} ${path}`).toBe(status);
      expect(reply.body, `${method} ${path}`).toMatchObject({
        error: { code: 'invalid', message: expect.any(String) },
      });
      expect((reply.body as { error: { message: string } }).error.message).not.toContain('\n');
    }
    expect(await exported(registry)).toEqual(before);
  });

  it('maps registry error codes to statuses with the registry’s one-line message', async () => {
    const local = await registry
      .appendEvent('pa', { eventType: 'nope', payload: {} })
      .catch((e: Error) => e.message);
    const reply = await call(base, 'POST', '/processes/pa/events', {
      token: tokens.alice,
      body: { eventType: 'nope', payload: {} },
    });
    expect(reply).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid', message: local } },
    });
    await call(base, 'POST', '/processes/pa/completion', {
      token: tokens.alice,
      body: { type: 'success', value: 1 },
    });
    const again = await call(base, 'POST', '/processes/pa/completion', {
      token: tokens.alice,
      body: { type: 'failure', class: 'c', code: 'x', message: 'm' },
    });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'already_terminal' } } });
    const lease = await call(base, 'POST', '/processes/shared/lease', {
      token: tokens.alice,
      body: { ownerId: 'w1', ttlMs: 60_000 },
    });
    expect(lease.status).toBe(200);
    const held = await call(base, 'POST', '/processes/shared/lease', {
      token: tokens.alice,
      body: { ownerId: 'w2', ttlMs: 60_000 },
    });
    expect(held).toMatchObject({ status: 409, body: { error: { code: 'lease_held' } } });
    const timeout = await call(base, 'GET', '/processes/shared/outcome?timeoutMs=1', {
      token: tokens.alice,
    });
    expect(timeout).toMatchObject({ status: 408, body: { error: { code: 'timeout' } } });
    const route = await call(base, 'GET', '/nowhere', { token: tokens.alice });
    expect(route).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  });

  it('gives the remote registry the same view: typed errors, token actor, hidden is not found', async () => {
    await expect(openRegistry(base, { token: 'wrong' })).rejects.toMatchObject({ code: 'invalid' });
    const alice = await openRegistry(base, { token: tokens.alice });
    try {
      expect((await alice.listProcesses()).records.map((r) => r.id).sort()).toEqual([
        'alice-new',
        'pa',
        'shared',
      ]);
      expect(await alice.getProcess('pb')).toBeUndefined();
      await expect(alice.eventsAfter('pb', 0)).rejects.toMatchObject({ code: 'not_found' });
      await expect(alice.listHandleGrants({ sessionId: 'bob' })).rejects.toMatchObject({
        code: 'invalid',
      });
      await alice.withContext({ actor: 'someone-else' }).appendEvent('shared', {
        eventType: 'producer.line',
        payload: { text: 'remote' },
      });
      expect((await registry.history('shared')).at(-1)?.metadata.actor).toBe('agent-alice');
    } finally {
      await alice.close();
    }
  });
});
