import { describe, expect, it } from 'vitest';
import {
  decideClaim,
  decideReclaim,
  decideReleaseLease,
  decideRenew,
} from '../../src/commands/leases.ts';
import { deciderSpec } from '../support/decider-spec.ts';
import { claimed, completedEvent, lease, registered, T0 } from './fixtures.ts';

const claim = deciderSpec(decideClaim);
const renew = deciderSpec(decideRenew);
const release = deciderSpec(decideReleaseLease);
const reclaim = deciderSpec(decideReclaim);
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

  it('given a newer lease, when released with a stale token, then nothing, refused as lease_lost', () => {
    release([
      registered,
      claimed(),
      claimed({ leaseToken: 'tok-2', fencingToken: 2, ownerId: 'w2' }),
    ])
      .when({ completion: { processId: 'p', leaseToken: 'tok-1' }, now: T0 })
      .thenRefuses('lease_lost', /`w2` holds fencing token 2/);
  });

  it('given a released lease, when released again, then nothing and no refusal', () => {
    release([
      registered,
      claimed(),
      {
        type: 'LeaseReleased',
        data: { processId: 'p', leaseToken: 'tok-1', fencingToken: 1, atMs: T0 },
      },
    ])
      .when({ completion: { processId: 'p', leaseToken: 'tok-1' }, now: T0 })
      .then([]);
  });
});

describe('decideReclaim', () => {
  const reclaimBy = (ownerId: string, observedLeaseToken: string, now: number) => ({
    processId: 'p',
    ownerId,
    observedLeaseToken,
    ttlMs: 100,
    now,
    leaseToken: 'new',
  });

  it('given a live lease, when reclaimed with its token before expiry, then a new lease above it', () => {
    reclaim([registered, claimed({ fencingToken: 4 })])
      .when(reclaimBy('w2', 'tok-1', T0 + 10))
      .then(
        [
          {
            type: 'LeaseClaimed',
            data: {
              lease: lease({
                ownerId: 'w2',
                leaseToken: 'new',
                fencingToken: 5,
                claimedAtMs: T0 + 10,
                expiresAtMs: T0 + 110,
              }),
            },
          },
        ],
        lease({
          ownerId: 'w2',
          leaseToken: 'new',
          fencingToken: 5,
          claimedAtMs: T0 + 10,
          expiresAtMs: T0 + 110,
        }),
      );
  });

  it('given an expired lease, when reclaimed with its token, then a new lease', () => {
    reclaim([registered, claimed()])
      .when(reclaimBy('w2', 'tok-1', T0 + 500))
      .thenResult((result) => expect(result).toMatchObject({ ownerId: 'w2', fencingToken: 2 }));
  });

  it('given a newer live lease, when reclaimed with the old token, then lease_held naming the holder', () => {
    reclaim([
      registered,
      claimed(),
      claimed({ leaseToken: 'tok-2', fencingToken: 2, ownerId: 'w2', expiresAtMs: T0 + 300 }),
    ])
      .when(reclaimBy('w3', 'tok-1', T0 + 10))
      .thenThrows('lease_held', `already leased by \`w2\` until ${T0 + 300} (fencing token 2)`);
  });

  it('given the same owner’s live lease, when reclaimed with another token, then lease_held', () => {
    reclaim([registered, claimed()])
      .when(reclaimBy('w1', 'tok-other', T0 + 10))
      .thenThrows('lease_held', 'not under the lease observed');
  });

  it.each([
    [
      'a released lease',
      [
        registered,
        claimed({ fencingToken: 7 }),
        {
          type: 'LeaseReleased',
          data: { processId: 'p', leaseToken: 'tok-1', fencingToken: 7, atMs: T0 },
        },
      ],
      8,
    ],
    ['another, expired lease', [registered, claimed({ leaseToken: 'tok-2', fencingToken: 3 })], 4],
    ['no lease ever', [registered], 1],
  ] as const)(
    'given %s, when reclaimed, then it is a claim (nothing to take over)',
    (_what, given, fencing) => {
      reclaim(given)
        .when(reclaimBy('w2', 'tok-1', T0 + 200))
        .thenResult((result) => expect(result.fencingToken).toBe(fencing));
    },
  );

  it('given no process or a terminal one, when reclaimed, then not_found or already_terminal', () => {
    reclaim([])
      .when(reclaimBy('w2', 'tok-1', T0))
      .thenThrows('not_found');
    reclaim([registered, claimed(), completedEvent])
      .when(reclaimBy('w2', 'tok-1', T0))
      .thenThrows('already_terminal');
  });
});
