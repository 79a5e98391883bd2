import { createHash } from 'node:crypto';
import { byListOrder } from '../../src/domain/process-list.ts';

/**
 * The reference model: what SPEC.md says the registry does, written as plain maps with no
 * event sourcing, no read models and no code shared with src/. The model-based tests run
 * the same command list against it and against real registries and compare every result.
 *
 * Each operation returns the expected outcome: `{ ok: value }` or `{ error: code }`. Values
 * the model cannot know (a lease's random token) are matched loosely and then adopted from
 * the registry's answer, so later commands can refer to them.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Expected = { ok: unknown } | { error: string };

export interface Scope {
  sessionId: string;
  agentFrameId?: string;
}

export interface Lease {
  schemaVersion: 1;
  processId: string;
  ownerId: string;
  leaseToken: string;
  fencingToken: number;
  claimedAtMs: number;
  expiresAtMs: number;
}

export type AwaitOutput = { type: string; [key: string]: Json };

interface Grant {
  scope: Scope;
  descriptor: { kind?: string; label?: string };
  grantedAtMs: number;
}

interface ProcessEvent {
  processId: string;
  sequence: number;
  eventType: string;
  payload: Json;
  occurredAtMs: number;
  invocation: {
    scope: string;
    subject: { kind: 'processEvent'; processId: string; sequence: number; eventType: string };
    causedBy: { kind: 'process'; processId: string };
    replay?: { key: string };
  };
  semantics: {
    terminal?: { state: string; awaitOutput: AwaitOutput };
    wake?: { input: string; dedupeKey: string };
  };
}

interface Process {
  registration: Registration;
  registrationHash: string;
  createdAtMs: number;
  updatedAtMs: number;
  externalRef?: Json;
  status: { state: 'running' } | { state: string; awaitOutput: AwaitOutput };
  events: ProcessEvent[];
  replay: Map<string, { event: ProcessEvent; hash: string }>;
  grants: Map<string, Grant>;
  acked: Set<number>;
  lease?: Lease;
  maxFencing: number;
}

/** A registration as the tests pass it (already in its normal form, except core types). */
export interface Registration {
  id: string;
  input: { type: string; [key: string]: Json };
  eventTypes: EventType[];
  provenance?: { ownerScope: Scope; hostProfileId: string; causedBy?: Json };
}

export interface EventType {
  name: string;
  payloadSchema: Json;
  semantics?: {
    terminal?: { state: string; awaitOutput?: Json };
    wake?: { when?: Json; input: Json; dedupeKey?: Json };
  };
}

// ---- the independent helpers the spec defines ----

export const canonical = (value: unknown): string => {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const keys = Object.keys(value)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
};
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const stringOf = (value: Json): string => (typeof value === 'string' ? value : canonical(value));

export const scopeIdOf = (s: Scope): string =>
  s.agentFrameId ? `session:${s.sessionId}/frame:${s.agentFrameId}` : `session:${s.sessionId}`;
const normal = (s: Scope): Scope =>
  s.agentFrameId
    ? { sessionId: s.sessionId, agentFrameId: s.agentFrameId }
    : { sessionId: s.sessionId };

const pointerGet = (payload: Json, pointer: string): { found: boolean; value?: Json } => {
  if (pointer === '') return { found: true, value: payload };
  let at: Json | undefined = payload;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (at === null || typeof at !== 'object') return { found: false };
    if (Array.isArray(at)) {
      if (!/^(0|[1-9][0-9]*)$/.test(key) || Number(key) >= at.length) return { found: false };
      at = at[Number(key)];
    } else {
      if (!Object.hasOwn(at, key)) return { found: false };
      at = at[key];
    }
  }
  return { found: true, value: at as Json };
};

class Invalid extends Error {}

