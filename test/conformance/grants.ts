import { expect, it } from 'vitest';
import type { ConformanceContext } from '../support/harness.ts';
import { expectNoWrite, expectRejectedWithoutWrite, registration } from './fixtures.ts';

const alice = { sessionId: 'alice' };
const aliceFrame = { sessionId: 'alice', agentFrameId: 'f1' };
const bob = { sessionId: 'bob' };

export const grantRules = (ctx: ConformanceContext): void => {
  const register = async (...ids: string[]) => {
    for (const id of ids) await ctx.registry.registerProcess(registration(id));
  };

  it('grants a handle and upserts its descriptor', async () => {
    await register('p1');
    const grant = await ctx.registry.grantHandle(alice, 'p1', { kind: 'tool', label: 'first' });
    expect(grant).toMatchObject({
      sessionId: 'alice',
      scopeId: 'session:alice',
      processId: 'p1',
      descriptor: { kind: 'tool', label: 'first' },
    });
    await ctx.registry.grantHandle(alice, 'p1', { label: 'second' });
    const grants = await ctx.registry.handleGrantsForProcess('p1');
    expect(grants).toHaveLength(1);
    expect(grants[0]?.descriptor).toEqual({ label: 'second' });
  });

  it('writes nothing when the same grant is made again', async () => {
    await register('p1');
    await ctx.registry.grantHandle(alice, 'p1', { label: 'x' });
    await expectNoWrite(ctx, () => ctx.registry.grantHandle(alice, 'p1', { label: 'x' }));
  });

  it('returns the stored grant when the same descriptor is granted again, keeping its time', async () => {
    await register('p1');
    const first = await ctx.registry.grantHandle(alice, 'p1', { kind: 'tool', label: 'x' });
    ctx.clock.advance(1000);
    const again = await expectNoWrite(ctx, () =>
      ctx.registry.grantHandle(alice, 'p1', { kind: 'tool', label: 'x' }),
    );
    expect(again).toEqual(first);
    expect(again.grantedAtMs).toBe(ctx.clock.now - 1000);
    expect(await ctx.registry.handleGrantsForProcess('p1')).toEqual([first]);
  });

  it('answers hasHandleGrant false for an unknown process instead of not_found', async () => {
    expect(await ctx.registry.hasHandleGrant(alice, 'ghost')).toBe(false);
    await register('p1');
    expect(await ctx.registry.hasHandleGrant(alice, 'p1')).toBe(false);
  });

  it('rejects a grant on an unknown process with not_found', async () => {
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.grantHandle(alice, 'ghost', {}),
      'not_found',
      'unknown process `ghost`',
    );
  });

  it('derives scope ids with the frame part only when the frame id is non-empty', async () => {
    await register('p1', 'p2');
    const framed = await ctx.registry.grantHandle(aliceFrame, 'p1', {});
    const emptyFrame = await ctx.registry.grantHandle(
      { sessionId: 'alice', agentFrameId: '' },
      'p2',
      {},
    );
    expect(framed.scopeId).toBe('session:alice/frame:f1');
    expect(emptyFrame.scopeId).toBe('session:alice');
    expect(await ctx.registry.hasHandleGrant(alice, 'p2')).toBe(true);
    expect(await ctx.registry.hasHandleGrant(alice, 'p1')).toBe(false);
    expect(await ctx.registry.hasHandleGrant(aliceFrame, 'p1')).toBe(true);
  });

  it('revokes a grant; revoking an absent grant, even of an unknown process, is a no-op', async () => {
    await register('p1');
    await ctx.registry.grantHandle(alice, 'p1', {});
    await ctx.registry.revokeHandle(alice, 'p1');
    expect(await ctx.registry.hasHandleGrant(alice, 'p1')).toBe(false);
    await expectNoWrite(ctx, () => ctx.registry.revokeHandle(alice, 'p1'));
    await expectNoWrite(ctx, () => ctx.registry.revokeHandle(alice, 'ghost'));
  });

  it('lists a scope’s grants by processId ascending, with records; live ones exclude terminal', async () => {
    await register('b', 'c', 'a');
    for (const id of ['c', 'a', 'b']) await ctx.registry.grantHandle(alice, id, { label: id });
    await ctx.registry.grantHandle(bob, 'a', {});
    await ctx.registry.completeProcess('b', { type: 'success', value: 1 });
    const listed = await ctx.registry.listHandleGrants(alice);
    expect(listed.map((e) => e.grant.processId)).toEqual(['a', 'b', 'c']);
    expect(listed.map((e) => e.record.id)).toEqual(['a', 'b', 'c']);
    expect(listed[1]?.record.status.state).toBe('completed');
    const live = await ctx.registry.listLiveHandleGrants(alice);
    expect(live.map((e) => e.grant.processId)).toEqual(['a', 'c']);
    expect(await ctx.registry.listHandleGrants({ sessionId: 'nobody' })).toEqual([]);
  });

  it('lists a scope’s grants in UTF-16 code-unit order of processId', async () => {
    const ids = ['x\uE000', 'x\u{1F600}', 'x\uFFFF', 'x'];
    await register(...ids);
    for (const id of ids) await ctx.registry.grantHandle(alice, id, {});
    const expected = ['x', 'x\u{1F600}', 'x\uE000', 'x\uFFFF'];
    expect((await ctx.registry.listHandleGrants(alice)).map((e) => e.grant.processId)).toEqual(
      expected,
    );
    expect((await ctx.registry.listLiveHandleGrants(alice)).map((e) => e.grant.processId)).toEqual(
      expected,
    );
  });

  it('lists a process’s grants by sessionId, then scope id; unknown process → not_found', async () => {
    await register('p1');
    await ctx.registry.grantHandle({ sessionId: 'zed' }, 'p1', {});
    await ctx.registry.grantHandle({ sessionId: 'alice', agentFrameId: 'b' }, 'p1', {});
    await ctx.registry.grantHandle({ sessionId: 'alice', agentFrameId: 'a' }, 'p1', {});
    await ctx.registry.grantHandle(alice, 'p1', {});
    const grants = await ctx.registry.handleGrantsForProcess('p1');
    expect(grants.map((g) => g.scopeId)).toEqual([
      'session:alice',
      'session:alice/frame:a',
      'session:alice/frame:b',
      'session:zed',
    ]);
    await expect(ctx.registry.handleGrantsForProcess('ghost')).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('never appends process events for grant changes', async () => {
    await register('p1', 'p2');
    await ctx.registry.grantHandle(alice, 'p1', {});
    await ctx.registry.transferHandleGrants(alice, bob, ['p1']);
    await ctx.registry.revokeHandle(bob, 'p1');
    await ctx.registry.deleteSessionProcessState('alice');
    expect(await ctx.registry.eventsAfter('p1', 0)).toEqual([]);
  });

  it('transfers grants keeping their descriptors', async () => {
    await register('p1', 'p2');
    await ctx.registry.grantHandle(alice, 'p1', { kind: 'k1', label: 'one' });
    await ctx.registry.grantHandle(alice, 'p2', { label: 'two' });
    await ctx.registry.transferHandleGrants(alice, aliceFrame, ['p1', 'p2']);
    expect(await ctx.registry.listHandleGrants(alice)).toEqual([]);
    const moved = await ctx.registry.listHandleGrants(aliceFrame);
    expect(moved.map((e) => [e.grant.processId, e.grant.descriptor])).toEqual([
      ['p1', { kind: 'k1', label: 'one' }],
      ['p2', { label: 'two' }],
    ]);
  });

  it('transfers all or nothing: one id not granted → not_granted, nothing moves', async () => {
    await register('p1', 'p2');
    await ctx.registry.grantHandle(alice, 'p1', {});
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.transferHandleGrants(alice, bob, ['p1', 'p2']),
      'not_granted',
      /`p2`.*is not granted to session/,
    );
    expect(await ctx.registry.hasHandleGrant(alice, 'p1')).toBe(true);
    expect(await ctx.registry.listHandleGrants(bob)).toEqual([]);
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.transferHandleGrants(alice, bob, ['ghost']),
      'not_granted',
    );
  });

  it('transfers onto a scope that already holds a grant by replacing it with the moved one', async () => {
    await register('p1');
    await ctx.registry.grantHandle(alice, 'p1', { label: 'from alice' });
    await ctx.registry.grantHandle(bob, 'p1', { kind: 'old', label: 'bob had this' });
    await ctx.registry.transferHandleGrants(alice, bob, ['p1']);
    const grants = await ctx.registry.handleGrantsForProcess('p1');
    expect(grants.map((g) => [g.scopeId, g.descriptor])).toEqual([
      ['session:bob', { label: 'from alice' }],
    ]);
    expect(await ctx.registry.hasHandleGrant(alice, 'p1')).toBe(false);
  });

  it('treats a transfer onto the same scope as a no-op, after checking every id is granted', async () => {
    await register('p1', 'p2');
    const grant = await ctx.registry.grantHandle(aliceFrame, 'p1', { label: 'keep' });
    await expectNoWrite(ctx, () =>
      ctx.registry.transferHandleGrants(aliceFrame, aliceFrame, ['p1']),
    );
    expect(await ctx.registry.handleGrantsForProcess('p1')).toEqual([grant]);
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.transferHandleGrants(aliceFrame, aliceFrame, ['p1', 'p2']),
      'not_granted',
      /`p2`/,
    );
    // a scope of the same session but another frame is another scope: not granted
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.transferHandleGrants(alice, aliceFrame, ['p1']),
      'not_granted',
    );
  });

  it('writes every grant move of one transfer under one command id, none as a process event', async () => {
    await register('p1', 'p2', 'p3');
    for (const id of ['p1', 'p2', 'p3']) await ctx.registry.grantHandle(alice, id, {});
    const before = (await ctx.log()).length;
    await ctx.registry.transferHandleGrants(alice, bob, ['p3', 'p1']);
    const written = (await ctx.log()).slice(before);
    expect(written).toHaveLength(2);
    const moves = [
      ...(await ctx.registry.history('p1')).slice(-1),
      ...(await ctx.registry.history('p3')).slice(-1),
    ];
    expect(moves.map((h) => [h.type, h.metadata.command])).toEqual([
      ['HandleTransferred', 'transferHandleGrants'],
      ['HandleTransferred', 'transferHandleGrants'],
    ]);
    expect(moves[0]!.metadata.commandId).toBe(moves[1]!.metadata.commandId);
    expect((await ctx.registry.listHandleGrants(bob)).map((e) => e.grant.processId)).toEqual([
      'p1',
      'p3',
    ]);
    expect(await ctx.registry.hasHandleGrant(alice, 'p2')).toBe(true);
  });

  it('reports the processes of a deleted session sorted and once each, whatever the grant order', async () => {
    await register('zz', 'mm', 'aa', 'kept-b', 'kept-a');
    for (const id of ['zz', 'mm', 'aa', 'kept-b', 'kept-a']) {
      await ctx.registry.grantHandle(aliceFrame, id, {});
      await ctx.registry.grantHandle(alice, id, {});
    }
    await ctx.registry.grantHandle(bob, 'kept-b', {});
    await ctx.registry.grantHandle({ sessionId: 'carol', agentFrameId: 'x' }, 'kept-a', {});
    const report = await ctx.registry.deleteSessionProcessState('alice');
    expect(report).toEqual({
      sessionId: 'alice',
      revokedHandleCount: 10,
      deletedWakeCount: 0,
      cancelProcessIds: ['aa', 'mm', 'zz'],
      preservedProcessIds: ['kept-a', 'kept-b'],
    });
    const revokes = (await ctx.registry.history('mm')).filter((h) => h.type === 'HandleRevoked');
    expect(revokes.map((h) => h.data)).toEqual([
      expect.objectContaining({ reason: 'session_deleted' }),
      expect.objectContaining({ reason: 'session_deleted' }),
    ]);
  });

  it('deletes a session’s grants across frames and reports cancel vs preserved', async () => {
    await register('solo', 'shared', 'done', 'other');
    await ctx.registry.grantHandle(alice, 'solo', {});
    await ctx.registry.grantHandle(aliceFrame, 'solo', {});
    await ctx.registry.grantHandle(aliceFrame, 'shared', {});
    await ctx.registry.grantHandle(bob, 'shared', {});
    await ctx.registry.grantHandle(alice, 'done', {});
    await ctx.registry.grantHandle(bob, 'other', {});
    await ctx.registry.completeProcess('done', { type: 'success', value: null });
    const report = await ctx.registry.deleteSessionProcessState('alice');
    expect(report).toEqual({
      sessionId: 'alice',
      revokedHandleCount: 4,
      deletedWakeCount: 0,
      cancelProcessIds: ['solo'],
      preservedProcessIds: ['shared'],
    });
    expect(await ctx.registry.listHandleGrants(alice)).toEqual([]);
    expect(await ctx.registry.listHandleGrants(aliceFrame)).toEqual([]);
    expect(await ctx.registry.hasHandleGrant(bob, 'shared')).toBe(true);
    // it reports; it does not cancel
    expect((await ctx.registry.getProcess('solo'))?.status.state).toBe('running');
    expect(await ctx.registry.eventsAfter('solo', 0)).toEqual([]);
  });

  it('reports an empty deletion for a session without grants, writing nothing', async () => {
    const report = await expectNoWrite(ctx, () => ctx.registry.deleteSessionProcessState('nobody'));
    expect(report).toEqual({
      sessionId: 'nobody',
      revokedHandleCount: 0,
      deletedWakeCount: 0,
      cancelProcessIds: [],
      preservedProcessIds: [],
    });
  });
};
