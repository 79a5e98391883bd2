import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { ProcessRegistry } from '../../src/index.ts';
import type { HistoryItem } from '../../src/queries/history.ts';
import type { ConformanceContext } from '../support/harness.ts';
import { expectRegistryError } from '../support/registry-errors.ts';
import { registration } from './fixtures.ts';

const collect = async <T>(items: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
};

/** Everything a refusal must leave as it was: the log (as exported) and every read model. */
const observe = async (r: ProcessRegistry, ids: readonly string[]) => ({
  exported: await collect(r.exportEvents()),
  processes: await r.listProcesses(),
  running: await r.listNonTerminal(),
  perProcess: await Promise.all(
    ids.map(async (id) => ({
      record: await r.getProcess(id),
      events: await r.eventsAfter(id, 0),
      wakes: await r.wakeEventsAfter(id, 0),
      grants: await r.handleGrantsForProcess(id),
      lease: await r.getProcessLease(id),
    })),
  ),
  differences: await r.verifyProjections(),
  integrity: await r.verifyIntegrity(),
  digest: await r.digest(),
});

const refusedIn = (history: HistoryItem[]) => history.filter((e) => e.type === 'CommandRefused');

export const journalRules = (ctx: ConformanceContext): void => {
  it("journals a stale holder's lease completion and fenced completion, an ungranted transfer and conflicting completions with actor and code, changing nothing else", async () => {
    const r = ctx.registry;
    for (const id of ['p1', 'p2', 'p3']) await r.registerProcess(registration(id));
    await r.grantHandle({ sessionId: 'alice' }, 'p2', {});
    const stale = await r.claimProcessLease('p1', 'w1', 1000);
    ctx.clock.advance(1001);
    const current = await r.claimProcessLease('p1', 'w2', 60_000);
    await r.completeProcess('p3', { type: 'success', value: 1 });
    const before = await observe(r, ['p1', 'p2', 'p3']);

    const w1 = r.withContext({ actor: 'w1', correlationId: 'corr-1', causationId: 'cause-1' });
    // the caller still sees the silent no-op the lease contract promises
    await expect(
      w1.completeProcessLease({ processId: 'p1', leaseToken: stale.leaseToken }),
    ).resolves.toBeUndefined();
    // the fenced completion refuses the stale holder outright
    await expectRegistryError(
      w1.completeProcessWithLease(stale, { type: 'success', value: 3 }),
      'lease_lost',
    );
    const mallory = r.withContext({ actor: 'mallory' });
    await expectRegistryError(
      mallory.transferHandleGrants({ sessionId: 'mallory' }, { sessionId: 'x' }, ['p2']),
      'not_granted',
    );
    await expectRegistryError(w1.completeProcess('p3', { type: 'success', value: 2 }), 'conflict');
    await expectRegistryError(
      w1.completeProcess('p3', { type: 'cancelled', message: 'late' }),
      'already_terminal',
    );

    expect(await observe(r, ['p1', 'p2', 'p3'])).toEqual(before);
    expect(await r.getProcessLease('p1')).toEqual(current);

    const p1 = await r.history('p1', { includeRefused: true });
    expect(refusedIn(p1)).toEqual([
      {
        type: 'CommandRefused',
        refused: true,
        processId: 'p1',
        command: 'completeProcessLease',
        commandId: expect.any(String),
        code: 'lease_lost',
        message: expect.stringMatching(/`w2` holds fencing token 2/),
        actor: 'w1',
        correlationId: 'corr-1',
        causationId: 'cause-1',
        recordedAtMs: ctx.clock.now,
        processCreatedAtMs: (await r.getProcess('p1'))!.createdAtMs,
        afterRevision: 2,
      },
      expect.objectContaining({
        command: 'completeProcessWithLease',
        code: 'lease_lost',
        actor: 'w1',
        afterRevision: 2,
      }),
    ]);
    // after the last event it was decided on
    expect(p1.at(-1)).toMatchObject({ type: 'CommandRefused' });
    expect(refusedIn(await r.history('p2', { includeRefused: true }))).toMatchObject([
      {
        command: 'transferHandleGrants',
        code: 'not_granted',
        actor: 'mallory',
        correlationId: null,
      },
    ]);
    expect(refusedIn(await r.history('p3', { includeRefused: true }))).toMatchObject([
      { command: 'completeProcess', code: 'conflict', actor: 'w1', afterRevision: 1 },
      { command: 'completeProcess', code: 'already_terminal', actor: 'w1', afterRevision: 1 },
    ]);
    // without includeRefused, history is the log alone
    expect(refusedIn(await r.history('p1'))).toEqual([]);
  });

  it('journals every command refused with a domain error: registration, append, renewal, claim and reclaim', async () => {
    const r = ctx.registry;
    await r.registerProcess(registration('p1'));
    await r.appendEvent('p1', {
      eventType: 'producer.line',
      payload: { text: 'a' },
      replayKey: 'k',
    });
    const held = await r.claimProcessLease('p1', 'w1', 60_000);
    const newer = await r.claimProcessLease('p1', 'w1', 60_000);
    await r.registerProcess(registration('p2'));
    await r.completeProcess('p2', { type: 'success', value: 1 });
    const before = await observe(r, ['p1', 'p2']);
    const a = r.withContext({ actor: 'a' });
    await expectRegistryError(
      a.registerProcess(registration('p1', { input: { type: 'other' } })),
      'conflict',
    );
    await expectRegistryError(
      a.appendEvent('p1', { eventType: 'producer.line', payload: { text: 'b' }, replayKey: 'k' }),
      'conflict',
    );
    await expectRegistryError(a.renewProcessLease(held, 10), 'lease_lost');
    await expectRegistryError(a.claimProcessLease('p1', 'w2', 10), 'lease_held');
    await expectRegistryError(
      a.reclaimProcessLease('p1', { owner: 'w3', observedLeaseToken: held.leaseToken, ttlMs: 10 }),
      'lease_held',
    );
    await expectRegistryError(
      a.appendEvent('p2', {
        eventType: 'process.failed',
        payload: { awaitOutput: 'x' },
        replayKey: 'f',
      }),
      'already_terminal',
    );
    await expectRegistryError(a.claimProcessLease('p2', 'w1', 10), 'already_terminal');
    expect(await observe(r, ['p1', 'p2'])).toEqual(before);
    expect(await r.getProcessLease('p1')).toEqual(newer);
    const p1 = refusedIn(await r.history('p1', { includeRefused: true }));
    expect(p1.map((e) => 'refused' in e && [e.command, e.code, e.actor, e.afterRevision])).toEqual([
      ['registerProcess', 'conflict', 'a', 3],
      ['appendEvent', 'conflict', 'a', 3],
      ['renewProcessLease', 'lease_lost', 'a', 3],
      ['claimProcessLease', 'lease_held', 'a', 3],
      ['reclaimProcessLease', 'lease_held', 'a', 3],
    ]);
    const p2 = refusedIn(await r.history('p2', { includeRefused: true }));
    expect(p2.map((e) => 'refused' in e && [e.command, e.code])).toEqual([
      ['appendEvent', 'already_terminal'],
      ['claimProcessLease', 'already_terminal'],
    ]);
  });

  it('interleaves refusals after the event they were decided on, in history and iterateHistory', async () => {
    const r = ctx.registry;
    await r.registerProcess(registration('p1'));
    const held = await r.claimProcessLease('p1', 'w1', 1000);
    await expectRegistryError(r.claimProcessLease('p1', 'w2', 1000), 'lease_held');
    await r.appendEvent('p1', { eventType: 'producer.line', payload: { text: 'a' } });
    ctx.clock.advance(2000);
    await expectRegistryError(r.renewProcessLease(held, 1000), 'lease_lost');
    const history = await r.history('p1', { includeRefused: true });
    expect(history.map((e) => e.type)).toEqual([
      'ProcessRegistered',
      'LeaseClaimed',
      'CommandRefused',
      'ProcessEventAppended',
      'CommandRefused',
    ]);
    expect(history.map((e) => ('refused' in e ? e.code : e.revision))).toEqual([
      0,
      1,
      'lease_held',
      2,
      'lease_lost',
    ]);
    expect(await collect(r.iterateHistory('p1', { includeRefused: true, pageSize: 1 }))).toEqual(
      history,
    );
    // time filters apply to refusals too; `types` filters domain events only
    const late = await r.history('p1', { includeRefused: true, fromMs: ctx.clock.now });
    expect(late.map((e) => e.type)).toEqual(['CommandRefused']);
    const typed = await r.history('p1', { includeRefused: true, types: ['LeaseClaimed'] });
    expect(typed.map((e) => e.type)).toEqual(['LeaseClaimed', 'CommandRefused', 'CommandRefused']);
  });

  it('journals neither bad input nor unknown processes, nor a repeated completion of a released lease', async () => {
    const r = ctx.registry;
    await r.registerProcess(registration('p1'));
    const lease = await r.claimProcessLease('p1', 'w1', 1000);
    await r.completeProcessLease({ processId: 'p1', leaseToken: lease.leaseToken });
    await r.completeProcessLease({ processId: 'p1', leaseToken: lease.leaseToken });
    await expectRegistryError(r.claimProcessLease('p1', '', 1000), 'invalid');
    await expectRegistryError(r.completeProcess('p1', { type: 'nonsense' } as never), 'invalid');
    await expectRegistryError(r.claimProcessLease('ghost', 'w1', 1000), 'not_found');
    await expectRegistryError(
      r.transferHandleGrants({ sessionId: 'a' }, { sessionId: 'b' }, ['ghost']),
      'not_granted',
    );
    expect(refusedIn(await r.history('p1', { includeRefused: true }))).toEqual([]);
  });

  it.skipIf(ctx.backend.prunes === false)(
    "drops a pruned process's refusals, and a re-registered id's history shows none of them",
    async () => {
      const r = ctx.registry;
      await r.registerProcess(registration('p1'));
      await r.completeProcess('p1', { type: 'success', value: 1 });
      await expectRegistryError(r.claimProcessLease('p1', 'w1', 1000), 'already_terminal');
      expect(refusedIn(await r.history('p1', { includeRefused: true }))).toHaveLength(1);
      ctx.clock.advance(10_000);
      const dir = await mkdtemp(join(tmpdir(), 'procreg-journal-prune-'));
      try {
        await r.pruneTerminalProcesses({ terminalBeforeMs: ctx.clock.now, archiveTo: dir });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      const store = await ctx.connect();
      try {
        expect(await store.journal?.read('p1')).toEqual([]);
      } finally {
        await store.close();
      }
      await r.registerProcess(registration('p1'));
      expect(refusedIn(await r.history('p1', { includeRefused: true }))).toEqual([]);
    },
  );
};
