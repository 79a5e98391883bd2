import fc from 'fast-check';
import { expect } from 'vitest';
import { journaledCodes } from '../../src/domain/refusal.ts';
import { openRegistry, type ProcessLease, type ProcessRegistry } from '../../src/index.ts';
import { MemoryEventStore } from '../../src/store/memory.ts';
import { registration } from '../conformance/fixtures.ts';
import { sharedView } from './harness.ts';

/**
 * Random command sequences for the read-model properties (fast-check): three processes,
 * two sessions, every kind of command, and a clock that ticks. Rule violations are
 * expected outcomes (`domainCodes`); anything else fails a run.
 */

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

export const command: fc.Arbitrary<Command> = fc.oneof(
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
export const run = async (
  registry: ProcessRegistry,
  c: Command,
  state: { now: number; leases: ProcessLease[] },
): Promise<void> => {
  switch (c.kind) {
    case 'register':
      // `c` differs in what the listing filters on (input type, owner)
      await registry.registerProcess(
        registration(
          c.id,
          c.id === 'c'
            ? {
                input: { type: 'agent.turn' },
                provenance: { ownerScope: { sessionId: 's2' }, hostProfileId: 'h' },
              }
            : {},
        ),
      );
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

/** A domain refusal (the journaled codes) or an unknown process: expected outcomes. */
export const domainCodes = new Set<string>(['not_found', ...journaledCodes]);

/**
 * A store with versioned tables answers `asOf` listings from them; a registry holding the
 * same log without versions answers by replaying it. They must agree at every position and
 * at every moment of the run's clock (`end`). Returns the number of points compared.
 */
export const compareVersionsWithReplay = async (
  registry: ProcessRegistry,
  end: number,
): Promise<number> => {
  const lines: string[] = [];
  for await (const line of registry.exportEvents()) lines.push(line);
  const log = new MemoryEventStore();
  const imported = await openRegistry(log);
  await imported.importEvents(() => lines);
  const replay = await openRegistry(sharedView(log, 'log only'));
  try {
    const scopes = [
      { sessionId: 's1' },
      { sessionId: 's2' },
      { sessionId: 's1', agentFrameId: 'f1' },
      { sessionId: 's2', agentFrameId: 'f2' },
    ];
    const views = async (view: ReturnType<ProcessRegistry['asOf']>) => ({
      all: await view.listProcesses(),
      filtered: await Promise.all(
        [
          {},
          { status: 'running' as const },
          { status: 'terminal' as const },
          { status: 'completed' as const },
          { inputType: 'agent.turn' },
          { ownerSessionId: 's2' },
          { createdFromMs: 1_010, createdToMs: 1_500 },
          { grantedSessionId: 's1' },
          { label: 'a' },
        ].map(async (filter) => {
          // two pages of one: the cursor too
          const first = await view.listProcesses(filter, { limit: 1 });
          const next = first.nextCursor
            ? await view.listProcesses(filter, { limit: 1, cursor: first.nextCursor })
            : undefined;
          return { first, next };
        }),
      ),
      running: await view.listNonTerminal(),
      grants: await Promise.all(scopes.map((scope) => view.listHandleGrants(scope))),
      leases: await view.leases(),
    });
    const points: ({ position: number } | { timeMs: number })[] = [];
    for (let position = 0; position <= lines.length + 1; position++) points.push({ position });
    for (let timeMs = 999; timeMs <= end + 1; timeMs += 7) points.push({ timeMs });
    // the replay's position n is the registry's n-th exported event's (EventStoreDB's are
    // not 1, 2, 3…, and refusals journaled in its log are not exported)
    const positions = lines.map((line) =>
      BigInt((JSON.parse(line) as { position: string }).position),
    );
    /** the registry's point for the replay's; undefined: none (its log starts at 0) */
    const source = (point: (typeof points)[number]) => {
      if ('timeMs' in point) return point;
      const n = point.position;
      if (n === 0) return positions[0] === 0n ? undefined : { position: 0n };
      const at = positions[Math.min(n, positions.length) - 1]!;
      return { position: n > positions.length ? at + 1n : at };
    };
    const json = (v: unknown) =>
      JSON.parse(
        JSON.stringify(v, (_, x: unknown) => (typeof x === 'bigint' ? String(x) : x)),
      ) as unknown;
    let compared = 0;
    for (const point of points) {
      const own = source(point);
      if (!own) continue;
      compared++;
      expect(json(await views(registry.asOf(own))), JSON.stringify(point)).toEqual(
        json(await views(replay.asOf(point))),
      );
    }
    return compared;
  } finally {
    await replay.close();
    await imported.close();
  }
};
