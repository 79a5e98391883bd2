import type { RecordedDomainEvent } from '../domain/codec.ts';
import { STREAM_PREFIX } from '../domain/events.ts';
import { byCodeUnits } from '../domain/order.ts';
import { isRetentionStream, readRetentionEvent } from '../domain/retention.ts';
import type { ProcessAwaitOutput, ProcessLease, ProcessStatus } from '../domain/schemas.ts';
import { scopeIdOf } from '../domain/scope.ts';
import type { EventReader } from '../projections/event-reader.ts';
import type { EventStore, Position } from '../store/port.ts';

/** What happened to one process between two moments, in log order within each list. */
export interface ProcessChanges {
  processId: string;
  registered?: { atMs: number; inputType: string | undefined };
  /** the terminal outcome reached in the window */
  terminal?: { state: ProcessStatus['state']; atMs: number; outcome: ProcessAwaitOutput };
  externalRefSet: number;
  /** process events appended (sequences) */
  events: { first: number; last: number; count: number } | undefined;
  grants: {
    kind: 'added' | 'removed' | 'transferred';
    scopeId: string;
    toScopeId?: string;
    reason?: string;
    atMs: number;
  }[];
  leases: {
    kind: 'claimed' | 'renewed' | 'released' | 'expired';
    ownerId: string;
    fencingToken: number;
    atMs: number;
  }[];
  wakesAcked: number[];
  /**
   * the prune that removed the process in the window (its changes above are those of the
   * window before it left; a re-registration after it shows as `registered`)
   */
  pruned?: {
    atMs: number;
    pruneId: string;
    actor: string | null;
    archive: string;
    manifestSha256: string;
  };
}

export interface Changes {
  from: { position: Position; timeMs: number | undefined };
  to: { position: Position; timeMs: number | undefined };
  processes: ProcessChanges[];
}

const changesOf = (byProcess: Map<string, ProcessChanges>, processId: string): ProcessChanges => {
  let changes = byProcess.get(processId);
  if (!changes) {
    changes = {
      processId,
      externalRefSet: 0,
      events: undefined,
      grants: [],
      leases: [],
      wakesAcked: [],
    };
    byProcess.set(processId, changes);
  }
  return changes;
};

const note = (
  byProcess: Map<string, ProcessChanges>,
  kind: ProcessChanges['leases'][number]['kind'],
  lease: ProcessLease,
  atMs: number,
): void => {
  const { ownerId, fencingToken } = lease;
  changesOf(byProcess, lease.processId).leases.push({ kind, ownerId, fencingToken, atMs });
};

/**
 * Per process, what changed in the log after `from` up to `to` (positions, inclusive of
 * `to`): registrations, terminal outcomes, external refs, process events, grants added,
 * removed and transferred, leases claimed, renewed, released and expired, wakes acked, and
 * prunes (from the prune records: with the archive's manifest hash). It reads the events of
 * the window only (O(window)), plus `leasesAtStart`: the leases held when the window
 * opened, so that a lease whose holder went silent shows as expired (a pruned process's
 * lease ends with the prune).
 *
 * A lease expired in the window when its expiry falls in (fromMs, toMs] and nothing
 * released or replaced it first. The window's times are the points' times, or for a
 * position the registry-clock time of the window's first and last events.
 */
