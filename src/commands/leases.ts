import { RegistryError } from '../domain/errors.ts';
import { isTerminal, type ProcessState } from '../domain/process-state.ts';
import type { LeaseCompletion, ProcessLease } from '../domain/schemas.ts';
import { type Decision, noop } from './decision.ts';
import { requireRecord } from './require.ts';

/** A lease is live while `expiresAtMs > now`; TTL 0 is never live. */
export const isLive = (lease: ProcessLease | undefined, now: number): lease is ProcessLease =>
  lease !== undefined && lease.expiresAtMs > now;

/**
 * claimProcessLease. The fencing token is the highest ever issued for the process + 1, kept
 * across release and expiry, so a stale holder can never present a token a newer owner has.
 */
export const decideClaim = (
  state: ProcessState | undefined,
  command: { processId: string; ownerId: string; ttlMs: number; now: number; leaseToken: string },
): Decision<ProcessLease> => {
  requireLeasable(state, command.processId);
  const current = state?.lease;
  if (isLive(current, command.now) && current.ownerId !== command.ownerId) {
    throw new RegistryError(
      'lease_held',
      `process \`${command.processId}\` is already leased by \`${current.ownerId}\` until ${current.expiresAtMs}; retry after it expires`,
    );
  }
  return newLease(state, command);
};

/** A new fencing epoch: the highest fencing token ever issued + 1, a fresh token, now + ttl. */
const newLease = (
  state: ProcessState | undefined,
  command: { processId: string; ownerId: string; ttlMs: number; now: number; leaseToken: string },
): Decision<ProcessLease> => {
  const lease: ProcessLease = {
    schemaVersion: 1,
    processId: command.processId,
    ownerId: command.ownerId,
    leaseToken: command.leaseToken,
    fencingToken: (state?.maxFencingToken ?? 0) + 1,
    claimedAtMs: command.now,
    expiresAtMs: command.now + command.ttlMs,
  };
  return { events: [{ type: 'LeaseClaimed', data: { lease } }], result: lease };
};

/**
 * The stored lease, when `lease` is it (same token, fencing token and owner) and it is
 * live; else `lease_lost` (unknown process: `not_found`). Whoever passes holds the process
 * now: no other owner can have claimed it since.
 */
export const requireHeldLease = (
  state: ProcessState | undefined,
  lease: ProcessLease,
  now: number,
): ProcessLease => {
  requireRecord(state, lease.processId);
  const stored = state?.lease;
  if (
    !isLive(stored, now) ||
    stored.leaseToken !== lease.leaseToken ||
    stored.fencingToken !== lease.fencingToken ||
    stored.ownerId !== lease.ownerId
  ) {
    throw new RegistryError(
      'lease_lost',
      `lease of process \`${lease.processId}\` (fencing token ${lease.fencingToken}) is missing or expired; stop working on it and claim it again`,
    );
  }
  return stored;
};

/** A registered process that is still running (only those can be leased). */
const requireLeasable = (state: ProcessState | undefined, processId: string): void => {
  const record = requireRecord(state, processId);
  if (isTerminal(record)) {
    throw new RegistryError(
      'already_terminal',
      `process \`${processId}\` is already terminal (${record.status.state}); there is nothing to recover, so it cannot be leased`,
    );
  }
};

/** renewProcessLease: only the holder of the stored, unexpired lease may extend it. */
export const decideRenew = (
  state: ProcessState | undefined,
  command: { lease: ProcessLease; ttlMs: number; now: number },
): Decision<ProcessLease> => {
  const { lease } = command;
  const stored = requireHeldLease(state, lease, command.now);
  const renewed: ProcessLease = { ...stored, expiresAtMs: command.now + command.ttlMs };
  return {
    events: [
      {
        type: 'LeaseRenewed',
        data: {
          processId: lease.processId,
          leaseToken: stored.leaseToken,
          fencingToken: stored.fencingToken,
          expiresAtMs: renewed.expiresAtMs,
          atMs: command.now,
        },
      },
    ],
    result: renewed,
  };
};

/**
 * completeProcessLease: releases the lease only if the token is the stored lease's. A stale
 * or repeated completion writes nothing, so it can never release a newer owner's lease.
 * While another lease is stored, that no-op is a refusal (`lease_lost`, for the journal of
 * refused commands; the caller still gets a silent no-op); with no lease stored it is a
 * plain repeat.
 */
export const decideReleaseLease = (
  state: ProcessState | undefined,
  command: { completion: LeaseCompletion; now: number },
): Decision<void> => {
  const { processId, leaseToken } = command.completion;
  requireRecord(state, processId);
  const stored = state?.lease;
  if (!stored) return noop(undefined);
  if (stored.leaseToken !== leaseToken) {
    return {
      events: [],
      result: undefined,
      refused: new RegistryError(
        'lease_lost',
        `lease completion of process \`${processId}\` presented a token that is not the stored lease's (\`${stored.ownerId}\` holds fencing token ${stored.fencingToken}); nothing was released`,
      ),
    };
  }
  return {
    events: [
      {
        type: 'LeaseReleased',
        data: { processId, leaseToken, fencingToken: stored.fencingToken, atMs: command.now },
      },
    ],
    result: undefined,
  };
};

/**
 * reclaimProcessLease: a compare-and-swap takeover. The caller observed the lease with
 * `observedLeaseToken` held by an owner it knows is dead; it gets a new lease (fencing token
 * above every earlier one) while that lease is still the stored one, expired or not. A live
 * lease with another token means someone else holds the process now (another reclaimer was
 * first, or the holder re-claimed): `lease_held`, naming that holder. With no live lease
 * there is nothing to take over and the reclaim is a claim.
 */
export const decideReclaim = (
  state: ProcessState | undefined,
  command: {
    processId: string;
    ownerId: string;
    observedLeaseToken: string;
    ttlMs: number;
    now: number;
    leaseToken: string;
  },
): Decision<ProcessLease> => {
  requireLeasable(state, command.processId);
  const current = state?.lease;
  if (isLive(current, command.now) && current.leaseToken !== command.observedLeaseToken) {
    throw new RegistryError(
      'lease_held',
      `process \`${command.processId}\` is already leased by \`${current.ownerId}\` until ${current.expiresAtMs} (fencing token ${current.fencingToken}), not under the lease observed; read the lease again (getProcessLease) and reclaim only if that holder is dead`,
    );
  }
  return newLease(state, command);
};
