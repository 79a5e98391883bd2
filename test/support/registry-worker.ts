/**
 * A registry in its own OS process, driven by the multi-process and crash tests. Prints one
 * JSON line per acknowledged result on stdout, so the parent knows exactly what was
 * acknowledged before it killed this process.
 *
 * `<db>` is a store URL (`sqlite:…`, `postgres://…`) or a SQLite file's path.
 *
 *   append <db> <processId> <count> <tag>     appendEvent `count` times
 *   lease <db> <owner> <ids,…> <rounds>        claim/renew/release leases in a loop
 *   wait <db> <processId> <eventType> <after>  print "ready" once waiting, then the event
 *                                              (<db> may carry URL options: x.db?pollIntervalMs=N)
 *   crash <db> <processId>                     append and transfer grants until killed
 *   grant <db> <processId> <sessionId> <frame> grant the process to that session's frame
 */
import { openRegistry, type ProcessRegistry } from '../../src/index.ts';

const [mode, db, ...args] = process.argv.slice(2);
const out = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const run = async (registry: ProcessRegistry): Promise<void> => {
  switch (mode) {
    case 'append': {
      const [processId, count, tag] = args as [string, string, string];
      for (let i = 0; i < Number(count); i++) {
        const { event } = await registry.appendEvent(processId, {
          eventType: 'producer.line',
          payload: { text: `${tag}-${i}` },
        });
        out({ sequence: event.sequence });
      }
      return;
    }
    case 'lease': {
      const [owner, ids, rounds] = args as [string, string, string];
      const processIds = ids.split(',');
      for (let round = 0; round < Number(rounds); round++) {
        for (const processId of processIds) {
          try {
            const lease = await registry.claimProcessLease(processId, owner, 40);
            out({ claimed: processId, fencingToken: lease.fencingToken });
            if (round % 2 === 0) await registry.renewProcessLease(lease, 40).catch(() => undefined);
            if (round % 3 === 0) {
              await registry.completeProcessLease({ processId, leaseToken: lease.leaseToken });
            }
          } catch (error) {
            if ((error as { code?: string }).code !== 'lease_held') throw error;
          }
        }
        await sleep(Math.random() * 5);
      }
      return;
    }
    case 'wait': {
      const [processId, eventType, after] = args as [string, string, string];
      const waiting = registry.waitEventAfter(processId, eventType, Number(after), {
        timeoutMs: 20_000,
      });
      // ready once the waiter listens (it first reads the store to find the process)
      while (registry.diagnostics().openWaiters === 0) await new Promise((r) => setImmediate(r));
      out({ ready: true });
      out({ event: await waiting });
      return;
    }
    case 'grant': {
      const [processId, sessionId, agentFrameId] = args as [string, string, string];
      const grant = await registry.grantHandle({ sessionId, agentFrameId }, processId, {});
      out({ granted: grant.scopeId });
      return;
    }
    case 'crash': {
      const [processId] = args as [string];
      const scopes = [{ sessionId: 'left' }, { sessionId: 'right' }];
      // continue from wherever the previous (killed) run left the grants
      const holder = (await registry.handleGrantsForProcess(processId))[0]?.sessionId;
      for (let i = holder === 'right' ? 1 : 0; ; i++) {
        const { event } = await registry.appendEvent(processId, {
          eventType: 'producer.line',
          payload: { text: `line-${i}`, pad: 'x'.repeat((i % 7) * 100) },
        });
        out({ sequence: event.sequence });
        // a two-stream write: both grants move together or not at all
        const [from, to] = i % 2 === 0 ? scopes : [scopes[1]!, scopes[0]!];
        await registry.transferHandleGrants(from!, to!, [processId, `${processId}-twin`]);
        out({ transferredTo: to!.sessionId });
      }
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
};

// a store URL, or the path of a SQLite file
const registry = await openRegistry(/^[a-z]+:/.test(db ?? '') ? db : `sqlite:${db}`);
try {
  await run(registry);
} finally {
  await registry.close();
}
