import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry, type ProcessLease, type ProcessRegistry } from '../src/index.ts';
import { registration } from './conformance/fixtures.ts';

/**
 * Property: whatever commands run, the read models a SQLite store persisted inline equal a
 * fresh rebuild of its log in memory (verifyProjections compares every row), and so do the
 * models of a second instance that only followed the file.
 */

const RUNS = Number(process.env.PROCREG_SOAK ? 500 : 40);

const processIds = ['a', 'b', 'c'] as const;
const sessions = ['s1', 's2'] as const;
const pid = fc.constantFrom(...processIds);
const scope = fc.record(
  { sessionId: fc.constantFrom(...sessions), agentFrameId: fc.constantFrom('f1', 'f2') },
  { requiredKeys: ['sessionId'] },
);

type Command =
  | { kind: 'register'; id: string }
  | { kind: 'grant'; id: string; scope: { sessionId: string; agentFrameId?: string } }
  | { kind: 'revoke'; id: string; scope: { sessionId: string; agentFrameId?: string } }
  | { kind: 'transfer'; ids: string[]; from: string; to: string }
  | { kind: 'append'; id: string; wake: boolean; replayKey?: string; text: string }
  | { kind: 'ack'; id: string; sequence: number }
  | { kind: 'claim'; id: string; owner: string; ttl: number }
  | { kind: 'renew'; ttl: number }
  | { kind: 'release' }
  | { kind: 'reclaim'; owner: string; ttl: number }
  | { kind: 'completeWithLease' }
  | { kind: 'complete'; id: string; outcome: 'success' | 'cancelled' }
  | { kind: 'deleteSession'; sessionId: string }
  | { kind: 'tick'; ms: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant('register' as const), id: pid }),
  fc.record({ kind: fc.constant('grant' as const), id: pid, scope }),
  fc.record({ kind: fc.constant('revoke' as const), id: pid, scope }),
  fc.record({
    kind: fc.constant('transfer' as const),
    ids: fc.uniqueArray(pid, { minLength: 1, maxLength: 3 }),
    from: fc.constantFrom(...sessions),
    to: fc.constantFrom(...sessions),
  }),
  fc.record(
    {
      kind: fc.constant('append' as const),
      id: pid,
      wake: fc.boolean(),
      replayKey: fc.constantFrom('k1', 'k2'),
      text: fc.constantFrom('x', 'y'),
    },
    { requiredKeys: ['kind', 'id', 'wake', 'text'] },
  ),
  fc.record({
    kind: fc.constant('ack' as const),
    id: pid,
    sequence: fc.integer({ min: 1, max: 6 }),
  }),
  fc.record({
    kind: fc.constant('claim' as const),
    id: pid,
    owner: fc.constantFrom('w1', 'w2'),
    ttl: fc.integer({ min: 1, max: 50 }),
  }),
  fc.record({ kind: fc.constant('renew' as const), ttl: fc.integer({ min: 1, max: 50 }) }),
  fc.record({ kind: fc.constant('release' as const) }),
  fc.record({
    kind: fc.constant('reclaim' as const),
    owner: fc.constantFrom('w1', 'w3'),
    ttl: fc.integer({ min: 1, max: 50 }),
  }),
  fc.record({ kind: fc.constant('completeWithLease' as const) }),
  fc.record({
    kind: fc.constant('complete' as const),
    id: pid,
    outcome: fc.constantFrom('success' as const, 'cancelled' as const),
  }),
  fc.record({
    kind: fc.constant('deleteSession' as const),
    sessionId: fc.constantFrom(...sessions),
  }),
  fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 100 }) }),
);

/** Runs one command; rule violations are expected outcomes, anything else fails the run. */
const run = async (
  registry: ProcessRegistry,
  c: Command,
  state: { now: number; leases: ProcessLease[] },
): Promise<void> => {
  switch (c.kind) {
    case 'register':
      await registry.registerProcess(registration(c.id));
      return;
    case 'grant':
      await registry.grantHandle(c.scope, c.id, { label: c.id });
      return;
    case 'revoke':
      await registry.revokeHandle(c.scope, c.id);
      return;
    case 'transfer':
      await registry.transferHandleGrants({ sessionId: c.from }, { sessionId: c.to }, c.ids);
      return;
    case 'append':
      await registry.appendEvent(c.id, {
        eventType: c.wake ? 'producer.wake' : 'producer.line',
        payload: { text: c.text },
        ...(c.replayKey ? { replayKey: c.replayKey } : {}),
        ...(c.wake ? { wakeTargetScope: { sessionId: 's1' } } : {}),
      });
      return;
    case 'ack':
      await registry.ackWake(c.id, c.sequence);
      return;
    case 'claim':
      state.leases.push(await registry.claimProcessLease(c.id, c.owner, c.ttl));
      return;
    case 'renew': {
      const lease = state.leases.at(-1);
      if (lease) state.leases.push(await registry.renewProcessLease(lease, c.ttl));
      return;
    }
    case 'release': {
      const lease = state.leases.pop();
      if (lease)
        await registry.completeProcessLease({
          processId: lease.processId,
          leaseToken: lease.leaseToken,
        });
      return;
    }
    case 'reclaim': {
      const lease = state.leases.at(-1);
      if (lease) {
        const reclaim = { owner: c.owner, observedLeaseToken: lease.leaseToken, ttlMs: c.ttl };
        state.leases.push(await registry.reclaimProcessLease(lease.processId, reclaim));
      }
      return;
    }
    case 'completeWithLease': {
      const lease = state.leases.at(-1);
      if (lease) await registry.completeProcessWithLease(lease, { type: 'success', value: 2 });
      return;
    }
    case 'complete':
      await registry.completeProcess(
        c.id,
        c.outcome === 'success'
          ? { type: 'success', value: 1 }
          : { type: 'cancelled', message: 'stop' },
      );
      return;
    case 'deleteSession':
      await registry.deleteSessionProcessState(c.sessionId);
      return;
    case 'tick':
      state.now += c.ms;
      return;
  }
};

