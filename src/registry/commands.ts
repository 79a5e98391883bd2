import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type AppendOutcome, decideAppend, decideAppendBatch } from '../commands/append.ts';
import { decideSetExternalRef } from '../commands/external-ref.ts';
import { decideCompleteWithLease } from '../commands/fenced-completion.ts';
import {
  decideDeleteSessionAll,
  decideGrant,
  decideRevoke,
  decideTransfer,
} from '../commands/grants.ts';
import { decideClaim, decideReclaim, decideReleaseLease, decideRenew } from '../commands/leases.ts';
import { decideRegister } from '../commands/register.ts';
import { deleteSessionInRounds } from '../commands/session-delete.ts';
import { completionReplayKey, decideComplete } from '../commands/terminal.ts';
import { decideAckWake } from '../commands/wakes.ts';
import { deepFreeze } from '../domain/freeze.ts';
import {
  AppendBatchSchema,
  type AppendRequest,
  AppendRequestSchema,
  ExternalRefSchema,
  HandleDescriptorSchema,
  IdSchema,
  LeaseCompletionSchema,
  type LeaseReclaim,
  LeaseReclaimSchema,
  type ProcessAwaitOutput,
  ProcessAwaitOutputSchema,
  type ProcessHandleGrant,
  type ProcessLease,
  ProcessLeaseSchema,
  type ProcessRecord,
  type ProcessRegistration,
  ProcessRegistrationSchema,
  type Scope,
  SequenceSchema,
  type SessionDeleteReport,
  TtlSchema,
} from '../domain/schemas.ts';
import { parseInput } from '../domain/validation.ts';
import { RegistryBase } from './base.ts';

const ProcessIdsSchema = z.array(IdSchema).max(10_000);

/**
 * The registry's write side: each method parses its input at the edge (bad input is
 * `invalid` and writes nothing), then runs one command, whose decide function lives in
 * `src/commands/` under the command's domain name.
 */
export class ProcessCommands extends RegistryBase {
  async registerProcess(registration: ProcessRegistration): Promise<ProcessRecord> {
    const parsed = parseInput(ProcessRegistrationSchema, registration, 'process registration');
    return this.command('registerProcess', [parsed.id], (states, now) =>
      decideRegister(states.get(parsed.id)!, { registration: parsed, now }),
    );
  }

  async setExternalRef(
    processId: string,
    externalRef: z.input<typeof ExternalRefSchema>,
  ): Promise<ProcessRecord> {
    const id = this.processId(processId);
    const ref = parseInput(ExternalRefSchema, externalRef, 'external ref');
    return this.command('setExternalRef', [id], (states, now) =>
      decideSetExternalRef(states.get(id), { processId: id, externalRef: ref, now }),
    );
  }

  async grantHandle(
    scope: Scope,
    processId: string,
    descriptor: z.input<typeof HandleDescriptorSchema> = {},
  ): Promise<ProcessHandleGrant> {
    const s = this.scope(scope);
    const id = this.processId(processId);
    const d = parseInput(HandleDescriptorSchema, descriptor, 'handle descriptor');
    return this.command('grantHandle', [id], (states, now) =>
      decideGrant(states.get(id), { scope: s, processId: id, descriptor: d, now }),
    );
  }

  async revokeHandle(scope: Scope, processId: string): Promise<void> {
    const s = this.scope(scope);
    const id = this.processId(processId);
    return this.command('revokeHandle', [id], (states, now) =>
      decideRevoke(states.get(id), { scope: s, processId: id, now }),
    );
  }

  async transferHandleGrants(from: Scope, to: Scope, processIds: string[]): Promise<void> {
    const f = this.scope(from, 'from scope');
    const t = this.scope(to, 'to scope');
    const ids = parseInput(ProcessIdsSchema, processIds, 'process ids');
    return this.command('transferHandleGrants', ids, (states, now) =>
      decideTransfer(states, { from: f, to: t, processIds: ids, now }),
    );
  }

  /**
   * Revokes every grant of the session (all frames) and reports which live processes lost
   * their last grant (see `deleteSessionInRounds` for grants written meanwhile).
   */
  async deleteSessionProcessState(sessionId: string): Promise<SessionDeleteReport> {
    const sid = parseInput(IdSchema, sessionId, 'session id');
    // the rounds' reports are frozen; the one made of them too, as every result
    return deepFreeze(
      await deleteSessionInRounds(
        sid,
        async () => (await this.models()).processesOfSession(sid),
        (ids) =>
          this.command('deleteSessionProcessState', ids, (states, now) =>
            decideDeleteSessionAll(states, { sessionId: sid, now }),
          ),
      ),
    );
  }

