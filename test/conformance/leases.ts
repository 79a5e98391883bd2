import { expect, it } from 'vitest';
import type { ConformanceContext } from '../support/harness.ts';
import { expectNoWrite, expectRejectedWithoutWrite, registration } from './fixtures.ts';

export const leaseRules = (ctx: ConformanceContext): void => {
  const setUp = () => ctx.registry.registerProcess(registration('p1'));

  it('claims a lease with clock times, fencing token 1 and an unguessable token', async () => {
    await setUp();
    const lease = await ctx.registry.claimProcessLease('p1', 'w1', 1000);
    expect(lease).toEqual({
      schemaVersion: 1,
      processId: 'p1',
      ownerId: 'w1',
      leaseToken: expect.any(String),
      fencingToken: 1,
      claimedAtMs: ctx.clock.now,
      expiresAtMs: ctx.clock.now + 1000,
    });
    expect(lease.leaseToken.length).toBeGreaterThanOrEqual(32);
    expect(await ctx.registry.getProcessLease('p1')).toEqual(lease);
  });

  it('rejects a claim on an unknown or terminal process', async () => {
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.claimProcessLease('ghost', 'w', 10),
      'not_found',
    );
    await setUp();
    await ctx.registry.completeProcess('p1', { type: 'success', value: null });
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.claimProcessLease('p1', 'w', 10),
      'already_terminal',
    );
  });

  it('fences a live lease held by another owner', async () => {
    await setUp();
    const held = await ctx.registry.claimProcessLease('p1', 'w1', 1000);
    ctx.clock.advance(999);
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.claimProcessLease('p1', 'w2', 1000),
      'lease_held',
      `already leased by \`w1\` until ${held.expiresAtMs}`,
    );
  });

  it('lets another owner claim once the lease expired; fencing tokens keep rising', async () => {
    await setUp();
    const first = await ctx.registry.claimProcessLease('p1', 'w1', 1000);
    ctx.clock.advance(1000); // expiresAtMs > now is false: expired
    const second = await ctx.registry.claimProcessLease('p1', 'w2', 1000);
    expect(second.fencingToken).toBe(first.fencingToken + 1);
    expect(second.leaseToken).not.toBe(first.leaseToken);
    await ctx.registry.completeProcessLease({ processId: 'p1', leaseToken: second.leaseToken });
    expect(await ctx.registry.getProcessLease('p1')).toBeUndefined();
    const third = await ctx.registry.claimProcessLease('p1', 'w1', 1000);
    expect(third.fencingToken).toBe(3);
  });

  it('gives the same owner a new lease with a higher fencing token on re-claim', async () => {
    await setUp();
    const first = await ctx.registry.claimProcessLease('p1', 'w1', 1000);
    const again = await ctx.registry.claimProcessLease('p1', 'w1', 1000);
    expect(again.fencingToken).toBe(first.fencingToken + 1);
    expect(again.leaseToken).not.toBe(first.leaseToken);
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.renewProcessLease(first, 10),
      'lease_lost',
    );
  });

  it('expires a TTL 0 lease at once', async () => {
    await setUp();
    const zero = await ctx.registry.claimProcessLease('p1', 'w1', 0);
    expect(zero.expiresAtMs).toBe(zero.claimedAtMs);
    const other = await ctx.registry.claimProcessLease('p1', 'w2', 10);
    expect(other.fencingToken).toBe(2);
  });

  it('renews a live lease: only expiresAtMs changes', async () => {
    await setUp();
    const lease = await ctx.registry.claimProcessLease('p1', 'w1', 1000);
    ctx.clock.advance(500);
    const renewed = await ctx.registry.renewProcessLease(lease, 2000);
    expect(renewed).toEqual({ ...lease, expiresAtMs: ctx.clock.now + 2000 });
    expect(await ctx.registry.getProcessLease('p1')).toEqual(renewed);
    ctx.clock.advance(1500); // past the first expiry, within the renewed one
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.claimProcessLease('p1', 'w2', 10),
      'lease_held',
    );
  });

  it('refuses to renew an expired, superseded, released or forged lease', async () => {
    await setUp();
    const lease = await ctx.registry.claimProcessLease('p1', 'w1', 100);
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.renewProcessLease({ ...lease, leaseToken: 'forged' }, 100),
      'lease_lost',
      'missing or expired',
    );
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.renewProcessLease({ ...lease, fencingToken: 9 }, 100),
      'lease_lost',
    );
    ctx.clock.advance(100);
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.renewProcessLease(lease, 100),
      'lease_lost',
    );
    const next = await ctx.registry.claimProcessLease('p1', 'w2', 100);
    await ctx.registry.completeProcessLease({ processId: 'p1', leaseToken: next.leaseToken });
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.renewProcessLease(next, 100),
      'lease_lost',
    );
  });

  it('ignores a stale or repeated completion, never releasing a newer owner’s lease', async () => {
    await setUp();
    const old = await ctx.registry.claimProcessLease('p1', 'w1', 100);
    ctx.clock.advance(100);
    const current = await ctx.registry.claimProcessLease('p1', 'w2', 100);
    await expectNoWrite(ctx, () =>
      ctx.registry.completeProcessLease({ processId: 'p1', leaseToken: old.leaseToken }),
    );
    expect(await ctx.registry.getProcessLease('p1')).toEqual(current);
    await ctx.registry.completeProcessLease({ processId: 'p1', leaseToken: current.leaseToken });
    await expectNoWrite(ctx, () =>
      ctx.registry.completeProcessLease({ processId: 'p1', leaseToken: current.leaseToken }),
    );
    expect(await ctx.registry.getProcessLease('p1')).toBeUndefined();
  });

  it('releases an expired lease whose token matches, keeping the fencing token for the next claim', async () => {
    await setUp();
    const lease = await ctx.registry.claimProcessLease('p1', 'w1', 100);
    ctx.clock.advance(500);
    // the stored lease, expired, is still the one getProcessLease reports
    expect(await ctx.registry.getProcessLease('p1')).toEqual(lease);
    const before = (await ctx.log()).length;
    await ctx.registry.completeProcessLease({ processId: 'p1', leaseToken: lease.leaseToken });
    expect((await ctx.log()).length).toBe(before + 1);
    expect((await ctx.registry.history('p1')).at(-1)?.type).toBe('LeaseReleased');
    expect(await ctx.registry.getProcessLease('p1')).toBeUndefined();
    const next = await ctx.registry.claimProcessLease('p1', 'w2', 100);
    expect(next.fencingToken).toBe(lease.fencingToken + 1);
  });

  it('answers not_found for every lease call on an unknown process, writing nothing', async () => {
    await setUp();
    const lease = await ctx.registry.claimProcessLease('p1', 'w1', 1000);
    const ghost = { ...lease, processId: 'ghost' };
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.renewProcessLease(ghost, 10),
      'not_found',
      '`ghost`',
    );
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.completeProcessLease({ processId: 'ghost', leaseToken: lease.leaseToken }),
      'not_found',
      '`ghost`',
    );
    await expect(ctx.registry.getProcessLease('ghost')).rejects.toMatchObject({
      code: 'not_found',
    });
    expect(await ctx.registry.getProcessLease('p1')).toEqual(lease);
  });

  it('accepts lease TTLs from 0 to ten years in whole milliseconds and refuses the rest', async () => {
    await setUp();
    const tenYears = 10 * 365 * 24 * 3600 * 1000;
    const longest = await ctx.registry.claimProcessLease('p1', 'w1', tenYears);
    expect(longest.expiresAtMs).toBe(ctx.clock.now + tenYears);
    const renewed = await ctx.registry.renewProcessLease(longest, tenYears);
    expect(renewed.expiresAtMs).toBe(ctx.clock.now + tenYears);
    for (const ttl of [tenYears + 1, 0.5, Number.POSITIVE_INFINITY]) {
      await expectRejectedWithoutWrite(
        ctx,
        () => ctx.registry.claimProcessLease('p1', 'w1', ttl),
        'invalid',
      );
      await expectRejectedWithoutWrite(
        ctx,
        () => ctx.registry.renewProcessLease(renewed, ttl),
        'invalid',
      );
    }
    expect(await ctx.registry.getProcessLease('p1')).toEqual(renewed);
  });

  it('claims with the owner’s own lease expired as a new owner would, fenced from the old one', async () => {
    await setUp();
    const first = await ctx.registry.claimProcessLease('p1', 'w1', 100);
    ctx.clock.advance(100);
    const again = await ctx.registry.claimProcessLease('p1', 'w1', 100);
    expect(again).toMatchObject({ ownerId: 'w1', fencingToken: first.fencingToken + 1 });
    expect(again.leaseToken).not.toBe(first.leaseToken);
    // the stale token neither renews nor releases the new lease
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.renewProcessLease(first, 100),
      'lease_lost',
    );
    await expectNoWrite(ctx, () =>
      ctx.registry.completeProcessLease({ processId: 'p1', leaseToken: first.leaseToken }),
    );
    expect(await ctx.registry.getProcessLease('p1')).toEqual(again);
  });

  it('fences across instances: a lease claimed through one blocks the other', async () => {
    await setUp();
    const other = await ctx.open();
    const lease = await ctx.registry.claimProcessLease('p1', 'w1', 10_000);
    await expect(other.claimProcessLease('p1', 'w2', 10_000)).rejects.toMatchObject({
      code: 'lease_held',
    });
    const renewed = await other.renewProcessLease(lease, 20_000);
    expect(renewed.fencingToken).toBe(lease.fencingToken);
  });
};