/** The selectors the test registrations use: pointer, const, present. */
const select = (selector: Json, payload: Json): Json => {
  const s = selector as { kind: string; pointer?: string; value?: Json };
  if (s.kind === 'payload') return payload;
  if (s.kind === 'const') return s.value as Json;
  if (s.kind === 'present') return pointerGet(payload, s.pointer!).found;
  const got = pointerGet(payload, s.pointer!);
  if (!got.found) throw new Invalid('pointer did not match');
  return got.value as Json;
};

const truthy = (v: Json): boolean =>
  v !== null &&
  v !== false &&
  v !== '' &&
  !(Array.isArray(v) && v.length === 0) &&
  !(typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);

const isAwaitOutput = (v: Json): v is AwaitOutput => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const o = v as Record<string, Json>;
  const str = (k: string) => typeof o[k] === 'string';
  if (o.type === 'success') return 'value' in o;
  if (o.type === 'failure') return str('class') && str('code') && str('message');
  if (o.type === 'cancelled') return str('message');
  return false;
};

const awaitOutputOf = (state: string, value: Json, fromSelector: boolean): AwaitOutput => {
  if (fromSelector && isAwaitOutput(value)) return value;
  if (state === 'completed') return { type: 'success', value };
  if (state === 'failed') {
    return {
      type: 'failure',
      class: 'execution',
      code: 'process_failed',
      message: stringOf(value),
      raw: value,
    };
  }
  return { type: 'cancelled', message: stringOf(value), raw: value };
};

const ptr = { kind: 'pointer', pointer: '/awaitOutput' };
const coreTypes: EventType[] = [
  { name: 'process.cancel_requested', payloadSchema: true },
  {
    name: 'process.completed',
    payloadSchema: true,
    semantics: { terminal: { state: 'completed', awaitOutput: ptr } },
  },
  {
    name: 'process.failed',
    payloadSchema: true,
    semantics: { terminal: { state: 'failed', awaitOutput: ptr } },
  },
  {
    name: 'process.cancelled',
    payloadSchema: true,
    semantics: { terminal: { state: 'cancelled', awaitOutput: ptr } },
  },
];

const normalized = (r: Registration) => {
  const names = new Set(r.eventTypes.map((t) => t.name));
  const provenance = r.provenance ?? {
    ownerScope: { sessionId: 'root' },
    hostProfileId: 'default',
  };
  return {
    id: r.id,
    input: r.input,
    eventTypes: [...r.eventTypes, ...coreTypes.filter((t) => !names.has(t.name))],
    provenance: { ...provenance, ownerScope: normal(provenance.ownerScope) },
  };
};

/** The payload schemas the test registrations use: `true`, or an object with required strings. */
const payloadValid = (schema: Json, payload: Json): boolean => {
  if (schema === true) return true;
  const s = schema as { required?: string[] };
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return false;
  return (s.required ?? []).every((k) => typeof (payload as Record<string, Json>)[k] === 'string');
};

const descriptorEqual = (a: Grant['descriptor'], b: Grant['descriptor']) =>
  a.kind === b.kind && a.label === b.label;

export class ReferenceModel {
  private readonly processes = new Map<string, Process>();
  now: number;

  constructor(now: number) {
    this.now = now;
  }

  clone(): ReferenceModel {
    const copy = new ReferenceModel(this.now);
    for (const [id, p] of this.processes) copy.processes.set(id, structuredClone(p));
    return copy;
  }

  /** Equal for equal states: candidates reached by commuting orders collapse into one. */
  fingerprint(): string {
    return JSON.stringify([this.now, [...this.processes]], (_, value: unknown) =>
      value instanceof Map ? [...value] : value instanceof Set ? [...value] : value,
    );
  }

  ids(): string[] {
    return [...this.processes.keys()].sort();
  }

  // ---- commands ----

  register(r: Registration): Expected {
    const n = normalized(r);
    const hash = sha256(canonical(n));
    const existing = this.processes.get(r.id);
    if (existing) {
      return existing.registrationHash === hash ? { ok: this.record(r.id) } : { error: 'conflict' };
    }
    this.processes.set(r.id, {
      registration: r,
      registrationHash: hash,
      createdAtMs: this.now,
      updatedAtMs: this.now,
      status: { state: 'running' },
      events: [],
      replay: new Map(),
      grants: new Map(),
      acked: new Set(),
      maxFencing: 0,
    });
    return { ok: this.record(r.id) };
  }

