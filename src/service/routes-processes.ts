import type { Hono } from 'hono';
import { byCodeUnits } from '../domain/order.ts';
import type { Page, ProcessFilter } from '../domain/process-list.ts';
import {
  AppendBatchSchema,
  AppendRequestSchema,
  ExternalRefSchema,
  ProcessAwaitOutputSchema,
  type ProcessRecord,
  ProcessRegistrationSchema,
} from '../domain/schemas.ts';
import { parseInput } from '../domain/validation.ts';
import { HistoryOptionsSchema } from '../queries/history.ts';
import { everyProcess } from '../queries/views.ts';
import { canSee, requireVisible, unknownProcess, visibleRecords } from './access.ts';
import { AckBodySchema } from './bodies.ts';
import { ServiceError } from './errors.ts';
import { type ReadSide, readSideOf } from './read-side.ts';
import {
  type Ctx,
  type Env,
  intQuery,
  json,
  noContent,
  pathParam,
  readJson,
  stringify,
} from './wire.ts';

/**
 * Process routes: one per registry method, each checking that the token may see the process
 * before the registry runs (a hidden process answers exactly like an unknown one).
 */
export const processRoutes = (app: Hono<Env>): void => {
  app.post('/processes', async (c) => {
    c.set('operation', 'registerProcess');
    const principal = c.get('principal');
    const parsed = await readJson(c, ProcessRegistrationSchema, 'process registration');
    let registration = parsed;
    if (principal.kind === 'sessions') {
      // A session token registers processes its own sessions own; without a provenance the
      // owner is its first session (instead of the registry's default `root`).
      const first = [...principal.sessions][0]!;
      registration = parsed.provenance
        ? parsed
        : { ...parsed, provenance: { ownerScope: { sessionId: first }, hostProfileId: 'default' } };
      const owner = registration.provenance!.ownerScope.sessionId;
      if (!principal.sessions.has(owner)) {
        throw new ServiceError(
          'unauthorized',
          `this token may not register processes owned by session \`${owner}\``,
          403,
        );
      }
      const existing = await c.get('registry').getProcess(parsed.id);
      if (existing && !(await canSee(c.get('registry'), principal, existing))) {
        throw new ServiceError(
          'conflict',
          `process id \`${parsed.id}\` is not available to this token; choose another id`,
        );
      }
    }
    return json(c, await c.get('registry').registerProcess(registration), 200);
  });

  app.get('/processes', async (c) => {
    const all = c.req.query('all') === 'true' || c.req.query('all') === '1';
    c.set('operation', all ? 'listProcesses' : 'listNonTerminal');
    const view = readSideOf(c);
    const records: ProcessRecord[] = [];
    for await (const record of everyProcess(view, all ? {} : { status: 'running' })) {
      records.push(record);
    }
    records.sort((a, b) => byCodeUnits(a.id, b.id));
    const session = c.req.query('session');
    const kept =
      session === undefined || session === '' ? records : await ofSession(view, records, session);
    return json(c, await visibleRecords(view, c.get('principal'), kept));
  });

  app.get('/process-pages', async (c) => {
    c.set('operation', 'listProcesses');
    const view = readSideOf(c);
    const { records, nextCursor } = await view.listProcesses(filterQuery(c), pageQuery(c));
    const visible = await visibleRecords(view, c.get('principal'), records);
    return json(c, { records: visible, ...(nextCursor ? { nextCursor } : {}) });
  });

  app.get('/process-changes', async (c) => {
    c.set('operation', 'processesChangedSince');
    const registry = c.get('registry');
    const cursor = c.req.query('cursor');
    const { records, nextCursor } = await registry.processesChangedSince(
      cursor === '' ? undefined : cursor,
      intQuery(c, 'limit'),
    );
    const visible = await visibleRecords(registry, c.get('principal'), records);
    return json(c, { records: visible, nextCursor });
  });

  app.get('/processes/:id', async (c) => {
    c.set('operation', 'getProcess');
    const view = readSideOf(c);
    const id = pathParam(c, 'id');
    const record = await view.getProcess(id);
    if (!record || !(await canSee(view, c.get('principal'), record))) throw unknownProcess(id);
    return json(c, record);
  });

  app.put('/processes/:id/external-ref', async (c) => {
    c.set('operation', 'setExternalRef');
    const id = pathParam(c, 'id');
    const ref = await readJson(c, ExternalRefSchema, 'external ref');
    await requireVisible(c.get('registry'), c.get('principal'), id);
    return json(c, await c.get('registry').setExternalRef(id, ref));
  });

  app.post('/processes/:id/events', async (c) => {
    c.set('operation', 'appendEvent');
    const id = pathParam(c, 'id');
    const request = await readJson(c, AppendRequestSchema, 'append request');
    await requireVisible(c.get('registry'), c.get('principal'), id);
    return json(c, await c.get('registry').appendEvent(id, request));
  });

  app.post('/processes/:id/event-batches', async (c) => {
    c.set('operation', 'appendEvents');
    const id = pathParam(c, 'id');
    const requests = await readJson(c, AppendBatchSchema, 'append requests');
    await requireVisible(c.get('registry'), c.get('principal'), id);
    return json(c, await c.get('registry').appendEvents(id, requests));
  });

  app.get('/processes/:id/wake-events', async (c) => {
    c.set('operation', 'wakeEventsAfter');
    const id = pathParam(c, 'id');
    const after = intQuery(c, 'after', 0)!;
    const view = readSideOf(c);
    await requireVisible(view, c.get('principal'), id);
    return json(c, await view.wakeEventsAfter(id, after));
  });

  app.get('/processes/:id/recent-events', async (c) => {
    c.set('operation', 'recentEvents');
    const id = pathParam(c, 'id');
    const limit = intQuery(c, 'limit');
    if (limit === undefined) {
      throw new ServiceError('invalid', 'query parameter limit (1 to 1000) is required');
    }
    const view = readSideOf(c);
    await requireVisible(view, c.get('principal'), id);
    return json(c, await view.recentEvents(id, limit));
  });

  app.get('/processes/:id/event-count', async (c) => {
    c.set('operation', 'countEvents');
    const id = pathParam(c, 'id');
    const eventType = c.req.query('eventType');
    const upToSequence = intQuery(c, 'upToSequence');
    const view = readSideOf(c);
    await requireVisible(view, c.get('principal'), id);
    const options = {
      ...(eventType === undefined ? {} : { eventType }),
      ...(upToSequence === undefined ? {} : { upToSequence }),
    };
    return json(c, { count: await view.countEvents(id, options) });
  });

  app.post('/processes/:id/wake-acks', async (c) => {
    c.set('operation', 'ackWake');
    const id = pathParam(c, 'id');
    const { sequence } = await readJson(c, AckBodySchema, 'wake ack');
    await requireVisible(c.get('registry'), c.get('principal'), id);
    await c.get('registry').ackWake(id, sequence);
    return noContent(c);
  });

  app.post('/processes/:id/completion', async (c) => {
    c.set('operation', 'completeProcess');
    const id = pathParam(c, 'id');
    const output = await readJson(c, ProcessAwaitOutputSchema, 'await output');
    await requireVisible(c.get('registry'), c.get('principal'), id);
    return json(c, await c.get('registry').completeProcess(id, output));
  });

  app.get('/processes/:id/grants', async (c) => {
    c.set('operation', 'handleGrantsForProcess');
    const view = readSideOf(c);
    const id = pathParam(c, 'id');
    await requireVisible(view, c.get('principal'), id);
    return json(c, await view.handleGrantsForProcess(id));
  });

  app.get('/processes/:id/history', async (c) => {
    c.set('operation', 'history');
    const id = pathParam(c, 'id');
    const options = historyOptions(c.req.query());
    await requireVisible(c.get('registry'), c.get('principal'), id);
    const registry = c.get('registry');
    if (!(c.req.header('accept') ?? '').includes('application/x-ndjson')) {
      return json(c, await registry.history(id, options));
    }
    // NDJSON, page by page: a long history never sits in the service's memory at once
    const entries = registry.iterateHistory(id, options);
    const first = await entries.next(); // errors surface before the 200 is sent
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        if (!first.done) controller.enqueue(encoder.encode(`${stringify(first.value)}\n`));
        else controller.close();
      },
      async pull(controller) {
        const next = await entries.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(`${stringify(next.value)}\n`));
      },
      async cancel() {
        await entries.return(undefined);
      },
    });
    return c.body(body, 200, { 'content-type': 'application/x-ndjson' });
  });
};