export const changesBetween = async (
  store: EventStore,
  reader: EventReader,
  window: { from: Position; to: Position; fromMs?: number; toMs?: number },
  leasesAtStart: readonly ProcessLease[],
): Promise<Changes> => {
  const byProcess = new Map<string, ProcessChanges>();
  const live = new Map<string, ProcessLease>(leasesAtStart.map((l) => [l.processId, l]));
  let firstMs: number | undefined;
  let lastMs: number | undefined;
  const ended: { lease: ProcessLease; atMs: number }[] = [];
  const replace = (processId: string, next: ProcessLease | undefined, atMs: number) => {
    const previous = live.get(processId);
    if (previous) ended.push({ lease: previous, atMs });
    if (next) live.set(processId, next);
    else live.delete(processId);
  };
  for await (const stored of store.readAll({ fromPosition: window.from })) {
    if (stored.position > window.to) break;
    if (isRetentionStream(stored.stream)) {
      const prune = readRetentionEvent(stored);
      const { atMs, pruneId, archive, manifestSha256 } = prune.event.data;
      firstMs ??= prune.metadata.recordedAtMs;
      lastMs = prune.metadata.recordedAtMs;
      for (const { processId } of prune.event.data.processes) {
        const { actor } = prune.metadata;
        changesOf(byProcess, processId).pruned = { atMs, pruneId, actor, archive, manifestSha256 };
        if (live.has(processId)) replace(processId, undefined, atMs);
      }
      continue;
    }
    if (!stored.stream.startsWith(STREAM_PREFIX)) continue;
    const recorded: RecordedDomainEvent = reader.read(stored);
    const atMs = recorded.metadata.recordedAtMs;
    firstMs ??= atMs;
    lastMs = atMs;
    const { event } = recorded;
    switch (event.type) {
      case 'ProcessRegistered': {
        const input = event.data.record.input as { type?: unknown };
        changesOf(byProcess, event.data.record.id).registered = {
          atMs,
          inputType: typeof input?.type === 'string' ? input.type : undefined,
        };
        break;
      }
      case 'ExternalRefSet':
        changesOf(byProcess, event.data.processId).externalRefSet += 1;
        break;
      case 'ProcessEventAppended': {
        const appended = event.data.event;
        const changes = changesOf(byProcess, appended.processId);
        const seen = changes.events;
        changes.events = {
          first: seen?.first ?? appended.sequence,
          last: appended.sequence,
          count: (seen?.count ?? 0) + 1,
        };
        const terminal = appended.semantics.terminal;
        if (terminal) {
          changes.terminal = { state: terminal.state, atMs, outcome: terminal.awaitOutput };
        }
        break;
      }
      case 'HandleGranted':
        changesOf(byProcess, event.data.processId).grants.push({
          kind: 'added',
          scopeId: scopeIdOf(event.data.scope),
          atMs,
        });
        break;
      case 'HandleRevoked':
        changesOf(byProcess, event.data.processId).grants.push({
          kind: 'removed',
          scopeId: scopeIdOf(event.data.scope),
          reason: event.data.reason,
          atMs,
        });
        break;
      case 'HandleTransferred':
        changesOf(byProcess, event.data.processId).grants.push({
          kind: 'transferred',
          scopeId: scopeIdOf(event.data.from),
          toScopeId: scopeIdOf(event.data.to),
          atMs,
        });
        break;
      case 'WakeAcked':
        changesOf(byProcess, event.data.processId).wakesAcked.push(event.data.sequence);
        break;
      case 'LeaseClaimed':
        note(byProcess, 'claimed', event.data.lease, atMs);
        replace(event.data.lease.processId, event.data.lease, atMs);
        break;
      case 'LeaseRenewed':
      case 'LeaseReleased': {
        // a renewal or release naming another lease than the current one changed nothing
        const current = live.get(event.data.processId);
        if (current?.leaseToken !== event.data.leaseToken) break;
        if (event.type === 'LeaseRenewed') {
          note(byProcess, 'renewed', current, atMs);
          replace(current.processId, { ...current, expiresAtMs: event.data.expiresAtMs }, atMs);
        } else {
          note(byProcess, 'released', current, atMs);
          replace(current.processId, undefined, atMs);
        }
        break;
      }
    }
  }
  const fromMs = window.fromMs ?? firstMs;
  const toMs = window.toMs ?? lastMs;
  if (fromMs !== undefined && toMs !== undefined) {
    // a lease expired when its expiry came before whatever ended it, inside the window
    const stillHeld = [...live.values()].map((lease) => ({
      lease,
      atMs: Number.POSITIVE_INFINITY,
    }));
    const candidates = [...ended, ...stillHeld];
    for (const { lease, atMs } of candidates) {
      const expiry = lease.expiresAtMs;
      if (expiry > fromMs && expiry <= toMs && expiry < atMs) {
        note(byProcess, 'expired', lease, expiry);
      }
    }
  }
  for (const changes of byProcess.values()) changes.leases.sort((a, b) => a.atMs - b.atMs);
  return {
    from: { position: window.from, timeMs: window.fromMs },
    to: { position: window.to, timeMs: window.toMs },
    processes: [...byProcess.values()].sort((a, b) => byCodeUnits(a.processId, b.processId)),
  };
};
