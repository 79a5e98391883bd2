import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { canonicalJson } from '../../src/domain/canonical.ts';
import type { ConformanceContext } from '../support/harness.ts';
import { expectNoWrite, expectRejectedWithoutWrite, lineType, registration } from './fixtures.ts';

const coreNames = [
  'process.cancel_requested',
  'process.completed',
  'process.failed',
  'process.cancelled',
];

export const registrationRules = (ctx: ConformanceContext): void => {
  it('reports the durability tier of its store', () => {
    expect(ctx.registry.durabilityTier).toBe(ctx.backend.durabilityTier);
  });

  it('registers with core event types, default provenance and clock times', async () => {
    const record = await ctx.registry.registerProcess(registration('p1'));
    expect(record.id).toBe('p1');
    expect(record.eventTypes.map((t) => t.name)).toEqual([
      'producer.line',
      'producer.wake',
      ...coreNames,
    ]);
    expect(record.eventTypes.find((t) => t.name === 'process.failed')).toEqual({
      name: 'process.failed',
      payloadSchema: true,
      semantics: {
        terminal: { state: 'failed', awaitOutput: { kind: 'pointer', pointer: '/awaitOutput' } },
      },
    });
    expect(record.eventTypes.find((t) => t.name === 'process.cancel_requested')).toEqual({
      name: 'process.cancel_requested',
      payloadSchema: true,
    });
    expect(record.provenance).toEqual({
      ownerScope: { sessionId: 'root' },
      hostProfileId: 'default',
    });
    expect(record.createdAtMs).toBe(ctx.clock.now);
    expect(record.updatedAtMs).toBe(ctx.clock.now);
    expect(record.status).toEqual({ state: 'running' });
    expect(record.externalRef).toBeUndefined();
    expect(await ctx.registry.getProcess('p1')).toEqual(record);
  });

  it('hashes the canonical JSON of the normalized registration', async () => {
    const record = await ctx.registry.registerProcess(registration('p1'));
    const normalized = {
      id: record.id,
      input: record.input,
      eventTypes: record.eventTypes,
      provenance: record.provenance,
    };
    const expected = createHash('sha256').update(canonicalJson(normalized)).digest('hex');
    expect(record.registrationHash).toBe(expected);
    // key order of the input does not change the hash
    const reordered = await ctx.registry.registerProcess({
      eventTypes: [lineType, registration('x').eventTypes![1]!],
      input: { command: 'ls', type: 'tool.exec' },
      id: 'p1',
    });
    expect(reordered.registrationHash).toBe(expected);
  });

  it('keeps a core type the registration declares itself instead of adding it', async () => {
    const own = {
      name: 'process.completed',
      payloadSchema: { type: 'object' },
      semantics: { terminal: { state: 'completed' as const } },
    };
    const record = await ctx.registry.registerProcess(registration('p1', { eventTypes: [own] }));
    expect(record.eventTypes.filter((t) => t.name === 'process.completed')).toEqual([own]);
    expect(record.eventTypes).toHaveLength(4);
  });

  it('returns the existing record for the same registration, writing nothing', async () => {
    const first = await ctx.registry.registerProcess(registration('p1'));
    ctx.clock.advance(1000);
    const again = await expectNoWrite(ctx, () => ctx.registry.registerProcess(registration('p1')));
    expect(again).toEqual(first);
  });

  it('rejects the same id with another registration as a hash conflict', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    await expectRejectedWithoutWrite(
      ctx,
      () =>
        ctx.registry.registerProcess(
          registration('p1', { input: { type: 'tool.exec', command: 'pwd' } }),
        ),
      'conflict',
      'registration hash conflict',
    );
  });

  it.each([
    ['a blank id', { id: '   ' }],
    ['an empty id', { id: '' }],
    [
      'an empty owner session id',
      { provenance: { ownerScope: { sessionId: '' }, hostProfileId: 'h' } },
    ],
    [
      'a blank host profile',
      { provenance: { ownerScope: { sessionId: 's' }, hostProfileId: ' ' } },
    ],
    ['a blank event type name', { eventTypes: [{ name: ' ', payloadSchema: true }] }],
    ['duplicate event type names', { eventTypes: [lineType, lineType] }],
    [
      'a failed terminal type without awaitOutput',
      {
        eventTypes: [
          { name: 'x.failed', payloadSchema: true, semantics: { terminal: { state: 'failed' } } },
        ],
      },
    ],
    [
      'a cancelled terminal type without awaitOutput',
      {
        eventTypes: [
          {
            name: 'x.cancel',
            payloadSchema: true,
            semantics: { terminal: { state: 'cancelled' } },
          },
        ],
      },
    ],
    ['an input without a type', { input: { command: 'ls' } }],
    ['an unknown field', { extra: 1 }],
    [
      'an unsupported payload schema',
      { eventTypes: [{ name: 'x', payloadSchema: { type: 'bogus' } }] },
    ],
    [
      'a bad selector kind',
      {
        eventTypes: [
          { name: 'x', payloadSchema: true, semantics: { wake: { input: { kind: 'nope' } } } },
        ],
      },
    ],
  ])('rejects %s as invalid and stores nothing', async (_what, override) => {
    await expectRejectedWithoutWrite(
      ctx,
      () =>
        ctx.registry.registerProcess({
          ...registration('p1'),
          ...(override as object),
        } as Parameters<typeof ctx.registry.registerProcess>[0]),
      'invalid',
    );
    expect(await ctx.registry.getProcess('p1')).toBeUndefined();
  });

  it('accepts a completed terminal type without an awaitOutput selector', async () => {
    const record = await ctx.registry.registerProcess(
      registration('p1', {
        eventTypes: [
          { name: 'done', payloadSchema: true, semantics: { terminal: { state: 'completed' } } },
        ],
      }),
    );
    expect(record.eventTypes[0]?.name).toBe('done');
  });

  it('hands out immutable snapshots: mutating a result cannot change the registry', async () => {
    const record = await ctx.registry.registerProcess(registration('p1'));
    const again = await ctx.registry.registerProcess(registration('p1'));
    await ctx.registry.grantHandle({ sessionId: 's' }, 'p1', { label: 'L' });
    const { event } = await ctx.registry.appendEvent('p1', {
      eventType: 'producer.line',
      payload: { text: 'x' },
    });
    const [listed] = await ctx.registry.listHandleGrants({ sessionId: 's' });
    const stored = await ctx.registry.getProcess('p1');
    const attempts: [string, () => void][] = [
      ['record status', () => Object.assign(record.status, { state: 'completed' })],
      ['replayed record', () => Object.assign(again.input, { type: 'hacked' })],
      ['event payload', () => Object.assign(event.payload as object, { text: 'changed' })],
      ['grant descriptor', () => Object.assign(listed!.grant.descriptor, { label: 'changed' })],
      ['queried record', () => Object.assign(stored!, { id: 'other' })],
    ];
    for (const [what, mutate] of attempts) expect(mutate, what).toThrow(TypeError);
    expect(await ctx.registry.getProcess('p1')).toEqual(record);
    expect((await ctx.registry.eventsAfter('p1', 0))[0]?.payload).toEqual({ text: 'x' });
  });

  it('leaves absent optional fields out, never null, also as another instance reads them back', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    await ctx.registry.grantHandle({ sessionId: 's', agentFrameId: '' }, 'p1', {});
    await ctx.registry.appendEvent('p1', { eventType: 'producer.line', payload: { text: 'a' } });
    const other = await ctx.open();
    for (const registry of [ctx.registry, other]) {
      const record = (await registry.getProcess('p1'))!;
      expect(Object.keys(record)).not.toContain('externalRef');
      expect(Object.keys(record.provenance)).not.toContain('causedBy');
      expect(Object.keys(record.provenance.ownerScope)).toEqual(['sessionId']);
      const [grant] = await registry.handleGrantsForProcess('p1');
      expect(Object.keys(grant!)).not.toContain('agentFrameId');
      expect(grant!.descriptor).toStrictEqual({});
      const [listed] = await registry.listHandleGrants({ sessionId: 's' });
      expect(Object.keys(listed!.grant)).not.toContain('agentFrameId');
      const [event] = await registry.eventsAfter('p1', 0);
      expect(Object.keys(event!.invocation)).not.toContain('replay');
      expect(event!.semantics).toStrictEqual({});
    }
  });

  /** Every kind of result: queries' answers, and what commands and history return. */
  const resultsOfEveryKind = async () => {
    const r = ctx.registry;
    await r.registerProcess(registration('p1'));
    await r.grantHandle({ sessionId: 's' }, 'p1', { label: 'L' });
    const lease = await r.claimProcessLease('p1', 'w', 1000);
    const { wakeDelivery } = await r.appendEvent('p1', {
      eventType: 'producer.wake',
      payload: { text: 'w' },
      wakeTargetScope: { sessionId: 's' },
    });
    const frozen: [string, unknown][] = [
      ['lease', lease],
      ['stored lease', await r.getProcessLease('p1')],
      ['list page', (await r.listProcesses()).records[0]],
      ['change page', (await r.processesChangedSince()).records[0]],
      ['recent events', (await r.recentEvents('p1', 1))[0]],
      ['wake events', (await r.wakeEventsAfter('p1', 0))[0]],
      ['grants of a process', (await r.handleGrantsForProcess('p1'))[0]],
      ['asOf record', await r.asOf(ctx.clock.now).getProcess('p1')],
    ];
    const commandResults: [string, unknown][] = [
      ['wake delivery', wakeDelivery],
      ['history entry', (await r.history('p1'))[0]],
      ['session report', await r.deleteSessionProcessState('s')],
    ];
    return { frozen, commandResults };
  };
  const unfrozen = (results: [string, unknown][]) =>
    results.flatMap(([what, result]) => {
      expect(result, what).toBeDefined();
      try {
        Object.assign(result as object, { injected: true });
        return [what];
      } catch (error) {
        expect(error, what).toBeInstanceOf(TypeError);
        return [];
      }
    });

  it('freezes leases, pages, events, grants and asOf answers', async () => {
    const { frozen } = await resultsOfEveryKind();
    expect(unfrozen(frozen)).toEqual([]);
  });

  it('freezes wake deliveries, history entries and session reports too', async () => {
    const { commandResults } = await resultsOfEveryKind();
    expect(unfrozen(commandResults)).toEqual([]);
  });

  it('returns undefined for an unknown process', async () => {
    expect(await ctx.registry.getProcess('nope')).toBeUndefined();
  });

  it('sets an external ref and bumps updatedAtMs', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    ctx.clock.advance(250);
    const ref = { backend: 'k8s', id: 'job-7', metadata: { ns: 'default' } };
    const record = await ctx.registry.setExternalRef('p1', ref);
    expect(record.externalRef).toEqual(ref);
    expect(record.updatedAtMs).toBe(ctx.clock.now);
    expect(record.createdAtMs).toBe(ctx.clock.now - 250);
    expect(await ctx.registry.getProcess('p1')).toEqual(record);
  });

  it('replaces an earlier external ref, writing every call (an unchanged ref too) to history', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    const first = { backend: 'k8s', id: 'job-1', metadata: { try: 1 } };
    const second = { backend: 'nomad', id: 'alloc-2' };
    await ctx.registry.setExternalRef('p1', first);
    ctx.clock.advance(10);
    const replaced = await ctx.registry.setExternalRef('p1', second);
    expect(replaced.externalRef).toEqual(second);
    expect(replaced.updatedAtMs).toBe(ctx.clock.now);
    ctx.clock.advance(10);
    const before = (await ctx.log()).length;
    const same = await ctx.registry.setExternalRef('p1', second);
    expect((await ctx.log()).length).toBe(before + 1);
    expect(same.updatedAtMs).toBe(ctx.clock.now);
    expect(await ctx.registry.getProcess('p1')).toEqual(same);
    const refs = (await ctx.registry.history('p1', { types: ['ExternalRefSet'] })).map(
      (h) => h.data,
    );
    expect(refs).toEqual([
      expect.objectContaining({ externalRef: first }),
      expect.objectContaining({ externalRef: second }),
      expect.objectContaining({ externalRef: second }),
    ]);
    // an external ref is not a process event
    expect(await ctx.registry.eventsAfter('p1', 0)).toEqual([]);
  });

  it('drops an empty owner frame id before hashing: the same registration either way', async () => {
    const bare = await ctx.registry.registerProcess(
      registration('p1', { provenance: { ownerScope: { sessionId: 'o' }, hostProfileId: 'h' } }),
    );
    expect(bare.provenance.ownerScope).toEqual({ sessionId: 'o' });
    const withEmptyFrame = await expectNoWrite(ctx, () =>
      ctx.registry.registerProcess(
        registration('p1', {
          provenance: { ownerScope: { sessionId: 'o', agentFrameId: '' }, hostProfileId: 'h' },
        }),
      ),
    );
    expect(withEmptyFrame).toEqual(bare);
    await expectRejectedWithoutWrite(
      ctx,
      () =>
        ctx.registry.registerProcess(
          registration('p1', {
            provenance: { ownerScope: { sessionId: 'o', agentFrameId: 'f' }, hostProfileId: 'h' },
          }),
        ),
      'conflict',
      'registration hash conflict',
    );
  });

  it('rejects an external ref for an unknown process with not_found', async () => {
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.setExternalRef('ghost', { backend: 'k8s', id: 'x' }),
      'not_found',
      'unknown process `ghost`',
    );
  });

  it('lists non-terminal processes by id ascending', async () => {
    for (const id of ['c', 'a', 'd', 'b']) await ctx.registry.registerProcess(registration(id));
    await ctx.registry.completeProcess('d', { type: 'success', value: null });
    expect((await ctx.registry.listNonTerminal()).map((r) => r.id)).toEqual(['a', 'b', 'c']);
  });
};
