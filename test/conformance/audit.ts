import { expect, it } from 'vitest';
import type { ConformanceContext } from '../support/harness.ts';
import { registration } from './fixtures.ts';

/** A varied history touching every read model. */
export const seedHistory = async (ctx: ConformanceContext): Promise<void> => {
  const r = ctx.registry;
  const scope = { sessionId: 'alice', agentFrameId: 'f' };
  for (const id of ['a', 'b', 'c']) await r.registerProcess(registration(id));
  await r.grantHandle(scope, 'a', { label: 'A' });
  await r.grantHandle({ sessionId: 'bob' }, 'b', {});
  await r.grantHandle(scope, 'c', {});
  await r.transferHandleGrants(scope, { sessionId: 'carol' }, ['a']);
  await r.appendEvent('a', {
    eventType: 'producer.wake',
    payload: { text: 'w1' },
    wakeTargetScope: scope,
  });
  await r.appendEvent('a', {
    eventType: 'producer.wake',
    payload: { text: 'w2' },
    wakeTargetScope: scope,
  });
  await r.ackWake('a', 1);
  await r.setExternalRef('b', { backend: 'k8s', id: 'job' });
  const lease = await r.claimProcessLease('b', 'worker', 5000);
  await r.renewProcessLease(lease, 9000);
  const lc = await r.claimProcessLease('c', 'worker', 5000);
  await r.completeProcessLease({ processId: 'c', leaseToken: lc.leaseToken });
  await r.completeProcess('c', { type: 'failure', class: 'x', code: 'y', message: 'z' });
  await r.deleteSessionProcessState('bob');
};

export const auditRules = (ctx: ConformanceContext): void => {
  it('rebuilds read models from the log equal to the live ones', async () => {
    await seedHistory(ctx);
    const progress: number[] = [];
    expect(await ctx.registry.verifyProjections(({ events }) => progress.push(events))).toEqual([]);
    expect(progress.length).toBe((await ctx.log()).length);
    expect(progress.at(-1)).toBe(progress.length);
    const reopened = await ctx.open();
    for (const id of ['a', 'b', 'c']) {
      expect(await reopened.getProcess(id)).toEqual(await ctx.registry.getProcess(id));
      expect(await reopened.eventsAfter(id, 0)).toEqual(await ctx.registry.eventsAfter(id, 0));
      expect(await reopened.wakeEventsAfter(id, 0)).toEqual(
        await ctx.registry.wakeEventsAfter(id, 0),
      );
      expect(await reopened.handleGrantsForProcess(id)).toEqual(
        await ctx.registry.handleGrantsForProcess(id),
      );
      expect(await reopened.getProcessLease(id)).toEqual(await ctx.registry.getProcessLease(id));
    }
    expect(await reopened.listNonTerminal()).toEqual(await ctx.registry.listNonTerminal());
    expect(await reopened.listHandleGrants({ sessionId: 'carol' })).toEqual(
      await ctx.registry.listHandleGrants({ sessionId: 'carol' }),
    );
    expect(await reopened.verifyProjections()).toEqual([]);
  });

  it('records command, time and explicit absence of an actor in every event', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    const [entry] = await ctx.registry.history('p1');
    expect(entry).toMatchObject({
      type: 'ProcessRegistered',
      revision: 0,
      recordedAtMs: ctx.clock.now,
      metadata: {
        command: 'registerProcess',
        recordedAtMs: ctx.clock.now,
        actor: null,
        correlationId: null,
        causationId: null,
      },
    });
  });

  it('stamps eventVersion 1 and one command id per call, shared by every event the call wrote', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    await ctx.registry.registerProcess(registration('p2'));
    await ctx.registry.grantHandle({ sessionId: 's' }, 'p1', {});
    await ctx.registry.grantHandle({ sessionId: 's' }, 'p2', {});
    await ctx.registry.appendEvents('p1', [
      { eventType: 'producer.line', payload: { text: 'a' } },
      { eventType: 'producer.line', payload: { text: 'b' } },
    ]);
    await ctx.registry.deleteSessionProcessState('s');
    const entries = [...(await ctx.registry.history('p1')), ...(await ctx.registry.history('p2'))];
    expect(new Set(entries.map((h) => h.metadata.eventVersion))).toEqual(new Set([1]));
    const idsByCommand = new Map<string, Set<string>>();
    for (const h of entries) {
      const key = `${h.metadata.command}`;
      idsByCommand.set(key, (idsByCommand.get(key) ?? new Set()).add(h.metadata.commandId));
    }
    // two registrations and two grants: two calls each; one batch; one deletion over two processes
    expect(Object.fromEntries([...idsByCommand].map(([k, v]) => [k, v.size]))).toEqual({
      registerProcess: 2,
      grantHandle: 2,
      appendEvents: 1,
      deleteSessionProcessState: 1,
    });
    const all = new Set(entries.map((h) => h.metadata.commandId));
    expect(all.size).toBe(6);
    expect(new Set(entries.map((h) => h.eventId)).size).toBe(entries.length);
  });

  it('stamps the caller context given with withContext', async () => {
    const audited = ctx.registry.withContext({
      actor: 'alice',
      correlationId: 'req-1',
      causationId: 'msg-9',
    });
    await audited.registerProcess(registration('p1'));
    await audited.appendEvent('p1', { eventType: 'producer.line', payload: { text: 'x' } });
    await ctx.registry.appendEvent('p1', { eventType: 'producer.line', payload: { text: 'y' } });
    const history = await ctx.registry.history('p1');
    expect(
      history.map((h) => [h.metadata.command, h.metadata.actor, h.metadata.correlationId]),
    ).toEqual([
      ['registerProcess', 'alice', 'req-1'],
      ['appendEvent', 'alice', 'req-1'],
      ['appendEvent', null, null],
    ]);
    expect(history[0]?.metadata.causationId).toBe('msg-9');
  });

  it('adds to history on every state change, never on failed or idempotent calls', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    await ctx.registry.registerProcess(registration('p1'));
    await ctx.registry.appendEvent('p1', {
      eventType: 'producer.line',
      payload: { text: 'a' },
      replayKey: 'k',
    });
    await ctx.registry.appendEvent('p1', {
      eventType: 'producer.line',
      payload: { text: 'a' },
      replayKey: 'k',
    });
    await ctx.registry.appendEvent('p1', { eventType: 'nope', payload: {} }).catch(() => undefined);
    await ctx.registry.grantHandle({ sessionId: 's' }, 'p1', {});
    await ctx.registry.revokeHandle({ sessionId: 'zzz' }, 'p1');
    const history = await ctx.registry.history('p1');
    expect(history.map((h) => h.type)).toEqual([
      'ProcessRegistered',
      'ProcessEventAppended',
      'HandleGranted',
    ]);
    const positions = history.map((h) => h.position);
    expect([...positions].sort((a, b) => (a < b ? -1 : 1))).toEqual(positions);
    await expect(ctx.registry.history('ghost')).rejects.toMatchObject({ code: 'not_found' });
  });
};
