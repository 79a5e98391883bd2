import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { canonicalJson } from '../../src/domain/canonical.ts';
import type { Json, ProcessEventType, Selector } from '../../src/index.ts';
import type { ConformanceContext } from '../support/harness.ts';
import { expectRejectedWithoutWrite } from './fixtures.ts';

const sha = (value: unknown) => createHash('sha256').update(canonicalJson(value)).digest('hex');
const target = { sessionId: 's' };

/** Selectors, truthiness, terminal outputs and dedupe keys, through appendEvent. */
export const semanticsRules = (ctx: ConformanceContext): void => {
  let n = 0;
  const withType = async (eventType: ProcessEventType): Promise<string> => {
    const id = `sem-${n++}`;
    await ctx.registry.registerProcess({ id, input: { type: 't' }, eventTypes: [eventType] });
    return id;
  };
  const wakeInput = async (input: Selector, payload: Json): Promise<string | undefined> => {
    const id = await withType({ name: 'w', payloadSchema: true, semantics: { wake: { input } } });
    const { event } = await ctx.registry.appendEvent(id, {
      eventType: 'w',
      payload,
      wakeTargetScope: target,
    });
    return event.semantics.wake?.input;
  };

  it.each([
    ['payload', { kind: 'payload' }, { a: 1 }, '{"a":1}'],
    ['payload string', { kind: 'payload' }, 'plain', 'plain'],
    ['pointer', { kind: 'pointer', pointer: '/a/b' }, { a: { b: 'deep' } }, 'deep'],
    ['pointer to array item', { kind: 'pointer', pointer: '/list/1' }, { list: [1, 2] }, '2'],
    [
      'pointer with escapes',
      { kind: 'pointer', pointer: '/a~1b/c~0d' },
      { 'a/b': { 'c~d': 'x' } },
      'x',
    ],
    [
      'pointer to an object',
      { kind: 'pointer', pointer: '/o' },
      { o: { z: 1, a: 2 } },
      '{"a":2,"z":1}',
    ],
    ['const', { kind: 'const', value: { k: [true] } }, {}, '{"k":[true]}'],
    ['present (yes)', { kind: 'present', pointer: '/a' }, { a: null }, 'true'],
    ['present (no)', { kind: 'present', pointer: '/b' }, { a: 1 }, 'false'],
    [
      'template',
      {
        kind: 'template',
        template: '{name} has {count} items; {missing} stays',
        fields: {
          name: { kind: 'pointer', pointer: '/n' },
          count: { kind: 'pointer', pointer: '/c' },
        },
      },
      { n: 'box', c: 3 },
      'box has 3 items; {missing} stays',
    ],
    [
      'nested template',
      {
        kind: 'template',
        template: '<{inner}>',
        fields: {
          inner: { kind: 'template', template: '{x}!', fields: { x: { kind: 'const', value: 1 } } },
        },
      },
      {},
      '<1!>',
    ],
  ] as const)('selects with %s', async (_what, selector, payload, expected) => {
    expect(await wakeInput(selector as Selector, payload as Json)).toBe(expected);
  });

  it('rejects a pointer that does not match, writing nothing', async () => {
    const id = await withType({
      name: 'w',
      payloadSchema: true,
      semantics: { wake: { input: { kind: 'pointer', pointer: '/missing' } } },
    });
    await expectRejectedWithoutWrite(
      ctx,
      () =>
        ctx.registry.appendEvent(id, {
          eventType: 'w',
          payload: { a: 1 },
          wakeTargetScope: target,
        }),
      'invalid',
      /payload pointer .*did not match/,
    );
  });

  it.each([
    [null, false],
    [false, false],
    ['', false],
    [[], false],
    [{}, false],
    [0, true],
    [true, true],
    ['no', true],
    [[0], true],
    [{ a: null }, true],
  ] as const)('wakes only when `when` is truthy: %j → %s', async (value, wakes) => {
    const id = await withType({
      name: 'w',
      payloadSchema: true,
      semantics: {
        wake: {
          when: { kind: 'pointer', pointer: '/flag' },
          input: { kind: 'const', value: 'go' },
        },
      },
    });
    const { event, wakeDelivery } = await ctx.registry.appendEvent(id, {
      eventType: 'w',
      payload: { flag: value as Json },
      wakeTargetScope: target,
    });
    expect(event.semantics.wake !== undefined).toBe(wakes);
    expect(wakeDelivery !== undefined).toBe(wakes);
  });

  it('appends a non-waking event without a target scope when `when` is falsy', async () => {
    const id = await withType({
      name: 'w',
      payloadSchema: true,
      semantics: {
        wake: { when: { kind: 'present', pointer: '/urgent' }, input: { kind: 'payload' } },
      },
    });
    const { event } = await ctx.registry.appendEvent(id, { eventType: 'w', payload: {} });
    expect(event.semantics).toEqual({});
  });

  it.each([
    ['eventIdentity', { kind: 'eventIdentity' }, (id: string) => `${id}:1`],
    [
      'selector',
      { kind: 'selector', selector: { kind: 'pointer', pointer: '/job' } },
      () => '{"n":7}',
    ],
    ['const', { kind: 'const', value: 'fixed' }, () => 'fixed'],
  ] as const)('derives the dedupe key by %s', async (_what, dedupeKey, expected) => {
    const id = await withType({
      name: 'w',
      payloadSchema: true,
      semantics: { wake: { input: { kind: 'const', value: 'i' }, dedupeKey } },
    });
    const { wakeDelivery } = await ctx.registry.appendEvent(id, {
      eventType: 'w',
      payload: { job: { n: 7 } },
      wakeTargetScope: target,
    });
    expect(wakeDelivery?.dedupeKey).toBe(expected(id));
    expect(wakeDelivery?.wakeId).toBe(`wake:${sha(['session:s', expected(id)])}`);
  });

  const terminalCases = [
    [
      'a selected value that parses as an await output',
      'failed',
      { kind: 'pointer', pointer: '/o' },
      { o: { type: 'success', value: 1 } },
      { type: 'success', value: 1 },
    ],
    [
      'completed with a plain selected value',
      'completed',
      { kind: 'pointer', pointer: '/o' },
      { o: [1, 2] },
      { type: 'success', value: [1, 2] },
    ],
    [
      'failed with a plain selected value',
      'failed',
      { kind: 'pointer', pointer: '/o' },
      { o: { err: 'disk' } },
      {
        type: 'failure',
        class: 'execution',
        code: 'process_failed',
        message: '{"err":"disk"}',
        raw: { err: 'disk' },
      },
    ],
    [
      'failed with a string',
      'failed',
      { kind: 'pointer', pointer: '/o' },
      { o: 'boom' },
      { type: 'failure', class: 'execution', code: 'process_failed', message: 'boom', raw: 'boom' },
    ],
    [
      'cancelled with a plain selected value',
      'cancelled',
      { kind: 'const', value: 'user stop' },
      {},
      { type: 'cancelled', message: 'user stop', raw: 'user stop' },
    ],
    [
      'completed without a selector (whole payload)',
      'completed',
      undefined,
      { all: true },
      { type: 'success', value: { all: true } },
    ],
  ] as const;

  it.each(terminalCases)(
    'materializes the terminal output: %s',
    async (_w, state, selector, payload, output) => {
      const id = await withType({
        name: 'end',
        payloadSchema: true,
        semantics: {
          terminal: { state, ...(selector ? { awaitOutput: selector as Selector } : {}) },
        },
      });
      const { event } = await ctx.registry.appendEvent(id, {
        eventType: 'end',
        payload: payload as Json,
        replayKey: 'end',
      });
      expect(event.semantics.terminal).toEqual({ state, awaitOutput: output });
      expect((await ctx.registry.getProcess(id))?.status).toEqual({ state, awaitOutput: output });
      expect(await ctx.registry.awaitProcess(id)).toEqual(output);
    },
  );
};
