import { expect, it } from 'vitest';
import type { ProcessAwaitOutput } from '../../src/index.ts';
import type { ConformanceContext } from '../support/harness.ts';
import { expectRejectedWithoutWrite, registration } from './fixtures.ts';

const done: ProcessAwaitOutput = { type: 'success', value: { rows: 3 } };

/** completeProcessWithLease (fenced completion) and reclaimProcessLease (CAS takeover). */
export const leaseTakeoverRules = (ctx: ConformanceContext): void => {
  const setUp = () => ctx.registry.registerProcess(registration('p1'));
  const reclaimP1 = (owner: string, observedLeaseToken: string, ttlMs: number) =>
    ctx.registry.reclaimProcessLease('p1', { owner, observedLeaseToken, ttlMs });

  it('completes and releases the held lease in one write', async () => {
    await setUp();
    const lease = await ctx.registry.claimProcessLease('p1', 'w1', 1000);
    const before = (await ctx.log()).length;
    ctx.clock.advance(10);
    const record = await ctx.registry.completeProcessWithLease(lease, done);
    expect(record.status).toEqual({ state: 'completed', awaitOutput: done });
    expect(record.updatedAtMs).toBe(ctx.clock.now);
    expect(await ctx.registry.getProcess('p1')).toEqual(record);
    expect(await ctx.registry.getProcessLease('p1')).toBeUndefined();
    expect(await ctx.registry.awaitProcess('p1')).toEqual(done);
    const written = (await ctx.registry.history('p1')).slice(-2);
    expect((await ctx.log()).length).toBe(before + 2);
    expect(written.map((h) => h.type)).toEqual(['ProcessEventAppended', 'LeaseReleased']);
    // one command, one append: the same command id, consecutive revisions
    expect(written.map((h) => h.metadata.command)).toEqual([
      'completeProcessWithLease',
      'completeProcessWithLease',
    ]);
    expect(written[1]!.metadata.commandId).toBe(written[0]!.metadata.commandId);
    expect(written[1]!.revision).toBe(written[0]!.revision + 1);
    // nothing between them in the global log
    const ids = (await ctx.log()).map((e) => e.id);
    expect(ids.indexOf(written[1]!.eventId)).toBe(ids.indexOf(written[0]!.eventId) + 1);
    // terminal now: no one can lease it again
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.claimProcessLease('p1', 'w2', 1000),
      'already_terminal',
    );
  });

  it('refuses a fenced completion with an expired, superseded, released or forged lease, writing nothing', async () => {
    await setUp();
    const first = await ctx.registry.claimProcessLease('p1', 'w1', 100);
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.completeProcessWithLease({ ...first, leaseToken: 'forged' }, done),
      'lease_lost',
      'missing or expired',
    );
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.completeProcessWithLease({ ...first, ownerId: 'w9' }, done),
      'lease_lost',
    );
    ctx.clock.advance(100); // expired, and no one else holds it yet
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.completeProcessWithLease(first, done),
      'lease_lost',
    );
    const second = await ctx.registry.claimProcessLease('p1', 'w2', 100);
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.completeProcessWithLease(first, done),
      'lease_lost',
    );
    await ctx.registry.completeProcessLease({ processId: 'p1', leaseToken: second.leaseToken });
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.completeProcessWithLease(second, done),
      'lease_lost',
    );
    expect((await ctx.registry.getProcess('p1'))?.status).toEqual({ state: 'running' });
  });

  it('applies completion’s own rules under a held lease: a stored outcome is a replay, another is refused', async () => {
    await setUp();
    const lease = await ctx.registry.claimProcessLease('p1', 'w1', 1000);
    await ctx.registry.completeProcess('p1', done); // not fenced: someone else finished it
    await expectRejectedWithoutWrite(
      ctx,
      () =>
        ctx.registry.completeProcessWithLease(lease, {
          type: 'failure',
          class: 'execution',
          code: 'late',
          message: 'too late',
        }),
      'already_terminal',
    );
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.completeProcessWithLease(lease, { type: 'success', value: 'other' }),
      'conflict',
    );
    const before = (await ctx.log()).length;
    const record = await ctx.registry.completeProcessWithLease(lease, done);
    expect(record.status).toEqual({ state: 'completed', awaitOutput: done });
    // the terminal event was there: only the release is written
    expect((await ctx.log()).length).toBe(before + 1);
    expect(await ctx.registry.getProcessLease('p1')).toBeUndefined();
  });

  it('refuses a repeated fenced completion after success with lease_lost, writing nothing', async () => {
    await setUp();
    const lease = await ctx.registry.claimProcessLease('p1', 'w1', 1000);
    const record = await ctx.registry.completeProcessWithLease(lease, done);
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.completeProcessWithLease(lease, done),
      'lease_lost',
    );
    expect(await ctx.registry.getProcess('p1')).toEqual(record);
  });

  it('refuses a fenced completion under an expired lease even when no one else claimed, so the process stays claimable', async () => {
    await setUp();
    const lease = await ctx.registry.claimProcessLease('p1', 'w1', 100);
    ctx.clock.advance(101);
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.completeProcessWithLease(lease, done),
      'lease_lost',
      'missing or expired',
    );
    const next = await ctx.registry.claimProcessLease('p1', 'w2', 100);
    expect(next.fencingToken).toBe(lease.fencingToken + 1);
  });

  it('refuses bad fenced-completion input and unknown processes, writing nothing', async () => {
    await setUp();
    const lease = await ctx.registry.claimProcessLease('p1', 'w1', 1000);
    const ghost = { ...lease, processId: 'ghost' };
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.completeProcessWithLease(ghost, done),
      'not_found',
    );
    const bad: unknown[] = [
      [{ ...lease, fencingToken: -1 }, done],
      [{ ...lease, extra: 1 }, done],
      [lease, { type: 'success' }],
      [lease, { type: 'maybe', value: 1 }],
      [undefined, done],
    ];
    for (const [l, output] of bad as [never, never][]) {
      await expectRejectedWithoutWrite(
        ctx,
        () => ctx.registry.completeProcessWithLease(l, output),
        'invalid',
      );
    }
  });

  it('reclaims a dead holder’s live lease with its observed token: a new owner and a higher fencing token', async () => {
    await setUp();
    const dead = await ctx.registry.claimProcessLease('p1', 'w1', 60_000);
    ctx.clock.advance(5);
    const taken = await reclaimP1('w2', dead.leaseToken, 1000);
    expect(taken).toEqual({
      schemaVersion: 1,
      processId: 'p1',
      ownerId: 'w2',
      leaseToken: expect.any(String),
      fencingToken: dead.fencingToken + 1,
      claimedAtMs: ctx.clock.now,
      expiresAtMs: ctx.clock.now + 1000,
    });
    expect(taken.leaseToken).not.toBe(dead.leaseToken);
    expect(taken.leaseToken.length).toBeGreaterThanOrEqual(32);
    expect(await ctx.registry.getProcessLease('p1')).toEqual(taken);
    // the old holder is fenced out of everything its lease allowed
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.renewProcessLease(dead, 1000),
      'lease_lost',
    );
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.completeProcessWithLease(dead, done),
      'lease_lost',
    );
    const [last] = (await ctx.registry.history('p1')).slice(-1);
    expect(last).toMatchObject({
      type: 'LeaseClaimed',
      metadata: { command: 'reclaimProcessLease' },
    });
    // and the new holder can finish
    await ctx.registry.completeProcessWithLease(taken, done);
  });

  it('refuses a reclaim whose observed lease is no longer the stored one, naming the holder', async () => {
    await setUp();
    const dead = await ctx.registry.claimProcessLease('p1', 'w1', 60_000);
    const winner = await reclaimP1('w2', dead.leaseToken, 60_000);
    await expectRejectedWithoutWrite(
      ctx,
      () => reclaimP1('w3', dead.leaseToken, 60_000),
      'lease_held',
      `already leased by \`w2\` until ${winner.expiresAtMs}`,
    );
    expect(await ctx.registry.getProcessLease('p1')).toEqual(winner);
  });

  it('reclaims a renewed lease (a renewal keeps the token) but not one its holder re-claimed', async () => {
    await setUp();
    const held = await ctx.registry.claimProcessLease('p1', 'w1', 60_000);
    ctx.clock.advance(10);
    const renewed = await ctx.registry.renewProcessLease(held, 60_000);
    const taken = await reclaimP1('w2', held.leaseToken, 1000);
    expect(taken).toMatchObject({ ownerId: 'w2', fencingToken: renewed.fencingToken + 1 });

    await ctx.registry.registerProcess(registration('p2'));
    const observed = await ctx.registry.claimProcessLease('p2', 'w1', 60_000);
    const reclaimed = await ctx.registry.claimProcessLease('p2', 'w1', 60_000);
    await expectRejectedWithoutWrite(
      ctx,
      () =>
        ctx.registry.reclaimProcessLease('p2', {
          owner: 'w2',
          observedLeaseToken: observed.leaseToken,
          ttlMs: 1000,
        }),
      'lease_held',
      `already leased by \`w1\` until ${reclaimed.expiresAtMs} (fencing token ${reclaimed.fencingToken}), not under the lease observed`,
    );
    expect(await ctx.registry.getProcessLease('p2')).toEqual(reclaimed);
  });

  it('treats a reclaim of a process never leased as a claim', async () => {
    await setUp();
    const lease = await reclaimP1('w2', 'never-issued', 500);
    expect(lease).toMatchObject({
      ownerId: 'w2',
      fencingToken: 1,
      claimedAtMs: ctx.clock.now,
      expiresAtMs: ctx.clock.now + 500,
    });
    expect(await ctx.registry.getProcessLease('p1')).toEqual(lease);
  });

  it('reclaims an expired observed lease, and one already released, as a claim would', async () => {
    await setUp();
    const dead = await ctx.registry.claimProcessLease('p1', 'w1', 100);
    ctx.clock.advance(100);
    const second = await reclaimP1('w2', dead.leaseToken, 100);
    expect(second.fencingToken).toBe(2);
    await ctx.registry.completeProcessLease({ processId: 'p1', leaseToken: second.leaseToken });
    const third = await reclaimP1('w3', second.leaseToken, 100);
    expect(third).toMatchObject({ ownerId: 'w3', fencingToken: 3 });
  });

  it('refuses reclaims of unknown or terminal processes and bad reclaim input, writing nothing', async () => {
    const options = { owner: 'w2', observedLeaseToken: 'tok', ttlMs: 10 };
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.reclaimProcessLease('ghost', options),
      'not_found',
    );
    await setUp();
    const bad: unknown[] = [
      { ...options, owner: ' ' },
      { ...options, observedLeaseToken: '' },
      { ...options, ttlMs: -1 },
      { ...options, ttlMs: 1.5 },
      { ...options, extra: true },
      { owner: 'w2', ttlMs: 10 },
      undefined,
    ];
    for (const reclaim of bad) {
      await expectRejectedWithoutWrite(
        ctx,
        () => ctx.registry.reclaimProcessLease('p1', reclaim as never),
        'invalid',
      );
    }
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.reclaimProcessLease(' ', options),
      'invalid',
    );
    await ctx.registry.completeProcess('p1', done);
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.reclaimProcessLease('p1', options),
      'already_terminal',
    );
  });

  it('lets exactly one of two instances reclaiming the same observed lease win', async () => {
    const other = await ctx.open();
    for (let round = 0; round < 5; round++) {
      const id = `race-${round}`;
      await ctx.registry.registerProcess(registration(id));
      const dead = await ctx.registry.claimProcessLease(id, 'dead', 60_000);
      const reclaim = (registry: typeof other, owner: string) =>
        registry.reclaimProcessLease(id, {
          owner,
          observedLeaseToken: dead.leaseToken,
          ttlMs: 60_000,
        });
      const outcomes = await Promise.allSettled([
        reclaim(ctx.registry, 'a'),
        reclaim(other, 'b'),
        reclaim(ctx.registry, 'c'),
        reclaim(other, 'd'),
      ]);
      const won = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      expect(won, `round ${round}`).toHaveLength(1);
      for (const o of outcomes) {
        if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'lease_held' });
      }
      expect(won[0]!.fencingToken).toBe(dead.fencingToken + 1);
      expect(await other.getProcessLease(id)).toEqual(won[0]);
      expect(await ctx.registry.getProcessLease(id)).toEqual(won[0]);
    }
  });
};
