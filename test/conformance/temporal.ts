import { expect, it } from 'vitest';
import { openRegistry, type ProcessRegistry } from '../../src/index.ts';
import type { ConformanceContext } from '../support/harness.ts';
import { registration } from './fixtures.ts';

const alice = { sessionId: 'alice' };
const bob = { sessionId: 'bob' };

/** The read-side surface the live registry and an `asOf` view share. */
type ReadSide = Pick<
  ProcessRegistry,
  | 'getProcess'
  | 'eventsAfter'
  | 'listHandleGrants'
  | 'handleGrantsForProcess'
  | 'listNonTerminal'
  | 'listProcesses'
  | 'getProcessLease'
>;

/** Every view, for every process and scope of the seeded life; errors become their code. */
const snapshot = async (view: ReadSide) => {
  const settle = <T>(p: Promise<T>) => p.catch((e: { code?: string }) => ({ error: e.code }));
  const perProcess = async (id: string) => ({
    record: await settle(view.getProcess(id)),
    events: await settle(view.eventsAfter(id, 0)),
    lastEvent: await settle(view.eventsAfter(id, 1)),
    grants: await settle(view.handleGrantsForProcess(id)),
    lease: await settle(view.getProcessLease(id)),
  });
  return {
    p1: await perProcess('p1'),
    other: await perProcess('other'),
    alice: await view.listHandleGrants(alice),
    bob: await view.listHandleGrants(bob),
    nonTerminal: await view.listNonTerminal(),
    all: await view.listProcesses().then((page) => page.records),
  };
};

/**
 * A life with a moment for every kind of change, 1 s apart on the clock, capturing what the
 * live registry answered at each: t0 nothing, t1 registered + granted to alice, t2 two
 * events + a lease (ttl 1.5 s), t3 grant moved to bob, t4 lease expired (nothing written),
 * t5 completed.
 */
const seedLife = async (ctx: ConformanceContext) => {
  const r = ctx.registry;
  const t0 = ctx.clock.now;
  const seen: Awaited<ReturnType<typeof snapshot>>[] = [await snapshot(r)];
  ctx.clock.advance(1000);
  await r.registerProcess(registration('p1'));
  await r.registerProcess(registration('other'));
  await r.grantHandle(alice, 'p1', { label: 'mine' });
  seen.push(await snapshot(r));
  ctx.clock.advance(1000);
  await r.appendEvent('p1', { eventType: 'producer.line', payload: { text: 'one' } });
  await r.appendEvent('p1', { eventType: 'producer.line', payload: { text: 'two' } });
  const lease = await r.claimProcessLease('p1', 'worker', 1500);
  seen.push(await snapshot(r));
  ctx.clock.advance(1000);
  await r.transferHandleGrants(alice, bob, ['p1']);
  seen.push(await snapshot(r));
  ctx.clock.advance(1000);
  seen.push(await snapshot(r));
  ctx.clock.advance(1000);
  await r.completeProcess('p1', { type: 'success', value: 'done' });
  seen.push(await snapshot(r));
  return { t: (n: number) => t0 + n * 1000, lease, seen };
};

/** The seeded life's export lines, and a registry on a fresh, empty store of the same backend. */
const intoFreshStore = async (
  ctx: ConformanceContext,
  use: (lines: string[], imported: ProcessRegistry) => Promise<void>,
): Promise<void> => {
  await seedLife(ctx);
  const lines: string[] = [];
  for await (const line of ctx.registry.exportEvents()) lines.push(line);
  const target = await ctx.backend.harness();
  const imported = await openRegistry(await target.connect(), { clock: ctx.clock.read });
  try {
    await use(lines, imported);
  } finally {
    await imported.close();
    await target.dispose();
  }
};

