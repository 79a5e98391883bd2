import { expect, it } from 'vitest';
import type { ProcessFilter, ProcessRecord, ProcessRegistry } from '../../src/index.ts';
import type { ConformanceContext } from '../support/harness.ts';
import { expectRejectedWithoutWrite, registration } from './fixtures.ts';

const ids = (records: readonly ProcessRecord[]) => records.map((r) => r.id);

/** Every page of a listing, joined, and how many pages it took. */
const allPages = async (
  registry: Pick<ProcessRegistry, 'listProcesses'>,
  filter: ProcessFilter,
  limit: number,
): Promise<{ records: ProcessRecord[]; pages: number }> => {
  const records: ProcessRecord[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await registry.listProcesses(filter, {
      limit,
      ...(cursor === undefined ? {} : { cursor }),
    });
    expect(page.records.length).toBeLessThanOrEqual(limit);
    records.push(...page.records);
    cursor = page.nextCursor;
    pages++;
  } while (cursor !== undefined);
  return { records, pages };
};

/**
 * A small world with one process per kind of difference, created 1 s apart (list order is
 * creation time, then id): owner sessions, input types, states, grants with labels.
 */
const seedWorld = async (ctx: ConformanceContext) => {
  const r = ctx.registry;
  const make = async (id: string, session: string, type: string) => {
    ctx.clock.advance(1_000);
    await r.registerProcess(
      registration(id, {
        input: { type },
        provenance: { ownerScope: { sessionId: session }, hostProfileId: 'h' },
      }),
    );
  };
  await make('b-run', 'alice', 'tool.exec');
  await make('a-done', 'alice', 'agent.turn');
  await make('c-fail', 'bob', 'tool.exec');
  await make('d-cancel', 'bob', 'agent.turn');
  await make('e-run', 'carol', 'tool.exec');
  await r.completeProcess('a-done', { type: 'success', value: 1 });
  await r.completeProcess('c-fail', { type: 'failure', class: 'x', code: 'y', message: 'z' });
  await r.completeProcess('d-cancel', { type: 'cancelled', message: 'stop' });
  await r.grantHandle({ sessionId: 'bob', agentFrameId: 'f1' }, 'b-run', { label: 'build' });
  await r.grantHandle({ sessionId: 'dave' }, 'e-run', { label: 'deploy' });
  await r.grantHandle({ sessionId: 'dave' }, 'a-done', { label: 'build' });
  return { t0: ctx.clock.now };
};

