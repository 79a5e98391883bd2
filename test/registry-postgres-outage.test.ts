import { afterAll, describe, expect, it } from 'vitest';
import { openRegistry, type RegistryError } from '../src/index.ts';
import { registration } from './conformance/fixtures.ts';
import { expectPostgresModelsMatchLog } from './support/postgres-models-check.ts';
import { testPostgres } from './support/postgres-server.ts';

// A server of its own (it is crashed), with PostgreSQL's default durability settings.
const found = await testPostgres('registry-postgres-outage', { managed: true, durable: true });
const server = 'server' in found ? found.server : undefined;
afterAll(() => server?.stop());

const until = async (done: () => boolean, what: string, timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe.skipIf(!server)('registry on PostgreSQL: the server crashes', () => {
  it('keeps every acknowledged write across `pg_ctl stop -m immediate`, fails `unavailable` naming the server meanwhile, and recovers by itself', async () => {
    const { url } = server!.freshSchema();
    const hostPort = new URL(server!.url).host;
    const writer = await openRegistry(url);
    const watcher = await openRegistry(url);
    await writer.registerProcess(registration('p'));

    const acked = new Map<number, string>();
    const failures: RegistryError[] = [];
    let writing = true;
    const loop = (async () => {
      for (let i = 0; writing; i++) {
        try {
          const text = `line-${i}`;
          const { event } = await writer.appendEvent('p', {
            eventType: 'producer.line',
            payload: { text },
          });
          acked.set(event.sequence, text);
        } catch (error) {
          if ((error as RegistryError).code !== 'unavailable') throw error;
          failures.push(error as RegistryError);
          // a caller's backoff while the server is away
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    })();
    await until(() => acked.size >= 30, 'appends before the crash');
    // a waiter that only an append after the restart can satisfy
    const later = watcher.waitEventAfter('p', 'producer.line', acked.size + 1_000, {
      timeoutMs: 120_000,
    });
    later.catch(() => {});
    // the waiter reads the log before it listens: crash only once it is listening
    await until(() => watcher.diagnostics().feedSubscribers === 1, 'the waiter to listen');

    await server!.crash();
    const ackedAtCrash = acked.size;
    await until(() => failures.length >= 3, 'appends failing during the outage');
    await expect(watcher.getProcess('p')).rejects.toMatchObject({ code: 'unavailable' });
    for (const failure of failures) {
      expect(failure.message).toContain(`PostgreSQL at ${hostPort}`);
    }
    const watcherFailure = await watcher.listNonTerminal().catch((e: RegistryError) => e);
    expect((watcherFailure as RegistryError).message).toContain(`PostgreSQL at ${hostPort}`);

    await server!.restart();
    // the same registry objects carry on, no reopening
    await until(() => acked.size >= ackedAtCrash + 1_050, 'appends after the restart');
    const event = await later;
    expect(event.sequence).toBeGreaterThan(ackedAtCrash);
    writing = false;
    await loop;

    const check = await openRegistry(url);
    const stored = await check.eventsAfter('p', 0);
    // dense, and every acknowledged append is there with what it acknowledged
    expect(stored.map((e) => e.sequence)).toEqual(stored.map((_, i) => i + 1));
    for (const [sequence, text] of acked) {
      expect(stored[sequence - 1]?.payload).toEqual({ text });
    }
    expect(await watcher.eventsAfter('p', 0)).toEqual(stored);
    expect(await watcher.verifyProjections()).toEqual([]);
    expect(await check.verifyProjections()).toEqual([]);
    // the model tables in PostgreSQL committed with the events: at the head, equal to a rebuild
    await expectPostgresModelsMatchLog(url, server!.url);
    for (const registry of [writer, watcher, check]) await registry.close();
  }, 180_000);
});