/** `?fromMs=&toMs=&types=A,B&pageSize=` into history options, parsed like the registry does. */
const historyOptions = (query: Record<string, string>) => {
  const options: Record<string, unknown> = {};
  for (const name of ['fromMs', 'toMs', 'pageSize']) {
    const raw = query[name];
    if (raw !== undefined && raw !== '') options[name] = Number(raw);
  }
  if (query.types) options.types = query.types.split(',');
  if (query.includeRefused !== undefined) options.includeRefused = query.includeRefused === 'true';
  return parseInput(HistoryOptionsSchema, options, 'history options');
};

/** The processes a session owns or holds a grant on. */
const ofSession = async (
  view: ReadSide,
  records: ProcessRecord[],
  session: string,
): Promise<ProcessRecord[]> => {
  const kept: ProcessRecord[] = [];
  for (const record of records) {
    if (record.provenance.ownerScope.sessionId === session) kept.push(record);
    else if ((await view.handleGrantsForProcess(record.id)).some((g) => g.sessionId === session)) {
      kept.push(record);
    }
  }
  return kept;
};

const filterTexts = ['status', 'ownerSessionId', 'grantedSessionId', 'inputType', 'label'] as const;
const filterNumbers = ['createdFromMs', 'createdToMs'] as const;

/**
 * `listProcesses`' filter from the query string, one parameter per member; the registry's
 * schema checks it (a wrong value is `invalid`, as in the library).
 */
const filterQuery = (c: Ctx): ProcessFilter => {
  const filter: Record<string, unknown> = {};
  for (const name of filterTexts) {
    const value = c.req.query(name);
    if (value !== undefined) filter[name] = value;
  }
  for (const name of filterNumbers) {
    const value = c.req.query(name);
    if (value !== undefined) filter[name] = value === '' ? Number.NaN : Number(value);
  }
  return filter as ProcessFilter;
};

const pageQuery = (c: Ctx): Page => {
  const cursor = c.req.query('cursor');
  const limit = intQuery(c, 'limit');
  return {
    ...(cursor === undefined ? {} : { cursor }),
    ...(limit === undefined ? {} : { limit }),
  };
};