const domainCodes = new Set([
  'not_found',
  'conflict',
  'already_terminal',
  'lease_held',
  'lease_lost',
  'not_granted',
]);

/**
 * The SQLite store answers `asOf` listings from its versioned tables; a memory registry
 * holding the same log answers them by replaying it. They must agree at every position
 * and at every moment of the run's clock.
 */
const compareVersionsWithReplay = async (registry: ProcessRegistry, end: number) => {
  const lines: string[] = [];
  for await (const line of registry.exportEvents()) lines.push(line);
  const replay = await openRegistry('memory:');
  try {
    await replay.importEvents(() => lines);
    const scopes = [
      { sessionId: 's1' },
      { sessionId: 's2' },
      { sessionId: 's1', agentFrameId: 'f1' },
      { sessionId: 's2', agentFrameId: 'f2' },
    ];
    const views = async (view: ReturnType<ProcessRegistry['asOf']>) => ({
      all: await view.listProcesses(),
      running: await view.listNonTerminal(),
      grants: await Promise.all(scopes.map((scope) => view.listHandleGrants(scope))),
    });
    const points: ({ position: number } | { timeMs: number })[] = [];
    for (let position = 0; position <= lines.length + 1; position++) points.push({ position });
    for (let timeMs = 999; timeMs <= end + 1; timeMs += 7) points.push({ timeMs });
    for (const point of points) {
      const json = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
      expect(json(await views(registry.asOf(point))), JSON.stringify(point)).toEqual(
        json(await views(replay.asOf(point))),
      );
    }
    versionChecks += points.length;
  } finally {
    await replay.close();
  }
};
let versionChecks = 0;

/** countEvents and recentEvents (read by index) agree with the full list of events. */
const compareCountsWithEvents = async (registry: ProcessRegistry) => {
  const types = ['producer.line', 'producer.wake', 'process.completed', 'process.cancelled'];
  for (const { id } of (await registry.listProcesses({}, { limit: 1000 })).records) {
    const events = await registry.eventsAfter(id, 0);
    for (const upToSequence of [0, 1, 3, 100]) {
      const upTo = events.filter((e) => e.sequence <= upToSequence);
      expect(await registry.countEvents(id, { upToSequence })).toBe(upTo.length);
      for (const eventType of types) {
        const count = await registry.countEvents(id, { eventType, upToSequence });
        expect(count, `${id} ${eventType} ≤ ${upToSequence}`).toBe(
          upTo.filter((e) => e.eventType === eventType).length,
        );
      }
    }
    for (const limit of [1, 2, 5]) {
      expect(await registry.recentEvents(id, limit)).toEqual(events.slice(-limit));
    }
  }
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'procreg-prop-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('persisted read models (property, fast-check)', () => {
  it(`equal a fresh rebuild of the log after any command sequence (${RUNS} runs)`, async () => {
    let file = 0;
    let commands = 0;
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 10, maxLength: 60 }), async (sequence) => {
        const url = `sqlite:${join(dir, `p${file++}.db`)}`;
        const state = { now: 1_000, leases: [] as ProcessLease[] };
        const registry = await openRegistry(url, { clock: () => state.now });
        const follower = await openRegistry(url, { clock: () => state.now });
        try {
          // most commands need a registered process: register two of the three up front
          await registry.registerProcess(registration('a'));
          await registry.registerProcess(registration('b'));
          for (const c of sequence) {
            commands++;
            await run(registry, c, state).then(
              () => accepted++,
              (error: { code?: string }) => {
                if (!domainCodes.has(error.code ?? '')) throw error;
              },
            );
          }
          expect(await registry.verifyProjections()).toEqual([]);
          await compareCountsWithEvents(follower);
          expect(await follower.verifyProjections()).toEqual([]);
          expect(await follower.listProcesses()).toEqual(await registry.listProcesses());
          await compareVersionsWithReplay(registry, state.now);
        } finally {
          await follower.close();
          await registry.close();
        }
      }),
      { numRuns: RUNS, seed: Number(process.env.PROCREG_SEED ?? 20261127) },
    );
    console.log(
      `read-model property: ${RUNS} sequences, ${commands} commands (${accepted} accepted), ${versionChecks} asOf points versions = replay, 0 differences`,
    );
    expect(accepted).toBeGreaterThan(commands / 3);
  }, 240_000);
});