export const worklistRules = (ctx: ConformanceContext): void => {
  it('listProcesses filters by status, owner, grant, input type, label and creation range', async () => {
    await seedWorld(ctx);
    const r = ctx.registry;
    const list = async (filter: ProcessFilter) => ids((await r.listProcesses(filter)).records);
    // creation order, not id order
    expect(await list({})).toEqual(['b-run', 'a-done', 'c-fail', 'd-cancel', 'e-run']);
    expect(await list({ status: 'running' })).toEqual(['b-run', 'e-run']);
    expect(await list({ status: 'terminal' })).toEqual(['a-done', 'c-fail', 'd-cancel']);
    expect(await list({ status: 'failed' })).toEqual(['c-fail']);
    expect(await list({ status: 'completed' })).toEqual(['a-done']);
    expect(await list({ ownerSessionId: 'alice' })).toEqual(['b-run', 'a-done']);
    expect(await list({ grantedSessionId: 'bob' })).toEqual(['b-run']);
    expect(await list({ grantedSessionId: 'dave' })).toEqual(['a-done', 'e-run']);
    expect(await list({ inputType: 'agent.turn' })).toEqual(['a-done', 'd-cancel']);
    expect(await list({ label: 'build' })).toEqual(['b-run', 'a-done']);
    expect(await list({ label: 'build', grantedSessionId: 'dave' })).toEqual(['a-done']);
    expect(await list({ label: 'nope' })).toEqual([]);
    const created = (await r.getProcess('c-fail'))!.createdAtMs;
    // half-open: from is included, to is not
    expect(await list({ createdFromMs: created })).toEqual(['c-fail', 'd-cancel', 'e-run']);
    expect(await list({ createdToMs: created })).toEqual(['b-run', 'a-done']);
    expect(await list({ createdFromMs: created, createdToMs: created + 1 })).toEqual(['c-fail']);
    expect(
      await list({ status: 'running', ownerSessionId: 'carol', inputType: 'tool.exec' }),
    ).toEqual(['e-run']);
    // a revoked grant no longer matches
    await r.revokeHandle({ sessionId: 'dave' }, 'e-run');
    expect(await list({ grantedSessionId: 'dave' })).toEqual(['a-done']);
  });

  it('answers listProcesses as of a past point, with every filter and page, as it did then', async () => {
    await seedWorld(ctx);
    const r = ctx.registry;
    const filters: ProcessFilter[] = [
      {},
      { status: 'running' },
      { status: 'terminal' },
      { status: 'cancelled' },
      { ownerSessionId: 'bob' },
      { grantedSessionId: 'dave' },
      { label: 'build' },
      { label: 'build', grantedSessionId: 'bob' },
      { inputType: 'tool.exec', status: 'running' },
    ];
    const capture = async (view: Pick<ProcessRegistry, 'listProcesses'>) =>
      Promise.all(
        filters.map(async (filter) => ({
          whole: await view.listProcesses(filter),
          paged: ids((await allPages(view, filter, 2)).records),
        })),
      );
    const then = await capture(r);
    const point = await r.asOf(ctx.clock.now).position();
    // afterwards everything moves: states, grants, new processes
    ctx.clock.advance(1_000);
    await r.completeProcess('b-run', { type: 'cancelled', message: 'later' });
    await r.revokeHandle({ sessionId: 'dave' }, 'e-run');
    await r.transferHandleGrants({ sessionId: 'bob', agentFrameId: 'f1' }, { sessionId: 'erin' }, [
      'b-run',
    ]);
    await r.registerProcess(
      registration('f-new', {
        provenance: { ownerScope: { sessionId: 'bob' }, hostProfileId: 'h' },
      }),
    );
    await r.grantHandle({ sessionId: 'dave' }, 'f-new', { label: 'build' });
    const now = await capture(r);
    expect(now).not.toEqual(then);
    expect(await capture(r.asOf({ position: point }))).toEqual(then);
  });

  it('pages with a cursor: each process exactly once, in order, the same at any page size', async () => {
    const r = ctx.registry;
    const expected: string[] = [];
    // several processes share a creation time: ids break the tie
    for (let i = 0; i < 23; i++) {
      if (i % 3 === 0) ctx.clock.advance(10);
      const id = `p-${String(22 - i).padStart(2, '0')}`;
      await r.registerProcess(registration(id));
      expected.push(id);
    }
    const byTime = [...expected].sort((a, b) => {
      const ta = Math.floor(expected.indexOf(a) / 3);
      const tb = Math.floor(expected.indexOf(b) / 3);
      return ta - tb || (a < b ? -1 : 1);
    });
    for (const limit of [1, 4, 7, 23, 100]) {
      const { records, pages } = await allPages(r, {}, limit);
      expect(ids(records)).toEqual(byTime);
      expect(pages).toBe(Math.max(1, Math.ceil(23 / limit)));
    }
    await r.completeProcess('p-10', { type: 'success', value: null });
    const running = await allPages(r, { status: 'running' }, 5);
    expect(ids(running.records)).toEqual(byTime.filter((id) => id !== 'p-10'));
    // the last page has no nextCursor; an empty listing has none either
    expect((await r.listProcesses({ inputType: 'none' })).nextCursor).toBeUndefined();
  });

  it('a cursor resumes after its record even when that record changed or others arrived', async () => {
    const r = ctx.registry;
    for (const id of ['a', 'b', 'c', 'd']) {
      ctx.clock.advance(1);
      await r.registerProcess(registration(id));
    }
    const first = await r.listProcesses({ status: 'running' }, { limit: 2 });
    expect(ids(first.records)).toEqual(['a', 'b']);
    await r.completeProcess('b', { type: 'success', value: null });
    ctx.clock.advance(1);
    await r.registerProcess(registration('e'));
    const second = await r.listProcesses({ status: 'running' }, { cursor: first.nextCursor! });
    expect(ids(second.records)).toEqual(['c', 'd', 'e']);
  });

  it('pages 100 records by default and up to 1 000 when asked, in both listings', async () => {
    const r = ctx.registry;
    const names = Array.from({ length: 101 }, (_, i) => `p-${String(i).padStart(3, '0')}`);
    for (const id of names) await r.registerProcess(registration(id));
    const first = await r.listProcesses();
    expect(ids(first.records)).toEqual(names.slice(0, 100));
    expect(first.nextCursor).toBeDefined();
    const rest = await r.listProcesses({}, { cursor: first.nextCursor! });
    expect(ids(rest.records)).toEqual(names.slice(100));
    const whole = await r.listProcesses({}, { limit: 1000 });
    expect(ids(whole.records)).toEqual(names);
    expect(whole.nextCursor).toBeUndefined();
    const changed = await r.processesChangedSince();
    expect(changed.records).toHaveLength(100);
    const changedRest = await r.processesChangedSince(changed.nextCursor);
    expect(ids(changedRest.records)).toEqual([names[100]]);
    expect((await r.processesChangedSince(undefined, 1000)).records).toHaveLength(101);
    await expectRejectedWithoutWrite(
      ctx,
      () => r.processesChangedSince(undefined, 1001),
      'invalid',
    );
  });

  it('rejects a bad filter, page or cursor as invalid, writing nothing', async () => {
    const r = ctx.registry;
    await r.registerProcess(registration('p1'));
    await r.registerProcess(registration('p2'));
    const cases: [string, () => Promise<unknown>][] = [
      ['unknown status', () => r.listProcesses({ status: 'sleeping' as never })],
      ['unknown member', () => r.listProcesses({ owner: 'x' } as never)],
      ['blank session', () => r.listProcesses({ grantedSessionId: ' ' })],
      ['NaN time', () => r.listProcesses({ createdFromMs: Number.NaN })],
      ['limit 0', () => r.listProcesses({}, { limit: 0 })],
      ['limit 1001', () => r.listProcesses({}, { limit: 1001 })],
      ['fractional limit', () => r.listProcesses({}, { limit: 1.5 })],
      ['forged cursor', () => r.listProcesses({}, { cursor: 'not-a-cursor' })],
      [
        'change cursor as list cursor',
        async () => {
          const { nextCursor } = await r.processesChangedSince();
          return r.listProcesses({}, { cursor: nextCursor });
        },
      ],
      [
        'list cursor as change cursor',
        async () => {
          await r.registerProcess(registration('p2'));
          const { nextCursor } = await r.listProcesses({}, { limit: 1 });
          return r.processesChangedSince(nextCursor);
        },
      ],
      ['change limit 0', () => r.processesChangedSince(undefined, 0)],
    ];
    for (const [what, call] of cases) {
      await expectRejectedWithoutWrite(ctx, call, 'invalid').catch((error: unknown) => {
        throw new Error(`${what}: ${String(error)}`);
      });
    }
  });

  it('processesChangedSince: each changed process once per page, at its latest state, in change order', async () => {
    const r = ctx.registry;
    await r.registerProcess(registration('a'));
    await r.registerProcess(registration('b'));
    await r.registerProcess(registration('c'));
    const start = await r.processesChangedSince();
    expect(ids(start.records)).toEqual(['a', 'b', 'c']);
    // nothing new: the same cursor comes back, with no records
    const idle = await r.processesChangedSince(start.nextCursor);
    expect(idle).toEqual({ records: [], nextCursor: start.nextCursor });
    ctx.clock.advance(5);
    await r.appendEvent('a', { eventType: 'producer.line', payload: { text: 'x' } });
    await r.setExternalRef('c', { backend: 'k8s', id: 'job-1' });
    await r.appendEvent('a', { eventType: 'producer.line', payload: { text: 'y' } });
    // a grant does not change the record
    await r.grantHandle({ sessionId: 's' }, 'b');
    const next = await r.processesChangedSince(start.nextCursor);
    expect(ids(next.records)).toEqual(['c', 'a']);
    expect(next.records[1]).toEqual(await r.getProcess('a'));
    expect(next.records[0]!.externalRef).toEqual({ backend: 'k8s', id: 'job-1' });
    // paging: limit 1 walks the same answer one by one
    const one = await r.processesChangedSince(start.nextCursor, 1);
    expect(ids(one.records)).toEqual(['c']);
    const two = await r.processesChangedSince(one.nextCursor, 1);
    expect(ids(two.records)).toEqual(['a']);
    expect((await r.processesChangedSince(two.nextCursor)).records).toEqual([]);
    await r.completeProcess('b', { type: 'success', value: 2 });
    const done = await r.processesChangedSince(two.nextCursor);
    expect(done.records.map((p) => [p.id, p.status.state])).toEqual([['b', 'completed']]);
  });

  it('does not count lease claims, renewals and releases as record changes', async () => {
    const r = ctx.registry;
    await r.registerProcess(registration('a'));
    const { nextCursor } = await r.processesChangedSince();
    const lease = await r.claimProcessLease('a', 'w', 1000);
    await r.renewProcessLease(lease, 2000);
    await r.completeProcessLease({ processId: 'a', leaseToken: lease.leaseToken });
    await r.revokeHandle({ sessionId: 'nobody' }, 'a');
    expect((await r.processesChangedSince(nextCursor)).records).toEqual([]);
  });

  it('breaks creation-time ties by code point (UTF-8 byte order), not by UTF-16 code unit', async () => {
    const r = ctx.registry;
    // U+E000 is one code unit above the surrogates that encode U+1F600, but a lower code point
    const ids3 = ['x\u{1F600}', 'x\uE000', 'x\uFFFF'];
    for (const id of ids3) await r.registerProcess(registration(id));
    expect(ids((await r.listProcesses()).records)).toEqual(['x\uE000', 'x\uFFFF', 'x\u{1F600}']);
    const paged = await allPages(r, {}, 1);
    expect(ids(paged.records)).toEqual(['x\uE000', 'x\uFFFF', 'x\u{1F600}']);
  });

  it('a change cursor stays valid in another instance (and across a restart)', async () => {
    await ctx.registry.registerProcess(registration('a'));
    const { nextCursor } = await ctx.registry.processesChangedSince();
    await ctx.registry.registerProcess(registration('b'));
    const other = await ctx.open();
    expect(ids((await other.processesChangedSince(nextCursor)).records)).toEqual(['b']);
  });

  it('a follower paging while writers write sees every process at its final state', async () => {
    const r = ctx.registry;
    const writer = await ctx.open();
    const names = Array.from({ length: 8 }, (_, i) => `w${i}`);
    for (const id of names) await r.registerProcess(registration(id));
    const seen = new Map<string, ProcessRecord>();
    let cursor: string | undefined;
    const follow = async () => {
      const page = await r.processesChangedSince(cursor, 3);
      for (const record of page.records) seen.set(record.id, record);
      cursor = page.nextCursor;
      return page.records.length;
    };
    const writes = (async () => {
      for (let i = 0; i < 40; i++) {
        const id = names[(i * 5) % names.length]!;
        await writer.appendEvent(id, { eventType: 'producer.line', payload: { text: `${i}` } });
        if (i % 10 === 9) await writer.setExternalRef(id, { backend: 'b', id: `${i}` });
      }
    })();
    let done = false;
    void writes.finally(() => {
      done = true;
    });
    while (!done) {
      await follow();
      // let the writer's timers run: a follower that never yields would starve it
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await writes;
    // drain what the last pages did not reach
    while ((await follow()) > 0);
    for (const id of names) expect(seen.get(id), id).toEqual(await r.getProcess(id));
  });
};
