import type { Hono } from 'hono';
import { IdSchema, LeaseReclaimSchema, ScopeSchema } from '../domain/schemas.ts';
import { parseInput } from '../domain/validation.ts';
import { isVisible, requireOwnScope, requireVisible } from './access.ts';
import {
  ClaimBodySchema,
  FencedCompletionBodySchema,
  GrantBodySchema,
  ReleaseBodySchema,
  RenewBodySchema,
  RevokeBodySchema,
  TransferBodySchema,
} from './bodies.ts';
import { readSideOf } from './read-side.ts';
import { type Ctx, type Env, json, noContent, pathParam, readJson } from './wire.ts';

/** `?sessionId=&agentFrameId=` as a scope (validated like the registry's argument). */
const scopeQuery = (c: Ctx) => {
  const agentFrameId = c.req.query('agentFrameId');
  return parseInput(
    ScopeSchema,
    {
      sessionId: c.req.query('sessionId'),
      ...(agentFrameId !== undefined ? { agentFrameId } : {}),
    },
    'scope',
  );
};

/**
 * Grants, sessions and leases. A session token names only its own sessions as the scope it
 * lists, checks or gives away (`from`), and touches only processes it can see; granting a
 * visible process to another session is allowed (that is how work is shared).
 */
export const grantRoutes = (app: Hono<Env>): void => {
  app.put('/grants', async (c) => {
    c.set('operation', 'grantHandle');
    const body = await readJson(c, GrantBodySchema, 'grant');
    await requireVisible(c.get('registry'), c.get('principal'), body.processId);
    return json(
      c,
      await c.get('registry').grantHandle(body.scope, body.processId, body.descriptor ?? {}),
    );
  });

  app.post('/grants/revoke', async (c) => {
    c.set('operation', 'revokeHandle');
    const body = await readJson(c, RevokeBodySchema, 'revoke');
    // revoking what is not there is a no-op; a hidden process is "not there" for this token
    if (await isVisible(c.get('registry'), c.get('principal'), body.processId)) {
      await c.get('registry').revokeHandle(body.scope, body.processId);
    }
    return noContent(c);
  });

  app.post('/grants/transfer', async (c) => {
    c.set('operation', 'transferHandleGrants');
    const body = await readJson(c, TransferBodySchema, 'transfer');
    requireOwnScope(c.get('principal'), body.from, 'from');
    // `from` is the token's own session, so a hidden process is never granted to it: the
    // registry answers `not_granted` exactly as for an unknown id
    await c.get('registry').transferHandleGrants(body.from, body.to, body.processIds);
    return noContent(c);
  });

  app.get('/grants', async (c) => {
    const live = c.req.query('live') === 'true' || c.req.query('live') === '1';
    c.set('operation', live ? 'listLiveHandleGrants' : 'listHandleGrants');
    const scope = scopeQuery(c);
    requireOwnScope(c.get('principal'), scope, 'listed');
    const view = readSideOf(c);
    const entries = await view.listHandleGrants(scope);
    return json(c, live ? entries.filter((e) => e.record.status.state === 'running') : entries);
  });

  app.get('/grants/check', async (c) => {
    c.set('operation', 'hasHandleGrant');
    const scope = scopeQuery(c);
    const processId = parseInput(IdSchema, c.req.query('processId'), 'process id');
    requireOwnScope(c.get('principal'), scope, 'checked');
    return json(c, { granted: await readSideOf(c).hasHandleGrant(scope, processId) });
  });

  app.delete('/sessions/:sessionId/process-state', async (c) => {
    c.set('operation', 'deleteSessionProcessState');
    const sessionId = parseInput(IdSchema, pathParam(c, 'sessionId'), 'session id');
    requireOwnScope(c.get('principal'), { sessionId }, 'deleted');
    return json(c, await c.get('registry').deleteSessionProcessState(sessionId));
  });

  app.get('/processes/:id/lease', async (c) => {
    c.set('operation', 'getProcessLease');
    const view = readSideOf(c);
    const id = pathParam(c, 'id');
    await requireVisible(view, c.get('principal'), id);
    return json(c, { lease: (await view.getProcessLease(id)) ?? null });
  });

  app.post('/processes/:id/lease', async (c) => {
    c.set('operation', 'claimProcessLease');
    const id = pathParam(c, 'id');
    const body = await readJson(c, ClaimBodySchema, 'lease claim');
    await requireVisible(c.get('registry'), c.get('principal'), id);
    return json(c, await c.get('registry').claimProcessLease(id, body.ownerId, body.ttlMs));
  });

  app.post('/processes/:id/lease/renewal', async (c) => {
    c.set('operation', 'renewProcessLease');
    const id = pathParam(c, 'id');
    const body = await readJson(c, RenewBodySchema, 'lease renewal');
    await requireVisible(c.get('registry'), c.get('principal'), id);
    // the path names the process; a lease of another process cannot match its stored lease
    const lease = { ...body.lease, processId: id };
    return json(c, await c.get('registry').renewProcessLease(lease, body.ttlMs));
  });

  app.post('/processes/:id/lease/completion', async (c) => {
    c.set('operation', 'completeProcessWithLease');
    const id = pathParam(c, 'id');
    const body = await readJson(c, FencedCompletionBodySchema, 'fenced completion');
    await requireVisible(c.get('registry'), c.get('principal'), id);
    // the path names the process; a lease of another process cannot match its stored lease
    const lease = { ...body.lease, processId: id };
    return json(c, await c.get('registry').completeProcessWithLease(lease, body.awaitOutput));
  });

  app.post('/processes/:id/lease/reclaim', async (c) => {
    c.set('operation', 'reclaimProcessLease');
    const id = pathParam(c, 'id');
    const body = await readJson(c, LeaseReclaimSchema, 'lease reclaim');
    await requireVisible(c.get('registry'), c.get('principal'), id);
    return json(c, await c.get('registry').reclaimProcessLease(id, body));
  });

  app.post('/processes/:id/lease/release', async (c) => {
    c.set('operation', 'completeProcessLease');
    const id = pathParam(c, 'id');
    const body = await readJson(c, ReleaseBodySchema, 'lease completion');
    await requireVisible(c.get('registry'), c.get('principal'), id);
    await c.get('registry').completeProcessLease({ processId: id, leaseToken: body.leaseToken });
    return noContent(c);
  });
};
