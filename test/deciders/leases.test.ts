import { describe, expect, it } from 'vitest';
import { decideClaim, decideReleaseLease, decideRenew } from '../../src/commands/leases.ts';
import { deciderSpec } from '../support/decider-spec.ts';
import { claimed, completedEvent, lease, registered, T0 } from './fixtures.ts';

const claim = deciderSpec(decideClaim);
const renew = deciderSpec(decideRenew);
const release = deciderSpec(decideReleaseLease);
const claimBy = (ownerId: string, now: number, leaseToken = 'new') => ({
  processId: 'p',
  ownerId,
  ttlMs: 100,
  now,
  leaseToken,
});

describe('decideClaim', () => {
  it('given a fresh process, when claimed, then a lease with fencing token 1', () => {
    claim([registered])
      .when(claimBy('w1', T0))
      .then([{ type: 'LeaseClaimed', data: { lease: lease({ leaseToken: 'new' }) } }]);
  });

  it('given no process, when claimed, then not_found', () => {
    claim([]).when(claimBy('w1', T0)).thenThrows('not_found', 'unknown process `p`');
  });

  it('given a terminal process, when claimed, then already_terminal', () => {
    claim([registered, completedEvent]).when(claimBy('w1', T0)).thenThrows('already_terminal');
  });

  it.each([
    ['another owner, live lease', 'w2', T0 + 99, 'lease_held'],
    ['another owner, expired lease', 'w2', T0 + 100, undefined],
    ['the same owner, live lease', 'w1', T0 + 50, undefined],
  ] as const)('given %s, when claimed', (_what, owner, now, error) => {
    const when = claim([registered, claimed()]).when(claimBy(owner, now));
    if (error) when.thenThrows(error, `already leased by \`w1\` until ${T0 + 100}`);
    else when.thenResult((result) => expect(result.fencingToken).toBe(2));
  });

  it('given a released lease with token 5, when claimed, then fencing token 6', () => {
    claim([
      registered,
      claimed({ fencingToken: 5 }),
      {
        type: 'LeaseReleased',
        data: { processId: 'p', leaseToken: 'tok-1', fencingToken: 5, atMs: T0 },
      },
    ])
      .when(claimBy('w2', T0))
      .thenResult((result) => expect(result.fencingToken).toBe(6));
  });
});

describe('decideRenew', () => {
  it('given a live lease, when renewed by its holder, then only the expiry moves', () => {
    renew([registered, claimed()])
      .when({ lease: lease(), ttlMs: 500, now: T0 + 10 })
      .then(
        [
          {
            type: 'LeaseRenewed',
            data: {
              processId: 'p',
              leaseToken: 'tok-1',
              fencingToken: 1,
              expiresAtMs: T0 + 510,
              atMs: T0 + 10,
            },
          },
        ],
        lease({ expiresAtMs: T0 + 510 }),
      );
  });

  it.each([
    ['expired', lease(), T0 + 100],
    ['another token', lease({ leaseToken: 'other' }), T0],
    ['another fencing token', lease({ fencingToken: 2 }), T0],
  ])('given a lease, when renewed with %s, then lease_lost', (_what, presented, now) => {
    renew([registered, claimed()])
      .when({ lease: presented, ttlMs: 10, now })
      .thenThrows('lease_lost', 'missing or expired');
  });
});

describe('decideReleaseLease', () => {
  it('given a lease, when released with its token, then LeaseReleased', () => {
    release([registered, claimed()])
      .when({ completion: { processId: 'p', leaseToken: 'tok-1' }, now: T0 })
      .then([
        {
          type: 'LeaseReleased',
          data: { processId: 'p', leaseToken: 'tok-1', fencingToken: 1, atMs: T0 },
        },
      ]);
  });

  it('given a newer lease, when released with a stale token, then nothing', () => {
    release([
      registered,
      claimed(),
      claimed({ leaseToken: 'tok-2', fencingToken: 2, ownerId: 'w2' }),
    ])
      .when({ completion: { processId: 'p', leaseToken: 'tok-1' }, now: T0 })
      .then([]);
  });
});
