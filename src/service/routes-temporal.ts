import type { Hono } from 'hono';
import { everyProcess } from '../queries/views.ts';
import { canSee, visibleRecords } from './access.ts';
import { ServiceError } from './errors.ts';
import { parseAsOf } from './read-side.ts';
import { type Ctx, type Env, json } from './wire.ts';

/** A required point parameter (`from`, `to`, `asOf`), in the `?asOf=` syntax. */
const pointParam = (c: Ctx, name: string) => {
  const point = parseAsOf(c.req.query(name));
  if (point === undefined) {
    throw new ServiceError('invalid', `missing ${name}=<epoch ms | ISO time | pos:N>`);
  }
  return point;
};

/**
 * The registry across time beyond the per-route `?asOf=`: what an as-of point resolves to,
 * the leases held then, and `changesBetween`. A session token sees only its processes.
 */
export const temporalRoutes = (app: Hono<Env>): void => {
  app.get('/as-of/position', async (c) => {
    c.set('operation', 'asOf.position');
    const view = c.get('registry').asOf(pointParam(c, 'asOf'));
    return json(c, { position: await view.position() });
  });

  app.get('/as-of/leases', async (c) => {
    c.set('operation', 'asOf.leases');
    const view = c.get('registry').asOf(pointParam(c, 'asOf'));
    const principal = c.get('principal');
    const leases = await view.leases();
    if (principal.kind !== 'sessions') return json(c, leases);
    const records = [];
    for await (const record of everyProcess(view)) records.push(record);
    const visible = new Set((await visibleRecords(view, principal, records)).map((r) => r.id));
    return json(
      c,
      leases.filter((lease) => visible.has(lease.processId)),
    );
  });

  // pruned processes have no grants left: only admin and open services see them
  app.get('/as-of/pruned', async (c) => {
    c.set('operation', 'asOf.prunedSince');
    const view = c.get('registry').asOf(pointParam(c, 'asOf'));
    if (c.get('principal').kind === 'sessions') return json(c, []);
    return json(c, await view.prunedSince());
  });

  app.get('/changes', async (c) => {
    c.set('operation', 'changesBetween');
    const registry = c.get('registry');
    const changes = await registry.changesBetween(pointParam(c, 'from'), pointParam(c, 'to'));
    const principal = c.get('principal');
    if (principal.kind !== 'sessions') return json(c, changes);
    const processes = [];
    for (const entry of changes.processes) {
      const record = await registry.getProcess(entry.processId);
      if (record && (await canSee(registry, principal, record))) processes.push(entry);
    }
    return json(c, { ...changes, processes });
  });
};