  setExternalRef(id: string, ref: Json): Expected {
    const p = this.processes.get(id);
    if (!p) return { error: 'not_found' };
    p.externalRef = ref;
    p.updatedAtMs = this.now;
    return { ok: this.record(id) };
  }

  grant(scope: Scope, id: string, descriptor: Grant['descriptor']): Expected {
    const p = this.processes.get(id);
    if (!p) return { error: 'not_found' };
    const key = scopeIdOf(scope);
    const existing = p.grants.get(key);
    if (!existing || !descriptorEqual(existing.descriptor, descriptor)) {
      p.grants.set(key, { scope: normal(scope), descriptor, grantedAtMs: this.now });
    }
    return { ok: this.grantOf(id, p.grants.get(key)!) };
  }

  revoke(scope: Scope, id: string): Expected {
    this.processes.get(id)?.grants.delete(scopeIdOf(scope));
    return { ok: undefined };
  }

  transfer(from: Scope, to: Scope, ids: string[]): Expected {
    const unique = [...new Set(ids)];
    const fromId = scopeIdOf(from);
    for (const id of unique) {
      if (!this.processes.get(id)?.grants.has(fromId)) return { error: 'not_granted' };
    }
    if (fromId === scopeIdOf(to)) return { ok: undefined };
    for (const id of unique) {
      const grants = this.processes.get(id)!.grants;
      const moved = grants.get(fromId)!;
      grants.delete(fromId);
      grants.set(scopeIdOf(to), {
        scope: normal(to),
        descriptor: moved.descriptor,
        grantedAtMs: this.now,
      });
    }
    return { ok: undefined };
  }

  deleteSession(sessionId: string): Expected {
    let revoked = 0;
    const cancel: string[] = [];
    const preserved: string[] = [];
    for (const id of this.ids()) {
      const p = this.processes.get(id)!;
      const mine = [...p.grants].filter(([, g]) => g.scope.sessionId === sessionId);
      if (mine.length === 0) continue;
      for (const [key] of mine) p.grants.delete(key);
      revoked += mine.length;
      if (p.status.state !== 'running') continue;
      (p.grants.size === 0 ? cancel : preserved).push(id);
    }
    return {
      ok: {
        sessionId,
        revokedHandleCount: revoked,
        deletedWakeCount: 0,
        cancelProcessIds: cancel,
        preservedProcessIds: preserved,
      },
    };
  }

