import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/domain/canonical.ts';
import { cancelRequest } from '../../src/index.ts';
import type { ConformanceContext } from '../support/harness.ts';
import { expectNoWrite, expectRejectedWithoutWrite, registration } from './fixtures.ts';

const sha = (value: unknown) => createHash('sha256').update(canonicalJson(value)).digest('hex');
const target = { sessionId: 'alice', agentFrameId: 'f' };

export const appendRules = (ctx: ConformanceContext): void => {
  const line = (text: string, replayKey?: string) => ({
    eventType: 'producer.line',
    payload: { text },
    ...(replayKey ? { replayKey } : {}),
  });

  it('appends with dense sequences and the event shape of the SPEC', async () => {
    await ctx.registry.registerProcess(
      registration('p1', {
        provenance: { ownerScope: { sessionId: 'owner' }, hostProfileId: 'h' },
      }),
    );
    ctx.clock.advance(10);
    const { event, wakeDelivery } = await ctx.registry.appendEvent('p1', line('a', 'k1'));
    expect(wakeDelivery).toBeUndefined();
    expect(event).toEqual({
      processId: 'p1',
      sequence: 1,
      eventType: 'producer.line',
      payload: { text: 'a' },
      occurredAtMs: ctx.clock.now,
      invocation: {
        scope: 'owner',
        subject: { kind: 'processEvent', processId: 'p1', sequence: 1, eventType: 'producer.line' },
        causedBy: { kind: 'process', processId: 'p1' },
        replay: { key: 'k1' },
      },
      semantics: {},
    });
    ctx.clock.advance(10);
    const second = await ctx.registry.appendEvent('p1', line('b'));
    expect(second.event.sequence).toBe(2);
    expect(second.event.invocation.replay).toBeUndefined();
    expect((await ctx.registry.getProcess('p1'))?.updatedAtMs).toBe(ctx.clock.now);
    expect((await ctx.registry.eventsAfter('p1', 0)).map((e) => e.sequence)).toEqual([1, 2]);
  });

  it('rejects an unknown process with not_found', async () => {
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.appendEvent('ghost', line('x')),
      'not_found',
      'unknown process `ghost`',
    );
  });

  it('replays a known key with the same payload: the same event, nothing written', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    const first = await ctx.registry.appendEvent('p1', line('a', 'k'));
    ctx.clock.advance(5);
    const again = await expectNoWrite(ctx, () => ctx.registry.appendEvent('p1', line('a', 'k')));
    expect(again.event).toEqual(first.event);
    expect(await ctx.registry.eventsAfter('p1', 0)).toHaveLength(1);
  });

  it('hashes the canonical JSON of [eventType, payload]: a replay with its keys reordered is the same event', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    const payload = { text: 'a', meta: { z: 1, a: [1, { y: 2, b: 3 }] } };
    const first = await ctx.registry.appendEvent('p1', {
      eventType: 'producer.line',
      payload,
      replayKey: 'k',
    });
    const [entry] = (await ctx.registry.history('p1')).filter(
      (h) => h.type === 'ProcessEventAppended',
    );
    expect(entry?.data).toMatchObject({ payloadHash: sha(['producer.line', payload]) });
    // another instance, reading the stored event (and its key) back from the store
    const other = await ctx.open();
    const reordered = { meta: { a: [1, { b: 3, y: 2 }], z: 1 }, text: 'a' };
    for (const registry of [ctx.registry, other]) {
      const again = await expectNoWrite(ctx, () =>
        registry.appendEvent('p1', {
          eventType: 'producer.line',
          payload: reordered,
          replayKey: 'k',
        }),
      );
      expect(again.event).toEqual(first.event);
    }
  });

  it('gives back JSON with its members in code unit order, the same from the call and from every read', async () => {
    const input = { type: 'tool.exec', command: 'ls', args: { z: 1, a: 2 } };
    await ctx.registry.registerProcess(registration('p1', { input }));
    const payload = { text: 'a', meta: { z: 1, a: [1, { y: 2, b: 3 }] } };
    const appended = await ctx.registry.appendEvent('p1', { eventType: 'producer.line', payload });
    const sorted = '{"meta":{"a":[1,{"b":3,"y":2}],"z":1},"text":"a"}';
    expect(JSON.stringify(appended.event.payload)).toBe(sorted);
    const other = await ctx.open();
    for (const registry of [ctx.registry, other]) {
      const [read] = await registry.eventsAfter('p1', 0);
      expect(JSON.stringify(read?.payload)).toBe(sorted);
      expect(JSON.stringify((await registry.getProcess('p1'))?.input)).toBe(
        '{"args":{"a":2,"z":1},"command":"ls","type":"tool.exec"}',
      );
    }
  });

  it('rejects a known key with another payload or type as a conflict', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    await ctx.registry.appendEvent('p1', line('a', 'k'));
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.appendEvent('p1', line('b', 'k')),
      'conflict',
      /replay key .* conflicts with an existing event/,
    );
    await expectRejectedWithoutWrite(
      ctx,
      () =>
        ctx.registry.appendEvent('p1', {
          eventType: 'producer.wake',
          payload: { text: 'a' },
          replayKey: 'k',
        }),
      'conflict',
    );
  });

  it('checks the replay key before the event type', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    await ctx.registry.appendEvent('p1', line('a', 'k'));
    await expectRejectedWithoutWrite(
      ctx,
      () =>
        ctx.registry.appendEvent('p1', { eventType: 'undeclared', payload: {}, replayKey: 'k' }),
      'conflict',
    );
  });

  it('rejects an undeclared event type', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.appendEvent('p1', { eventType: 'nope', payload: {} }),
      'invalid',
      'undeclared event type',
    );
  });

  it.each(['process.completed', 'process.failed', 'process.cancelled', 'process.cancel_requested'])(
    'requires a replay key for %s',
    async (eventType) => {
      await ctx.registry.registerProcess(registration('p1'));
      await expectRejectedWithoutWrite(
        ctx,
        () => ctx.registry.appendEvent('p1', { eventType, payload: { awaitOutput: 'x' } }),
        'invalid',
        'requires a deterministic replay key',
      );
      await expectRejectedWithoutWrite(
        ctx,
        () =>
          ctx.registry.appendEvent('p1', {
            eventType,
            payload: { awaitOutput: 'x' },
            replayKey: '',
          }),
        'invalid',
        'requires a deterministic replay key',
      );
    },
  );

  it('validates the payload against the declared JSON Schema', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.appendEvent('p1', { eventType: 'producer.line', payload: { text: 7 } }),
      'invalid',
      'invalid `producer.line` payload',
    );
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.appendEvent('p1', { eventType: 'producer.line', payload: [] }),
      'invalid',
    );
  });

  it('rejects a second terminal event, but allows non-terminal events after the end', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    await ctx.registry.appendEvent('p1', {
      eventType: 'process.completed',
      payload: { awaitOutput: { type: 'success', value: 1 } },
      replayKey: 't1',
    });
    await expectRejectedWithoutWrite(
      ctx,
      () =>
        ctx.registry.appendEvent('p1', {
          eventType: 'process.failed',
          payload: { awaitOutput: 'boom' },
          replayKey: 't2',
        }),
      'already_terminal',
      'is already terminal',
    );
    const after = await ctx.registry.appendEvent('p1', line('late'));
    expect(after.event.sequence).toBe(2);
    expect((await ctx.registry.getProcess('p1'))?.status.state).toBe('completed');
  });

  it('rejects a materialized wake without a target scope', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.appendEvent('p1', { eventType: 'producer.wake', payload: { text: 'hi' } }),
      'invalid',
      'without a wake target scope',
    );
  });

  it('materializes a wake delivery with its SPEC identity', async () => {
    await ctx.registry.registerProcess(
      registration('p1', {
        provenance: { ownerScope: { sessionId: 'o' }, hostProfileId: 'h', causedBy: { turn: 3 } },
      }),
    );
    const { event, wakeDelivery } = await ctx.registry.appendEvent('p1', {
      eventType: 'producer.wake',
      payload: { text: 'ready' },
      wakeTargetScope: target,
    });
    expect(event.semantics.wake).toEqual({ input: 'ready', dedupeKey: 'p1:1' });
    expect(wakeDelivery).toEqual({
      wakeId: `wake:${sha(['session:alice/frame:f', 'p1:1'])}`,
      targetSessionId: 'alice',
      targetScopeId: 'session:alice/frame:f',
      processId: 'p1',
      sequence: 1,
      eventType: 'producer.wake',
      eventInvocation: event.invocation,
      processCausedBy: { turn: 3 },
      dedupeKey: 'p1:1',
      input: 'ready',
      createdAtMs: event.occurredAtMs,
    });
  });

  it('re-materializes a replayed wake for the new target: same target, same wakeId', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    const request = {
      eventType: 'producer.wake',
      payload: { text: 'w' },
      replayKey: 'wk',
      wakeTargetScope: target,
    };
    const first = await ctx.registry.appendEvent('p1', request);
    const same = await expectNoWrite(ctx, () => ctx.registry.appendEvent('p1', request));
    expect(same.wakeDelivery?.wakeId).toBe(first.wakeDelivery?.wakeId);
    const other = await ctx.registry.appendEvent('p1', {
      ...request,
      wakeTargetScope: { sessionId: 'bob' },
    });
    expect(other.event).toEqual(first.event);
    expect(other.wakeDelivery?.targetScopeId).toBe('session:bob');
    expect(other.wakeDelivery?.wakeId).toBe(`wake:${sha(['session:bob', 'p1:1'])}`);
    const none = await ctx.registry.appendEvent('p1', { ...request, wakeTargetScope: undefined });
    expect(none.wakeDelivery).toBeUndefined();
  });

  it('lists only unacked wake events; ackWake is idempotent', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    const wake = (text: string) => ({
      eventType: 'producer.wake',
      payload: { text },
      wakeTargetScope: target,
    });
    await ctx.registry.appendEvent('p1', wake('1'));
    await ctx.registry.appendEvent('p1', line('plain'));
    await ctx.registry.appendEvent('p1', wake('3'));
    await ctx.registry.appendEvent('p1', wake('4'));
    expect((await ctx.registry.wakeEventsAfter('p1', 0)).map((e) => e.sequence)).toEqual([1, 3, 4]);
    expect((await ctx.registry.wakeEventsAfter('p1', 1)).map((e) => e.sequence)).toEqual([3, 4]);
    await ctx.registry.ackWake('p1', 3);
    await expectNoWrite(ctx, () => ctx.registry.ackWake('p1', 3));
    await expectNoWrite(ctx, () => ctx.registry.ackWake('p1', 2));
    expect((await ctx.registry.wakeEventsAfter('p1', 0)).map((e) => e.sequence)).toEqual([1, 4]);
    await expectRejectedWithoutWrite(ctx, () => ctx.registry.ackWake('ghost', 1), 'not_found');
    await expect(ctx.registry.wakeEventsAfter('ghost', 0)).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('returns events after a sequence, ascending; unknown process → not_found', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    for (const t of ['a', 'b', 'c', 'd']) await ctx.registry.appendEvent('p1', line(t));
    expect((await ctx.registry.eventsAfter('p1', 2)).map((e) => e.payload)).toEqual([
      { text: 'c' },
      { text: 'd' },
    ]);
    expect(await ctx.registry.eventsAfter('p1', 4)).toEqual([]);
    expect(await ctx.registry.eventsAfter('p1', 99)).toEqual([]);
    await expect(ctx.registry.eventsAfter('ghost', 0)).rejects.toMatchObject({
      code: 'not_found',
      message: expect.stringContaining('`ghost`'),
    });
  });

  it('builds the cancel request the SPEC describes', async () => {
    const payload = { reason: 'user' };
    expect(cancelRequest('p1', 'user')).toEqual({
      eventType: 'process.cancel_requested',
      payload,
      replayKey: `process:p1:cancel_requested:${sha(['process.cancel_requested', payload])}`,
    });
    expect(cancelRequest('p1').payload).toEqual({ reason: null });
    await ctx.registry.registerProcess(registration('p1'));
    const first = await ctx.registry.appendEvent('p1', cancelRequest('p1', 'user'));
    const again = await expectNoWrite(ctx, () =>
      ctx.registry.appendEvent('p1', cancelRequest('p1', 'user')),
    );
    expect(again.event.sequence).toBe(first.event.sequence);
    expect((await ctx.registry.getProcess('p1'))?.status.state).toBe('running');
  });

  it('completes a process idempotently by outcome type', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    ctx.clock.advance(7);
    const output = { type: 'success' as const, value: { answer: 42 } };
    const record = await ctx.registry.completeProcess('p1', output);
    expect(record.status).toEqual({ state: 'completed', awaitOutput: output });
    expect(record.updatedAtMs).toBe(ctx.clock.now);
    const [event] = await ctx.registry.eventsAfter('p1', 0);
    expect(event).toMatchObject({
      eventType: 'process.completed',
      payload: { awaitOutput: output },
      invocation: { replay: { key: 'process:p1:terminal:process.completed' } },
    });
    const again = await expectNoWrite(ctx, () => ctx.registry.completeProcess('p1', output));
    expect(again).toEqual(record);
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.completeProcess('p1', { type: 'success', value: 0 }),
      'conflict',
    );
    await expectRejectedWithoutWrite(
      ctx,
      () =>
        ctx.registry.completeProcess('p1', {
          type: 'failure',
          class: 'execution',
          code: 'x',
          message: 'late',
        }),
      'already_terminal',
    );
  });

  it.each([
    [
      { type: 'failure', class: 'io', code: 'enoent', message: 'missing', raw: { path: '/x' } },
      'failed',
      'process.failed',
    ],
    [{ type: 'cancelled', message: 'stopped' }, 'cancelled', 'process.cancelled'],
  ] as const)('completes with %o as %s', async (output, state, eventType) => {
    await ctx.registry.registerProcess(registration('p1'));
    const record = await ctx.registry.completeProcess('p1', output);
    expect(record.status).toEqual({ state, awaitOutput: output });
    expect((await ctx.registry.eventsAfter('p1', 0))[0]?.eventType).toBe(eventType);
    expect(await ctx.registry.listNonTerminal()).toEqual([]);
  });

  it('rejects completing an unknown process with not_found', async () => {
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.completeProcess('ghost', { type: 'success', value: 1 }),
      'not_found',
    );
  });

  describe('appendEvents (a batch in one write)', () => {
    const wake = (text: string) => ({
      eventType: 'producer.wake',
      payload: { text },
      wakeTargetScope: target,
    });

    it('decides each request in order and stores them together', async () => {
      await ctx.registry.registerProcess(registration('p1'));
      await ctx.registry.appendEvent('p1', line('first'));
      const before = (await ctx.log()).length;
      const results = await ctx.registry.appendEvents('p1', [
        line('a'),
        wake('w'),
        line('b', 'kb'),
      ]);
      expect(results.map((r) => r.event.sequence)).toEqual([2, 3, 4]);
      expect(results[1]?.wakeDelivery?.dedupeKey).toBe('p1:3');
      expect(results[2]?.event.invocation.replay).toEqual({ key: 'kb' });
      expect((await ctx.log()).length).toBe(before + 3);
      const appended = (await ctx.registry.history('p1')).slice(-3);
      expect(new Set(appended.map((h) => h.metadata.commandId)).size).toBe(1);
      expect(appended.map((h) => h.metadata.command)).toEqual([
        'appendEvents',
        'appendEvents',
        'appendEvents',
      ]);
      expect((await ctx.registry.eventsAfter('p1', 0)).map((e) => e.sequence)).toEqual([
        1, 2, 3, 4,
      ]);
      expect((await ctx.registry.wakeEventsAfter('p1', 0)).map((e) => e.sequence)).toEqual([3]);
    });

    it('replays keys used earlier in the batch or already stored', async () => {
      await ctx.registry.registerProcess(registration('p1'));
      const [a, again] = await ctx.registry.appendEvents('p1', [line('x', 'k1'), line('x', 'k1')]);
      expect(again?.event).toEqual(a?.event);
      expect(await ctx.registry.eventsAfter('p1', 0)).toHaveLength(1);
      const [replayed, fresh] = await ctx.registry.appendEvents('p1', [line('x', 'k1'), line('y')]);
      expect(replayed?.event).toEqual(a?.event);
      expect(fresh?.event.sequence).toBe(2);
      const none = await expectNoWrite(ctx, () =>
        ctx.registry.appendEvents('p1', [line('x', 'k1')]),
      );
      expect(none[0]?.event).toEqual(a?.event);
    });

    it('stores nothing when any request breaks a rule', async () => {
      await ctx.registry.registerProcess(registration('p1'));
      await expectRejectedWithoutWrite(
        ctx,
        () => ctx.registry.appendEvents('p1', [line('ok'), { eventType: 'nope', payload: {} }]),
        'invalid',
        'undeclared event type',
      );
      const end = (n: number) => ({
        eventType: 'process.completed',
        payload: { awaitOutput: { type: 'success', value: n } },
        replayKey: `end-${n}`,
      });
      await expectRejectedWithoutWrite(
        ctx,
        () => ctx.registry.appendEvents('p1', [line('ok'), end(1), end(2)]),
        'already_terminal',
      );
      await expectRejectedWithoutWrite(
        ctx,
        () => ctx.registry.appendEvents('p1', [line('a', 'k'), line('b', 'k')]),
        'conflict',
      );
      await expectRejectedWithoutWrite(
        ctx,
        () => ctx.registry.appendEvents('ghost', [line('a')]),
        'not_found',
      );
      expect(await ctx.registry.eventsAfter('p1', 0)).toEqual([]);
      expect((await ctx.registry.getProcess('p1'))?.status.state).toBe('running');
    });

    it('fails with the first failing request’s error, seeing the requests before it', async () => {
      await ctx.registry.registerProcess(registration('p1'));
      const end = { eventType: 'process.completed', payload: { awaitOutput: 1 }, replayKey: 'e' };
      // the second request breaks a rule only because of the first; the third breaks another
      await expectRejectedWithoutWrite(
        ctx,
        () =>
          ctx.registry.appendEvents('p1', [
            line('a', 'k'),
            line('b', 'k'),
            { eventType: 'nope', payload: {} },
          ]),
        'conflict',
        /replay key `k`/,
      );
      await expectRejectedWithoutWrite(
        ctx,
        () =>
          ctx.registry.appendEvents('p1', [
            end,
            { ...end, eventType: 'process.failed', replayKey: 'f' },
            { eventType: 'producer.line', payload: { text: 5 } },
          ]),
        'already_terminal',
      );
      await expectRejectedWithoutWrite(
        ctx,
        () =>
          ctx.registry.appendEvents('p1', [
            line('ok'),
            { eventType: 'producer.line', payload: { text: 5 } },
            { eventType: 'nope', payload: {} },
          ]),
        'invalid',
        'invalid `producer.line` payload',
      );
      expect((await ctx.registry.getProcess('p1'))?.status.state).toBe('running');
    });

    it('ends the process when the batch holds a terminal event', async () => {
      await ctx.registry.registerProcess(registration('p1'));
      const awaiting = ctx.registry.awaitProcess('p1');
      const output = { type: 'success' as const, value: 'batched' };
      await ctx.registry.appendEvents('p1', [
        line('last words'),
        { eventType: 'process.completed', payload: { awaitOutput: output }, replayKey: 'end' },
        line('after the end'),
      ]);
      expect(await awaiting).toEqual(output);
      expect(await ctx.registry.listNonTerminal()).toEqual([]);
      expect((await ctx.registry.eventsAfter('p1', 0)).map((e) => e.sequence)).toEqual([1, 2, 3]);
    });

    it('returns [] for an empty batch, writing nothing', async () => {
      await ctx.registry.registerProcess(registration('p1'));
      expect(await expectNoWrite(ctx, () => ctx.registry.appendEvents('p1', []))).toEqual([]);
    });
  });
};