  async appendEvent(processId: string, request: AppendRequest): Promise<AppendOutcome> {
    const id = this.processId(processId);
    const r = parseInput(AppendRequestSchema, request, `append request for process \`${id}\``);
    return this.command(
      'appendEvent',
      [id],
      (states, now) => decideAppend(states.get(id), { processId: id, request: r, now }),
      { replayKeys: r.replayKey === undefined ? [] : [r.replayKey] },
    );
  }

  /**
   * Appends several process events to one process in one write: each request is decided as
   * `appendEvent` would, in order, and either all are stored (consecutive sequences) or,
   * when any breaks a rule, none. Replayed requests return their original events.
   */
  async appendEvents(processId: string, requests: AppendRequest[]): Promise<AppendOutcome[]> {
    const id = this.processId(processId);
    const batch = parseInput(AppendBatchSchema, requests, `append requests for process \`${id}\``);
    if (batch.length === 0) return [];
    return this.command(
      'appendEvents',
      [id],
      (states, now) => decideAppendBatch(states.get(id), { processId: id, requests: batch, now }),
      { replayKeys: batch.flatMap((request) => request.replayKey ?? []) },
    );
  }

  async completeProcess(
    processId: string,
    awaitOutput: ProcessAwaitOutput,
  ): Promise<ProcessRecord> {
    const id = this.processId(processId);
    const output = parseInput(ProcessAwaitOutputSchema, awaitOutput, 'await output');
    return this.command(
      'completeProcess',
      [id],
      (states, now) => decideComplete(states.get(id), { processId: id, output, now }),
      { replayKeys: [completionReplayKey(id, output)] },
    );
  }

  async ackWake(processId: string, sequence: number): Promise<void> {
    const id = this.processId(processId);
    const seq = parseInput(SequenceSchema, sequence, 'sequence');
    return this.command(
      'ackWake',
      [id],
      (states, now) => decideAckWake(states.get(id), { processId: id, sequence: seq, now }),
      { wakes: [seq] },
    );
  }

  async claimProcessLease(
    processId: string,
    ownerId: string,
    ttlMs: number,
  ): Promise<ProcessLease> {
    const id = this.processId(processId);
    const owner = parseInput(IdSchema, ownerId, 'owner id');
    const ttl = parseInput(TtlSchema, ttlMs, 'lease ttl');
    // Unguessable: only the holder can renew or release.
    const leaseToken = randomUUID();
    return this.command('claimProcessLease', [id], (states, now) =>
      decideClaim(states.get(id), { processId: id, ownerId: owner, ttlMs: ttl, now, leaseToken }),
    );
  }

  async renewProcessLease(lease: ProcessLease, ttlMs: number): Promise<ProcessLease> {
    const l = parseInput(ProcessLeaseSchema, lease, 'lease');
    const ttl = parseInput(TtlSchema, ttlMs, 'lease ttl');
    return this.command('renewProcessLease', [l.processId], (states, now) =>
      decideRenew(states.get(l.processId), { lease: l, ttlMs: ttl, now }),
    );
  }

  async completeProcessLease(completion: { processId: string; leaseToken: string }): Promise<void> {
    const c = parseInput(LeaseCompletionSchema, completion, 'lease completion');
    return this.command('completeProcessLease', [c.processId], (states, now) =>
      decideReleaseLease(states.get(c.processId), { completion: c, now }),
    );
  }

  /**
   * Completes the process and releases the caller's lease in one write; a lease that is not
   * the stored live one is `lease_lost` and nothing is written (see decideCompleteWithLease).
   */
  async completeProcessWithLease(
    lease: ProcessLease,
    awaitOutput: ProcessAwaitOutput,
  ): Promise<ProcessRecord> {
    const l = parseInput(ProcessLeaseSchema, lease, 'lease');
    const output = parseInput(ProcessAwaitOutputSchema, awaitOutput, 'await output');
    return this.command(
      'completeProcessWithLease',
      [l.processId],
      (states, now) => decideCompleteWithLease(states.get(l.processId), { lease: l, output, now }),
      { replayKeys: [completionReplayKey(l.processId, output)] },
    );
  }

  /**
   * Takes over the lease observed under `observedLeaseToken` (its holder is dead), even
   * before it expires, if it is still the stored one (see decideReclaim).
   */
  async reclaimProcessLease(processId: string, reclaim: LeaseReclaim): Promise<ProcessLease> {
    const id = this.processId(processId);
    const r = parseInput(LeaseReclaimSchema, reclaim, 'lease reclaim');
    // Unguessable, as a claim's: only the new holder can renew, complete or release.
    const leaseToken = randomUUID();
    return this.command('reclaimProcessLease', [id], (states, now) =>
      decideReclaim(states.get(id), {
        processId: id,
        ownerId: r.owner,
        observedLeaseToken: r.observedLeaseToken,
        ttlMs: r.ttlMs,
        now,
        leaseToken,
      }),
    );
  }
}