  append(
    id: string,
    request: { eventType: string; payload: Json; replayKey?: string; wakeTargetScope?: Scope },
  ): Expected {
    const p = this.processes.get(id);
    if (!p) return { error: 'not_found' };
    const hash = canonical([request.eventType, request.payload]);
    if (request.replayKey !== undefined) {
      const existing = p.replay.get(request.replayKey);
      if (existing) {
        if (existing.hash !== hash) return { error: 'conflict' };
        return { ok: this.outcome(p, existing.event, request.wakeTargetScope) };
      }
    }
    const type = normalized(p.registration).eventTypes.find((t) => t.name === request.eventType);
    if (!type) return { error: 'invalid' };
    const terminal = type.semantics?.terminal;
    if ((terminal || type.name === 'process.cancel_requested') && !request.replayKey) {
      return { error: 'invalid' };
    }
    if (!payloadValid(type.payloadSchema, request.payload)) return { error: 'invalid' };
    const sequence = p.events.length + 1;
    const semantics: ProcessEvent['semantics'] = {};
    try {
      if (terminal) {
        const selected =
          terminal.awaitOutput === undefined
            ? request.payload
            : select(terminal.awaitOutput, request.payload);
        semantics.terminal = {
          state: terminal.state,
          awaitOutput: awaitOutputOf(terminal.state, selected, terminal.awaitOutput !== undefined),
        };
      }
      const wake = type.semantics?.wake;
      if (wake && (wake.when === undefined || truthy(select(wake.when, request.payload)))) {
        const dedupe = wake.dedupeKey as
          | { kind: string; value?: string; selector?: Json }
          | undefined;
        semantics.wake = {
          input: stringOf(select(wake.input, request.payload)),
          dedupeKey:
            !dedupe || dedupe.kind === 'eventIdentity'
              ? `${id}:${sequence}`
              : dedupe.kind === 'const'
                ? dedupe.value!
                : stringOf(select(dedupe.selector!, request.payload)),
        };
      }
    } catch (error) {
      if (error instanceof Invalid) return { error: 'invalid' };
      throw error;
    }
    if (semantics.terminal && p.status.state !== 'running') return { error: 'already_terminal' };
    if (semantics.wake && !request.wakeTargetScope) return { error: 'invalid' };
    const event: ProcessEvent = {
      processId: id,
      sequence,
      eventType: request.eventType,
      payload: request.payload,
      occurredAtMs: this.now,
      invocation: {
        scope: normalized(p.registration).provenance.ownerScope.sessionId,
        subject: { kind: 'processEvent', processId: id, sequence, eventType: request.eventType },
        causedBy: { kind: 'process', processId: id },
        ...(request.replayKey !== undefined ? { replay: { key: request.replayKey } } : {}),
      },
      semantics,
    };
    p.events.push(event);
    if (request.replayKey !== undefined) p.replay.set(request.replayKey, { event, hash });
    p.updatedAtMs = this.now;
    if (semantics.terminal) {
      p.status = { state: semantics.terminal.state, awaitOutput: semantics.terminal.awaitOutput };
    }
    return { ok: this.outcome(p, event, request.wakeTargetScope) };
  }

  complete(id: string, output: AwaitOutput): Expected {
    const eventType = {
      success: 'process.completed',
      failure: 'process.failed',
      cancelled: 'process.cancelled',
    }[output.type]!;
    const result = this.append(id, {
      eventType,
      payload: { awaitOutput: output },
      replayKey: `process:${id}:terminal:${eventType}`,
    });
    return 'error' in result ? result : { ok: this.record(id) };
  }

  ackWake(id: string, sequence: number): Expected {
    const p = this.processes.get(id);
    if (!p) return { error: 'not_found' };
    if (p.events[sequence - 1]?.semantics.wake) p.acked.add(sequence);
    return { ok: undefined };
  }

  /** The new lease's token is random: matched as any string, then adopted via `adopt`. */
  claim(id: string, ownerId: string, ttlMs: number, token: (lease: Lease) => string): Expected {
    const p = this.processes.get(id);
    if (!p) return { error: 'not_found' };
    if (p.status.state !== 'running') return { error: 'already_terminal' };
    const current = p.lease;
    if (current && current.expiresAtMs > this.now && current.ownerId !== ownerId) {
      return { error: 'lease_held' };
    }
    return this.issue(p, ownerId, ttlMs, token);
  }

  /** A CAS takeover: refused only while a live lease with another token is stored. */
  reclaim(
    id: string,
    ownerId: string,
    observedLeaseToken: string,
    ttlMs: number,
    token: (lease: Lease) => string,
  ): Expected {
    const p = this.processes.get(id);
    if (!p) return { error: 'not_found' };
    if (p.status.state !== 'running') return { error: 'already_terminal' };
    const current = p.lease;
    if (current && current.expiresAtMs > this.now && current.leaseToken !== observedLeaseToken) {
      return { error: 'lease_held' };
    }
    return this.issue(p, ownerId, ttlMs, token);
  }