export const temporalRules = (ctx: ConformanceContext): void => {
  it('answers every view as of each point exactly as the live registry did then', async () => {
    const { t, lease, seen } = await seedLife(ctx);
    for (let n = 0; n < seen.length; n++) {
      expect(await snapshot(ctx.registry.asOf(t(n))), `as of t${n}`).toEqual(seen[n]);
    }
    // the captures themselves show the moments the seed claims
    expect(seen[0]!.p1.record).toBeUndefined();
    expect(seen[0]!.p1.events).toEqual({ error: 'not_found' });
    expect(seen[1]!.alice.map((e) => e.grant.processId)).toEqual(['p1']);
    expect(seen[2]!.p1.lease).toEqual(lease);
    expect(seen[3]!.alice).toEqual([]);
    expect(seen[3]!.bob.map((e) => e.grant.descriptor)).toEqual([{ label: 'mine' }]);
    expect((seen[4]!.p1.lease as { expiresAtMs: number }).expiresAtMs).toBeLessThanOrEqual(t(4));
    expect(seen[5]!.nonTerminal.map((r) => r.id)).toEqual(['other']);
    expect(seen[5]!.all.map((r) => r.id)).toEqual(['other', 'p1']);
    // { timeMs } is the same point as a bare number
    expect(await snapshot(ctx.registry.asOf({ timeMs: t(2) }))).toEqual(seen[2]);
  });

  it('answers as of a global position exactly as the log stood after that event', async () => {
    await seedLife(ctx);
    const history = await ctx.registry.history('p1');
    const secondLine = history.filter((h) => h.type === 'ProcessEventAppended')[1]!;
    const view = ctx.registry.asOf({ position: secondLine.position });
    expect((await view.eventsAfter('p1', 0)).map((e) => e.sequence)).toEqual([1, 2]);
    expect(await view.getProcessLease('p1')).toBeUndefined();
    expect((await view.listHandleGrants(alice)).length).toBe(1);
  });

  it('answers not_found (did not exist as of) for a process registered after the point', async () => {
    const before = ctx.clock.now;
    ctx.clock.advance(1000);
    await ctx.registry.registerProcess(registration('p1'));
    const view = ctx.registry.asOf(before);
    expect(await view.getProcess('p1')).toBeUndefined();
    for (const query of [
      () => view.eventsAfter('p1', 0),
      () => view.handleGrantsForProcess('p1'),
      () => view.getProcessLease('p1'),
      () => view.countEvents('p1'),
    ]) {
      await expect(query()).rejects.toMatchObject({
        code: 'not_found',
        message: expect.stringMatching(/`p1`.*did not exist as of/),
      });
    }
  });

  it('as of a time, stops at the first event stamped later, even when a later one is stamped earlier', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    const t = ctx.clock.now;
    // an instance whose clock runs 10 s ahead writes, then one on the shared clock
    const ahead = await ctx.open({ clock: () => t + 10_000 });
    await ahead.appendEvent('p1', { eventType: 'producer.line', payload: { text: 'ahead' } });
    ctx.clock.advance(5);
    await ctx.registry.appendEvent('p1', { eventType: 'producer.line', payload: { text: 'now' } });
    const recorded = (await ctx.registry.history('p1')).map((h) => h.recordedAtMs);
    expect(recorded).toEqual([t, t + 10_000, t + 5]);
    // at t + 5 the second event (stamped t + 10 s) is not in the view, so neither is the third
    expect(await ctx.registry.asOf(t + 5).eventsAfter('p1', 0)).toEqual([]);
    expect((await ctx.registry.asOf(t + 10_000).eventsAfter('p1', 0)).length).toBe(2);
  });

  it('changesBetween lists per process what changed between two moments', async () => {
    const { t, lease } = await seedLife(ctx);
    const whole = await ctx.registry.changesBetween(t(0), t(5));
    expect(whole.processes.map((p) => p.processId)).toEqual(['other', 'p1']);
    const p1 = whole.processes[1]!;
    expect(p1.registered).toEqual({ atMs: t(1), inputType: 'tool.exec' });
    expect(p1.events).toEqual({ first: 1, last: 3, count: 3 });
    expect(p1.terminal).toMatchObject({ state: 'completed', atMs: t(5) });
    expect(p1.grants).toEqual([
      { kind: 'added', scopeId: 'session:alice', atMs: t(1) },
      { kind: 'transferred', scopeId: 'session:alice', toScopeId: 'session:bob', atMs: t(3) },
    ]);
    // nobody renewed or released the lease: it expired, and the audit says when
    expect(p1.leases).toEqual([
      { kind: 'claimed', ownerId: 'worker', fencingToken: lease.fencingToken, atMs: t(2) },
      {
        kind: 'expired',
        ownerId: 'worker',
        fencingToken: lease.fencingToken,
        atMs: lease.expiresAtMs,
      },
    ]);
    expect(whole.processes[0]).toMatchObject({ processId: 'other', registered: { atMs: t(1) } });

    // a later window: the lease was claimed before it and expired inside it
    const late = await ctx.registry.changesBetween(t(3), t(5));
    expect(late.processes.map((p) => p.processId)).toEqual(['p1']);
    expect(late.processes[0]!.grants).toEqual([]);
    expect(late.processes[0]!.leases.map((l) => l.kind)).toEqual(['expired']);
    expect(late.processes[0]!.terminal?.state).toBe('completed');

    // positions give the same window as the times that end there
    const at = await ctx.registry.changesBetween(
      { position: await ctx.registry.asOf(t(0)).position() },
      { position: await ctx.registry.asOf(t(5)).position() },
    );
    expect(at.processes.map((p) => [p.processId, p.events, p.grants.length])).toEqual(
      whole.processes.map((p) => [p.processId, p.events, p.grants.length]),
    );
    expect(await ctx.registry.changesBetween(t(5), t(5))).toMatchObject({ processes: [] });
    await expect(ctx.registry.changesBetween(t(5), t(0))).rejects.toMatchObject({
      code: 'invalid',
    });
  });

  it('changesBetween reports renewals, releases, replacements, removed grants with their reason, refs and acked wakes', async () => {
    const r = ctx.registry;
    const t0 = ctx.clock.now;
    const step = () => {
      ctx.clock.advance(10);
      return ctx.clock.now;
    };
    const at: number[] = [];
    at.push(step());
    await r.registerProcess(registration('p1'));
    await r.grantHandle(alice, 'p1', {});
    at.push(step()); // 1
    await r.appendEvent('p1', {
      eventType: 'producer.wake',
      payload: { text: 'w' },
      wakeTargetScope: alice,
    });
    const first = await r.claimProcessLease('p1', 'w1', 1000);
    at.push(step()); // 2
    await r.renewProcessLease(first, 1000);
    await r.ackWake('p1', 1);
    at.push(step()); // 3
    await r.completeProcessLease({ processId: 'p1', leaseToken: first.leaseToken });
    await r.setExternalRef('p1', { backend: 'b', id: '1' });
    await r.setExternalRef('p1', { backend: 'b', id: '1' });
    at.push(step()); // 4
    await r.revokeHandle(alice, 'p1');
    await r.grantHandle(bob, 'p1', {});
    await r.deleteSessionProcessState('bob');
    // a lease replaced by its owner's re-claim ends there; the re-claim then expires unreleased
    const second = await r.claimProcessLease('p1', 'w2', 100);
    at.push(step()); // 5
    const third = await r.claimProcessLease('p1', 'w2', 100);
    ctx.clock.advance(1000);
    const { processes } = await r.changesBetween(t0, ctx.clock.now);
    expect(processes).toHaveLength(1);
    const p1 = processes[0]!;
    expect(p1.externalRefSet).toBe(2);
    expect(p1.wakesAcked).toEqual([1]);
    expect(p1.events).toEqual({ first: 1, last: 1, count: 1 });
    expect(p1.terminal).toBeUndefined();
    expect(p1.grants).toEqual([
      { kind: 'added', scopeId: 'session:alice', atMs: at[0] },
      { kind: 'removed', scopeId: 'session:alice', reason: 'revoked', atMs: at[4] },
      { kind: 'added', scopeId: 'session:bob', atMs: at[4] },
      { kind: 'removed', scopeId: 'session:bob', reason: 'session_deleted', atMs: at[4] },
    ]);
    expect(p1.leases).toEqual([
      { kind: 'claimed', ownerId: 'w1', fencingToken: first.fencingToken, atMs: at[1] },
      { kind: 'renewed', ownerId: 'w1', fencingToken: first.fencingToken, atMs: at[2] },
      { kind: 'released', ownerId: 'w1', fencingToken: first.fencingToken, atMs: at[3] },
      { kind: 'claimed', ownerId: 'w2', fencingToken: second.fencingToken, atMs: at[4] },
      { kind: 'claimed', ownerId: 'w2', fencingToken: third.fencingToken, atMs: at[5] },
      { kind: 'expired', ownerId: 'w2', fencingToken: third.fencingToken, atMs: third.expiresAtMs },
    ]);
  });

  it('filters history by time and type, and iterates it page by page', async () => {
    const { t } = await seedLife(ctx);
    const all = await ctx.registry.history('p1');
    expect(all.map((h) => h.type)).toEqual([
      'ProcessRegistered',
      'HandleGranted',
      'ProcessEventAppended',
      'ProcessEventAppended',
      'LeaseClaimed',
      'HandleTransferred',
      'ProcessEventAppended',
    ]);
    expect(all.map((h) => h.revision)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const window = await ctx.registry.history('p1', { fromMs: t(2), toMs: t(3) });
    expect(window.map((h) => h.type)).toEqual([
      'ProcessEventAppended',
      'ProcessEventAppended',
      'LeaseClaimed',
      'HandleTransferred',
    ]);
    const leases = await ctx.registry.history('p1', { types: ['LeaseClaimed'] });
    expect(leases).toHaveLength(1);
    const iterated = [];
    for await (const entry of ctx.registry.iterateHistory('p1', { pageSize: 2 }))
      iterated.push(entry);
    expect(iterated).toEqual(all);
  });

  it('reads history in pages of up to 10 000, refusing larger pages as invalid', async () => {
    await seedLife(ctx);
    const all = await ctx.registry.history('p1');
    const iterated = [];
    for await (const entry of ctx.registry.iterateHistory('p1', { pageSize: 10_000 })) {
      iterated.push(entry);
    }
    expect(iterated).toEqual(all);
    await expect(
      ctx.registry.iterateHistory('p1', { pageSize: 10_001 }).next(),
    ).rejects.toMatchObject({ code: 'invalid' });
    await expect(ctx.registry.history('p1', { pageSize: 10_001 })).rejects.toMatchObject({
      code: 'invalid',
    });
  });

  it('exports NDJSON that imports into an empty store with identical read models', async () => {
    await seedLife(ctx);
    const lines: string[] = [];
    for await (const line of ctx.registry.exportEvents()) lines.push(line);
    expect(lines.length).toBe((await ctx.log()).length);
    const first = JSON.parse(lines[0]!);
    expect(first).toMatchObject({ stream: 'process-p1', revision: 0, type: 'ProcessRegistered' });
    expect(typeof first.position).toBe('string');

    const target = await ctx.backend.harness();
    let imported: ProcessRegistry | undefined;
    try {
      imported = await openRegistry(await target.connect(), { clock: ctx.clock.read });
      const result = await imported.importEvents(() => lines);
      expect(result.imported).toBe(lines.length);
      for (const id of ['p1', 'other']) {
        expect(await imported.getProcess(id)).toEqual(await ctx.registry.getProcess(id));
        expect(await imported.eventsAfter(id, 0)).toEqual(await ctx.registry.eventsAfter(id, 0));
        expect(await imported.history(id)).toEqual(
          (await ctx.registry.history(id)).map((h) => ({ ...h, position: expect.any(BigInt) })),
        );
      }
      expect(await imported.listHandleGrants(bob)).toEqual(
        await ctx.registry.listHandleGrants(bob),
      );
      expect(await imported.verifyProjections()).toEqual([]);
      // a second import is refused: the store is no longer empty
      await expect(imported.importEvents(() => lines)).rejects.toMatchObject({ code: 'conflict' });
    } finally {
      await imported?.close();
      await target.dispose();
    }
  });

  it('exports one newline-ended line per event, in log order with ascending decimal positions', async () => {
    await seedLife(ctx);
    const lines: string[] = [];
    for await (const line of ctx.registry.exportEvents()) lines.push(line);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines)
      expect(line.endsWith('\n') && !line.slice(0, -1).includes('\n')).toBe(true);
    const parsed = lines.map((line) => JSON.parse(line) as { position: string; eventId: string });
    const positions = parsed.map((l) => BigInt(l.position));
    expect(parsed.every((l) => /^\d+$/.test(l.position))).toBe(true);
    for (let i = 1; i < positions.length; i++) expect(positions[i]! > positions[i - 1]!).toBe(true);
    expect(parsed.map((l) => l.eventId)).toEqual((await ctx.log()).map((e) => e.id));
  });

  it('refuses a source that loses a line between its two readings, writing nothing', async () => {
    await intoFreshStore(ctx, async (lines, imported) => {
      let readings = 0;
      const shrinking = () => (++readings === 1 ? lines : lines.slice(0, -1));
      await expect(imported.importEvents(shrinking)).rejects.toMatchObject({ code: 'invalid' });
      expect(await imported.exportEvents().next()).toMatchObject({ done: true });
    });
  });

  it('refuses a source whose content changes between its two readings, writing nothing', async () => {
    await intoFreshStore(ctx, async (lines, imported) => {
      let readings = 0;
      const edited = () =>
        ++readings === 1 ? lines : lines.map((l) => l.replace('"text":"one"', '"text":"uno"'));
      await expect(imported.importEvents(edited)).rejects.toMatchObject({ code: 'invalid' });
      expect(await imported.exportEvents().next()).toMatchObject({ done: true });
    });
  });

  it('refuses a longer source at the batch holding its change, keeping the 500-line batches before it', async () => {
    await ctx.registry.registerProcess(registration('big'));
    const requests = Array.from({ length: 600 }, (_, i) => ({
      eventType: 'producer.line',
      payload: { text: `line ${i}` },
    }));
    await ctx.registry.appendEvents('big', requests);
    const lines: string[] = [];
    for await (const line of ctx.registry.exportEvents()) lines.push(line);
    expect(lines.length).toBeGreaterThan(550);
    const target = await ctx.backend.harness();
    const imported = await openRegistry(await target.connect(), { clock: ctx.clock.read });
    try {
      let readings = 0;
      const edited = () =>
        ++readings === 1
          ? lines
          : lines.map((l, i) => (i === 550 ? l.replace('line ', 'LINE ') : l));
      await expect(imported.importEvents(edited)).rejects.toMatchObject({ code: 'invalid' });
      const stored: string[] = [];
      for await (const line of imported.exportEvents()) stored.push(JSON.parse(line).eventId);
      expect(stored).toEqual(lines.slice(0, 500).map((l) => JSON.parse(l).eventId));
    } finally {
      await imported.close();
      await target.dispose();
    }
  });

  it('reports import progress: every line checked, then every line written', async () => {
    await intoFreshStore(ctx, async (lines, imported) => {
      const progress: { phase: string; lines: number }[] = [];
      await imported.importEvents(
        () => lines,
        (p) => progress.push(p),
      );
      const checks = progress.filter((p) => p.phase === 'check');
      expect(checks.map((p) => p.lines)).toEqual(lines.map((_, i) => i + 1));
      expect(progress.slice(0, checks.length)).toEqual(checks);
      expect(progress.at(-1)).toEqual({ phase: 'write', lines: lines.length });
    });
  });

  it('rejects a corrupt import without writing anything', async () => {
    await intoFreshStore(ctx, async (lines, imported) => {
      const broken = [...lines.slice(0, 3), '{"not":"an event"}\n', ...lines.slice(3)];
      await expect(imported.importEvents(() => broken)).rejects.toMatchObject({
        code: 'invalid',
        message: expect.stringContaining('line 4'),
      });
      const gap = lines.filter((line) => !line.includes('"stream":"process-p1","revision":1,'));
      expect(gap.length).toBe(lines.length - 1);
      await expect(imported.importEvents(() => gap)).rejects.toMatchObject({ code: 'invalid' });
      expect(await imported.listNonTerminal()).toEqual([]);
      expect(await imported.exportEvents().next()).toMatchObject({ done: true });
    });
  });
};
