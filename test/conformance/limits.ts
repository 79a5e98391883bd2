import { expect, it } from 'vitest';
import type { ProcessRegistry } from '../../src/index.ts';
import type { ConformanceContext } from '../support/harness.ts';
import { expectRejectedWithoutWrite, registration } from './fixtures.ts';

const chars = (n: number) => 'x'.repeat(n);
/** A `producer.line` payload whose JSON is exactly `bytes` long: `{"text":"…"}` is 11 + n. */
const lineOfBytes = (bytes: number) => ({
  eventType: 'producer.line',
  payload: { text: chars(bytes - 11) },
});
const MiB = 1024 * 1024;
/** A transfer of `n` ids (none of them granted) from session `a` to `b`. */
const transferMany = (r: ProcessRegistry, n: number) =>
  r.transferHandleGrants(
    { sessionId: 'a' },
    { sessionId: 'b' },
    Array.from({ length: n }, (_, i) => `id-${i}`),
  );

/**
 * One SPEC limit: the call at the limit is accepted, one step past it is `invalid` and writes
 * nothing. The registry holds `p1`, granted to session `s`.
 */
type Limit = [
  string,
  (r: ProcessRegistry, n: number) => Promise<unknown>,
  /** the largest accepted size */
  number,
];

const limits: Limit[] = [
  ['process ids', (r, n) => r.registerProcess(registration(chars(n))), 512],
  [
    'event type names',
    (r, n) =>
      r.registerProcess(
        registration(`t${n}`, { eventTypes: [{ name: chars(n), payloadSchema: true }] }),
      ),
    512,
  ],
  [
    'owner session ids',
    (r, n) =>
      r.registerProcess(
        registration(`o${n}`, {
          provenance: { ownerScope: { sessionId: chars(n) }, hostProfileId: 'h' },
        }),
      ),
    512,
  ],
  ['scope session ids', (r, n) => r.grantHandle({ sessionId: chars(n) }, 'p1', {}), 512],
  [
    'scope frame ids',
    (r, n) => r.grantHandle({ sessionId: 's', agentFrameId: chars(n) }, 'p1', {}),
    512,
  ],
  ['descriptor kinds', (r, n) => r.grantHandle({ sessionId: 's' }, 'p1', { kind: chars(n) }), 512],
  [
    'descriptor labels',
    (r, n) => r.grantHandle({ sessionId: 's' }, 'p1', { label: chars(n) }),
    4096,
  ],
  [
    'replay keys',
    (r, n) =>
      r.appendEvent('p1', {
        eventType: 'producer.line',
        payload: { text: 'k' },
        replayKey: chars(n),
      }),
    512,
  ],
  ['lease owner ids', (r, n) => r.claimProcessLease('p1', chars(n), 10), 512],
  ['payload bytes', (r, n) => r.appendEvent('p1', lineOfBytes(n)), MiB],
  [
    'batch events',
    (r, n) =>
      r.appendEvents(
        'p1',
        Array.from({ length: n }, () => ({ eventType: 'producer.line', payload: { text: '' } })),
      ),
    1000,
  ],
];

/** docs/SPEC.md "Limits": each holds exactly at its edge, on every store. */
export const limitRules = (ctx: ConformanceContext): void => {
  it.each(limits)(
    'accepts %s at the limit and refuses one more as invalid, writing nothing',
    async (_what, call, limit) => {
      await ctx.registry.registerProcess(registration('p1'));
      await ctx.registry.grantHandle({ sessionId: 's' }, 'p1', {});
      await expectRejectedWithoutWrite(ctx, () => call(ctx.registry, limit + 1), 'invalid');
      const before = (await ctx.log()).length;
      await call(ctx.registry, limit);
      expect((await ctx.log()).length).toBeGreaterThan(before);
    },
  );

  it('refuses a batch over 4 MiB of payload, though each payload is under 1 MiB', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    const quarter = lineOfBytes(MiB);
    await expectRejectedWithoutWrite(
      ctx,
      () => ctx.registry.appendEvents('p1', [quarter, quarter, quarter, quarter, lineOfBytes(12)]),
      'invalid',
      /over the 4194304-byte limit/,
    );
  });

  it('refuses more than 10 000 ids in one transfer as invalid, writing nothing', async () => {
    await ctx.registry.registerProcess(registration('p1'));
    await ctx.registry.grantHandle({ sessionId: 'a' }, 'p1', {});
    await expectRejectedWithoutWrite(ctx, () => transferMany(ctx.registry, 10_001), 'invalid');
    expect(await ctx.registry.hasHandleGrant({ sessionId: 'a' }, 'p1')).toBe(true);
  });

  // The id list is validated before any store is read, so one store shows that 10 000 pass
  // (the grant check then loads 10 000 streams: seconds on the other stores).
  it.runIf(ctx.backend.name === 'memory')(
    'takes 10 000 ids in one transfer past validation, on to the grant check',
    async () => {
      await expectRejectedWithoutWrite(
        ctx,
        () => transferMany(ctx.registry, 10_000),
        'not_granted',
      );
    },
  );
};