  /** A new fencing epoch, as a claim or a reclaim issues it. */
  private issue(
    p: Process,
    ownerId: string,
    ttlMs: number,
    token: (lease: Lease) => string,
  ): Expected {
    p.maxFencing += 1;
    const lease: Lease = {
      schemaVersion: 1,
      processId: p.registration.id,
      ownerId,
      leaseToken: '',
      fencingToken: p.maxFencing,
      claimedAtMs: this.now,
      expiresAtMs: this.now + ttlMs,
    };
    lease.leaseToken = token(lease);
    p.lease = lease;
    return { ok: { ...lease } };
  }

  /** The lease check of `renew`, then `complete`, then the release; all or nothing. */
  completeWithLease(lease: Lease, output: AwaitOutput): Expected {
    const p = this.processes.get(lease.processId);
    if (!p) return { error: 'not_found' };
    if (!this.holds(p.lease, lease)) return { error: 'lease_lost' };
    const completed = this.complete(lease.processId, output);
    if ('error' in completed) return completed;
    p.lease = undefined;
    return completed;
  }

  private holds(stored: Lease | undefined, lease: Lease): boolean {
    return (
      stored !== undefined &&
      stored.expiresAtMs > this.now &&
      stored.leaseToken === lease.leaseToken &&
      stored.fencingToken === lease.fencingToken &&
      stored.ownerId === lease.ownerId
    );
  }

  renew(lease: Lease, ttlMs: number): Expected {
    const p = this.processes.get(lease.processId);
    if (!p) return { error: 'not_found' };
    const stored = p.lease;
    if (!stored || !this.holds(stored, lease)) return { error: 'lease_lost' };
    stored.expiresAtMs = this.now + ttlMs;
    return { ok: { ...stored } };
  }

  completeLease(processId: string, leaseToken: string): Expected {
    const p = this.processes.get(processId);
    if (!p) return { error: 'not_found' };
    if (p.lease?.leaseToken === leaseToken) p.lease = undefined;
    return { ok: undefined };
  }

  // ---- queries ----

  getProcess(id: string): Expected {
    return { ok: this.processes.has(id) ? this.record(id) : undefined };
  }

  eventsAfter(id: string, after: number): Expected {
    const p = this.processes.get(id);
    if (!p) return { error: 'not_found' };
    return { ok: p.events.filter((e) => e.sequence > after) };
  }

  recentEvents(id: string, limit: number): Expected {
    const p = this.processes.get(id);
    if (!p) return { error: 'not_found' };
    return { ok: p.events.slice(-limit) };
  }

  countEvents(id: string, options: { eventType?: string; upToSequence?: number }): Expected {
    const p = this.processes.get(id);
    if (!p) return { error: 'not_found' };
    const upTo = options.upToSequence ?? Number.POSITIVE_INFINITY;
    return {
      ok: p.events.filter(
        (e) =>
          e.sequence <= upTo &&
          (options.eventType === undefined || e.eventType === options.eventType),
      ).length,
    };
  }

  wakeEventsAfter(id: string, after: number): Expected {
    const p = this.processes.get(id);
    if (!p) return { error: 'not_found' };
    return {
      ok: p.events.filter(
        (e) => e.sequence > after && e.semantics.wake && !p.acked.has(e.sequence),
      ),
    };
  }

  /** With `timeoutMs: 0`: the first stored match, else `timeout`. */
  waitEventAfter(id: string, eventType: string, after: number): Expected {
    const p = this.processes.get(id);
    if (!p) return { error: 'not_found' };
    const found = p.events.find((e) => e.sequence > after && e.eventType === eventType);
    return found ? { ok: found } : { error: 'timeout' };
  }

  /** With `timeoutMs: 0`: the await output when terminal, else `timeout`. */
  awaitProcess(id: string): Expected {
    const p = this.processes.get(id);
    if (!p) return { error: 'not_found' };
    return 'awaitOutput' in p.status ? { ok: p.status.awaitOutput } : { error: 'timeout' };
  }

