import type { Hono } from 'hono';
import { z } from 'zod';
import type { RecordedDomainEvent } from '../domain/codec.ts';
import { PruneOptionsSchema } from '../domain/retention.ts';
import { requireAdmin } from './access.ts';
import { wireErrorOf } from './errors.ts';
import type { SseHub } from './sse.ts';
import { type Env, json, pathParam, readBodyText, readJson, stringify } from './wire.ts';

const ArchiveBodySchema = z.strictObject({ dir: z.string().min(1) });

/** A position on the wire (decimal text); anything else the registry refuses as `invalid`. */
const positionOf = (value: unknown): bigint | number =>
  typeof value === 'string' && /^\d+$/.test(value) ? BigInt(value) : Number.NaN;

/** An import may be large; it is held once in memory (the registry reads it twice). */
const MAX_IMPORT_BYTES = 512 * 1024 * 1024;

/**
 * A long operation's response: NDJSON `{"progress":…}` lines while it runs, then one
 * `{"result":…}` or `{"error":{code,message}}` line. The status is 200 once progress
 * started; the last line says how it ended.
 */
const progressResponse = <P, R>(
  run: (onProgress: (progress: P) => void) => Promise<R>,
): Response => {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const line = (value: unknown) => controller.enqueue(encoder.encode(`${stringify(value)}\n`));
      run((progress) => line({ progress })).then(
        (result) => {
          line({ result });
          controller.close();
        },
        (error: unknown) => {
          line({ error: wireErrorOf(error).body.error });
          controller.close();
        },
      );
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'application/x-ndjson' } });
};

/** Whole-log operations: admin tokens only (they see every process). */
export const adminRoutes = (app: Hono<Env>, hub: SseHub): void => {
  app.get('/export', async (c) => {
    c.set('operation', 'exportEvents');
    requireAdmin(c.get('principal'), 'exporting the log');
    const lines = c.get('registry').exportEvents();
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        let next: IteratorResult<string>;
        try {
          next = await lines.next();
        } catch (error) {
          // the status is sent: a failure met on the way is the stream's last line
          controller.enqueue(encoder.encode(`${stringify(wireErrorOf(error).body)}\n`));
          controller.close();
          return;
        }
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      },
      async cancel() {
        await lines.return(undefined);
      },
    });
    return c.body(body, 200, { 'content-type': 'application/x-ndjson' });
  });

  app.post('/import', async (c) => {
    c.set('operation', 'importEvents');
    requireAdmin(c.get('principal'), 'importing a log');
    const text = await readBodyText(c, MAX_IMPORT_BYTES);
    const lines = text.split('\n').filter((line) => line.trim() !== '');
    const registry = c.get('registry');
    return progressResponse((onProgress) => registry.importEvents(() => lines, onProgress));
  });

  // retention: the archive is a directory on the service's machine
  app.post('/prune', async (c) => {
    c.set('operation', 'pruneTerminalProcesses');
    requireAdmin(c.get('principal'), 'pruning processes');
    const options = await readJson(c, PruneOptionsSchema, 'prune options');
    const registry = c.get('registry');
    return progressResponse((onProgress) => registry.pruneTerminalProcesses(options, onProgress));
  });

  app.post('/import-archive', async (c) => {
    c.set('operation', 'importArchive');
    requireAdmin(c.get('principal'), 'restoring an archive');
    const { dir } = await readJson(c, ArchiveBodySchema, 'archive');
    const registry = c.get('registry');
    return progressResponse((onProgress) => registry.importArchive(dir, onProgress));
  });

  app.get('/pruned/:id', async (c) => {
    c.set('operation', 'prunedProcess');
    requireAdmin(c.get('principal'), 'reading prune records');
    return json(c, { pruned: (await c.get('registry').prunedProcess(pathParam(c, 'id'))) ?? null });
  });

  app.post('/verify', async (c) => {
    c.set('operation', 'verifyProjections');
    requireAdmin(c.get('principal'), 'verifying the read models');
    const registry = c.get('registry');
    return progressResponse((onProgress) => registry.verifyProjections(onProgress));
  });

  app.post('/verify/integrity', async (c) => {
    c.set('operation', 'verifyIntegrity');
    requireAdmin(c.get('principal'), 'verifying the log');
    const text = await readBodyText(c, 4096);
    const body = text.trim() === '' ? {} : (JSON.parse(text) as { against?: unknown });
    const against = body.against as { digest: string; position: string } | undefined;
    const registry = c.get('registry');
    return progressResponse((onProgress) =>
      registry.verifyIntegrity({
        ...(against
          ? { against: { digest: against.digest, position: positionOf(against.position) } }
          : {}),
        onProgress,
      }),
    );
  });

  app.get('/digest', async (c) => {
    c.set('operation', 'digest');
    requireAdmin(c.get('principal'), 'reading the log digest');
    return json(c, await c.get('registry').digest());
  });

  app.post('/rebuild', async (c) => {
    c.set('operation', 'rebuildProjections');
    requireAdmin(c.get('principal'), 'rebuilding the read models');
    const registry = c.get('registry');
    return progressResponse(async (onProgress) => {
      await registry.rebuildProjections(onProgress);
      return null;
    });
  });

  app.get('/feed', async (c) => {
    c.set('operation', 'applied$');
    requireAdmin(c.get('principal'), 'following every domain event');
    const registry = c.get('registry');
    return hub.respond(c, (sender) => {
      const subscription = registry.applied$.subscribe({
        next: (recorded: RecordedDomainEvent) =>
          sender.send({
            event: 'applied',
            id: String(recorded.position),
            data: stringify(recorded),
          }),
        error: (error: unknown) => {
          sender.send({ event: 'error', data: stringify(wireErrorOf(error).body.error) });
          sender.close();
        },
      });
      return () => subscription.unsubscribe();
    });
  });
};