  listHandleGrants(scope: Scope, liveOnly = false): Expected {
    const key = scopeIdOf(scope);
    return {
      ok: this.ids()
        .filter((id) => this.processes.get(id)!.grants.has(key))
        .filter((id) => !liveOnly || this.processes.get(id)!.status.state === 'running')
        .map((id) => ({
          grant: this.grantOf(id, this.processes.get(id)!.grants.get(key)!),
          record: this.record(id),
        })),
    };
  }

  hasHandleGrant(scope: Scope, id: string): Expected {
    return { ok: this.processes.get(id)?.grants.has(scopeIdOf(scope)) ?? false };
  }

  handleGrantsForProcess(id: string): Expected {
    const p = this.processes.get(id);
    if (!p) return { error: 'not_found' };
    const grants = [...p.grants.values()].map((g) => this.grantOf(id, g));
    grants.sort((a, b) =>
      a.sessionId !== b.sessionId
        ? a.sessionId < b.sessionId
          ? -1
          : 1
        : a.scopeId < b.scopeId
          ? -1
          : a.scopeId > b.scopeId
            ? 1
            : 0,
    );
    return { ok: grants };
  }

  /** appendEvents: each request decided in order on what the earlier ones left; all or none. */
  appendBatch(
    id: string,
    requests: { eventType: string; payload: Json; replayKey?: string; wakeTargetScope?: Scope }[],
  ): Expected {
    if (requests.length === 0) return { ok: [] };
    const scratch = this.clone();
    const outcomes: unknown[] = [];
    for (const request of requests) {
      const result = scratch.append(id, request);
      if ('error' in result) return result;
      outcomes.push(result.ok);
    }
    this.processes.clear();
    for (const [key, p] of scratch.processes) this.processes.set(key, p);
    return { ok: outcomes };
  }

  /** Every process in list order: createdAtMs, then id (see domain/process-list.ts). */
  listProcesses(): Expected {
    return {
      ok: this.ids()
        .map((id) => this.record(id))
        .sort(byListOrder),
    };
  }

  listNonTerminal(): Expected {
    return {
      ok: this.ids()
        .filter((id) => this.processes.get(id)!.status.state === 'running')
        .map((id) => this.record(id)),
    };
  }

  getProcessLease(id: string): Expected {
    const p = this.processes.get(id);
    if (!p) return { error: 'not_found' };
    return { ok: p.lease ? { ...p.lease } : undefined };
  }

  // ---- shapes ----

  private record(id: string) {
    const p = this.processes.get(id)!;
    const n = normalized(p.registration);
    return {
      ...n,
      registrationHash: p.registrationHash,
      createdAtMs: p.createdAtMs,
      updatedAtMs: p.updatedAtMs,
      ...(p.externalRef !== undefined ? { externalRef: p.externalRef } : {}),
      status: p.status,
    };
  }

  private grantOf(id: string, g: Grant) {
    return {
      sessionId: g.scope.sessionId,
      ...(g.scope.agentFrameId ? { agentFrameId: g.scope.agentFrameId } : {}),
      scopeId: scopeIdOf(g.scope),
      processId: id,
      descriptor: g.descriptor,
      grantedAtMs: g.grantedAtMs,
    };
  }

  private outcome(p: Process, event: ProcessEvent, target: Scope | undefined) {
    const wake = event.semantics.wake;
    if (!wake || !target) return { event };
    const targetScopeId = scopeIdOf(target);
    const causedBy = normalized(p.registration).provenance.causedBy;
    return {
      event,
      wakeDelivery: {
        wakeId: `wake:${sha256(canonical([targetScopeId, wake.dedupeKey]))}`,
        targetSessionId: target.sessionId,
        targetScopeId,
        processId: event.processId,
        sequence: event.sequence,
        eventType: event.eventType,
        eventInvocation: event.invocation,
        ...(causedBy !== undefined ? { processCausedBy: causedBy } : {}),
        dedupeKey: wake.dedupeKey,
        input: wake.input,
        createdAtMs: event.occurredAtMs,
      },
    };
  }
}
