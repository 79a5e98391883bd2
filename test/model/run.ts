import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import {
  cancelRequest,
  isRegistryError,
  openRegistry,
  type ProcessLease,
  type ProcessRegistry,
} from '../../src/index.ts';
import type { AsOfView } from '../../src/queries/as-of.ts';
import { everyProcess } from '../../src/queries/views.ts';
import { MemoryEventStore } from '../../src/store/memory.ts';
import type { EventStore } from '../../src/store/port.ts';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import { TestClock } from '../support/harness.ts';
import {
  ALL_IDS,
  type AppendCommand,
  type Command,
  DESCRIPTORS,
  EVENT_TYPES,
  EXTERNAL_REFS,
  OUTPUTS,
  PAYLOADS,
  SCOPES,
  type Step,
  TEMPLATES,
} from './commands.ts';
import { type Expected, type Json, type Lease, ReferenceModel } from './reference.ts';

export type BackendName = 'memory' | 'sqlite';

/** Counts for the test output and the README: how much the runs exercised. */
export const counts = { sequences: 0, commands: 0, comparisons: 0 };
/** How often each command ended how (`append:ok`, `claim:lease_held`, ...): coverage at a glance. */
export const outcomes = new Map<string, number>();
function tally(command: Command, actual: Actual): void {
  const name =
    command.op === 'query'
      ? command.name
      : command.op === 'asOf'
        ? `asOf.${command.name}`
        : command.op;
  const key = `${name}:${'ok' in actual ? 'ok' : 'error' in actual ? actual.error : 'thrown'}`;
  outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
}

interface World {
  registries: ProcessRegistry[];
  clock: TestClock;
  /** every state the log may be in (see runStep); sequential runs keep exactly one */
  models: ReferenceModel[];
  /** the state at the end of each earlier clock time, for `asOf` (oldest first) */
  past: { timeMs: number; position: bigint; models: ReferenceModel[] }[];
  /** the global log's last position, read through a connection of its own */
  head: () => Promise<bigint>;
  /** every lease the registry handed out, for renew/complete (stale ones included) */
  leases: ProcessLease[];
  tokens: Set<string>;
  reopen: () => Promise<ProcessRegistry>;
  dispose: () => Promise<void>;
}

const setUp = async (backend: BackendName, instances: number): Promise<World> => {
  const clock = new TestClock();
  let connect: () => Promise<EventStore>;
  let cleanup: () => Promise<void>;
  let probe: EventStore;
  if (backend === 'memory') {
    const shared = new MemoryEventStore();
    // each registry gets a view whose close leaves the shared log open
    connect = async () =>
      Object.assign(Object.create(shared) as EventStore, { close: async () => {} });
    cleanup = () => shared.close();
    probe = shared;
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'procreg-model-'));
    connect = () => openSqliteStore(join(dir, 'model.db'), { synchronous: 'normal' });
    probe = await openSqliteStore(join(dir, 'model.db'), { synchronous: 'normal' });
    cleanup = async () => {
      await probe.close();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  const opened: ProcessRegistry[] = [];
  const open = async () => {
    const registry = await openRegistry(await connect(), { clock: clock.read });
    opened.push(registry);
    return registry;
  };
  const registries: ProcessRegistry[] = [];
  for (let i = 0; i < instances; i++) registries.push(await open());
  return {
    registries,
    clock,
    models: [new ReferenceModel(clock.now)],
    past: [{ timeMs: clock.now - 1, position: 0n, models: [new ReferenceModel(clock.now - 1)] }],
    head: async () => {
      let last = 0n;
      for await (const event of probe.readAll()) last = event.position;
      return last;
    },
    leases: [],
    tokens: new Set(),
    reopen: open,
    dispose: async () => {
      for (const registry of opened) await registry.close();
      await cleanup();
    },
  };
};

type Actual = { ok: unknown } | { error: string } | { thrown: string };

const settle = async (call: () => Promise<unknown>): Promise<Actual> => {
  try {
    return { ok: await call() };
  } catch (error) {
    if (isRegistryError(error)) return { error: error.code };
    return { thrown: String((error as Error)?.stack ?? error) };
  }
};

/** What the registry answers to one command (no model involved). */
const perform = (world: World, command: Command): Promise<Actual> => {
  if (command.op === 'advance') throw new Error('advance is not performed on a registry');
  const r = world.registries[command.who]!;
  const lease = (i: number) => world.leases[world.leases.length - 1 - (i % world.leases.length)]!;
  return settle(async () => {
    switch (command.op) {
      case 'register':
        return r.registerProcess({ id: command.id, ...TEMPLATES[command.template]! } as never);
      case 'setExternalRef':
        return r.setExternalRef(command.id, EXTERNAL_REFS[command.ref] as never);
      case 'grant':
        return r.grantHandle(SCOPES[command.scope]!, command.id, DESCRIPTORS[command.descriptor]);
      case 'revoke':
        return r.revokeHandle(SCOPES[command.scope]!, command.id);
      case 'transfer':
        return r.transferHandleGrants(SCOPES[command.from]!, SCOPES[command.to]!, command.ids);
      case 'deleteSession':
        return r.deleteSessionProcessState(command.session);
      case 'append':
        return r.appendEvent(command.id, appendRequest(command) as never);
      case 'appendBatch':
        return r.appendEvents(command.id, command.requests.map(appendRequest) as never);
      case 'complete':
        return r.completeProcess(command.id, OUTPUTS[command.output] as never);
      case 'cancel':
        return r.appendEvent(command.id, cancelRequest(command.id, command.reason));
      case 'ackWake':
        return r.ackWake(command.id, command.sequence);
      case 'claim':
        return r.claimProcessLease(command.id, command.owner, command.ttl);
      case 'renew':
        return r.renewProcessLease(lease(command.lease), command.ttl);
      case 'completeLease': {
        const { processId, leaseToken } = lease(command.lease);
        return r.completeProcessLease({ processId, leaseToken });
      }
      case 'reclaim': {
        const { processId, leaseToken } = lease(command.lease);
        const reclaim = {
          owner: command.owner,
          observedLeaseToken: leaseToken,
          ttlMs: command.ttl,
        };
        return r.reclaimProcessLease(processId, reclaim);
      }
      case 'completeWithLease':
        return r.completeProcessWithLease(lease(command.lease), OUTPUTS[command.output] as never);
      case 'query':
        return query(r, command);
      case 'asOf': {
        const point = await pointOf(world, command);
        return asOfQuery(r.asOf(point.at), command);
      }
    }
  });
};

/** The earlier time an `asOf` command looks at, and the states the log was in then. */
const pointOf = async (world: World, command: Extract<Command, { op: 'asOf' }>) => {
  const times = [
    ...world.past,
    { timeMs: world.clock.now, position: await world.head(), models: world.models },
  ];
  const then = times[times.length - 1 - (command.back % times.length)]!;
  return {
    at: command.by === 'time' ? { timeMs: then.timeMs } : { position: then.position },
    models: then.models,
  };
};

const asOfQuery = (view: AsOfView, q: Extract<Command, { op: 'asOf' }>): Promise<unknown> => {
  switch (q.name) {
    case 'getProcess':
      return view.getProcess(q.id);
    case 'eventsAfter':
      return view.eventsAfter(q.id, q.after);
    case 'handleGrantsForProcess':
      return view.handleGrantsForProcess(q.id);
    case 'getProcessLease':
      return view.getProcessLease(q.id);
    case 'listHandleGrants':
      return view.listHandleGrants(SCOPES[q.scope]!);
    case 'listNonTerminal':
      return view.listNonTerminal();
    case 'listProcesses':
      return allProcesses(view);
    case 'recentEvents':
      return view.recentEvents(q.id, q.after + 1);
    case 'countEvents':
      return view.countEvents(q.id, countOptions(q.scope, q.after));
  }
};

/** countEvents options from a query's fields: by type and up to a sequence, or all of them. */
const countOptions = (scope: number, after: number) =>
  scope % 2 === 0
    ? { eventType: EVENT_TYPES[scope % EVENT_TYPES.length]!, upToSequence: after + 1 }
    : {};

const appendRequest = (command: Omit<AppendCommand, 'op' | 'who' | 'id'>) => ({
  eventType: command.eventType,
  payload: PAYLOADS[command.payload],
  ...(command.replayKey !== undefined ? { replayKey: command.replayKey } : {}),
  ...(command.target !== undefined ? { wakeTargetScope: SCOPES[command.target] } : {}),
});

const query = (r: ProcessRegistry, q: Extract<Command, { op: 'query' }>): Promise<unknown> => {
  const scope = SCOPES[q.scope]!;
  switch (q.name) {
    case 'getProcess':
      return r.getProcess(q.id);
    case 'eventsAfter':
      return r.eventsAfter(q.id, q.after);
    case 'wakeEventsAfter':
      return r.wakeEventsAfter(q.id, q.after);
    case 'waitEventAfter':
      // timeout 0: resolves only with what is already stored (catch-up comes first)
      return r.waitEventAfter(q.id, q.eventType, q.after, { timeoutMs: 0 });
    case 'awaitProcess':
      return r.awaitProcess(q.id, { timeoutMs: 0 });
    case 'listHandleGrants':
      return r.listHandleGrants(scope);
    case 'listLiveHandleGrants':
      return r.listLiveHandleGrants(scope);
    case 'hasHandleGrant':
      return r.hasHandleGrant(scope, q.id);
    case 'handleGrantsForProcess':
      return r.handleGrantsForProcess(q.id);
    case 'listNonTerminal':
      return r.listNonTerminal();
    case 'listProcesses':
      return allProcesses(r);
    case 'getProcessLease':
      return r.getProcessLease(q.id);
    case 'recentEvents':
      return r.recentEvents(q.id, q.after + 1);
    case 'countEvents':
      return r.countEvents(q.id, countOptions(q.scope, q.after));
  }
};

/** What the model expects; `actual` only supplies the random lease token to adopt. */
const predict = (
  world: World,
  model: ReferenceModel,
  command: Command,
  actual: Actual,
): Expected => {
  const lease = (i: number) =>
    world.leases[world.leases.length - 1 - (i % world.leases.length)]! as Lease;
  switch (command.op) {
    case 'register':
      return model.register({ id: command.id, ...TEMPLATES[command.template]! });
    case 'setExternalRef':
      return model.setExternalRef(command.id, EXTERNAL_REFS[command.ref]!);
    case 'grant':
      return model.grant(SCOPES[command.scope]!, command.id, DESCRIPTORS[command.descriptor]!);
    case 'revoke':
      return model.revoke(SCOPES[command.scope]!, command.id);
    case 'transfer':
      return model.transfer(SCOPES[command.from]!, SCOPES[command.to]!, command.ids);
    case 'deleteSession':
      return model.deleteSession(command.session);
    case 'append':
      return model.append(command.id, appendRequest(command) as never);
    case 'appendBatch':
      return model.appendBatch(command.id, command.requests.map(appendRequest) as never);
    case 'complete':
      return model.complete(command.id, OUTPUTS[command.output]!);
    case 'cancel': {
      const request = cancelRequest(command.id, command.reason);
      return model.append(command.id, request as { eventType: string; payload: Json });
    }
    case 'ackWake':
      return model.ackWake(command.id, command.sequence);
    case 'claim':
      return model.claim(command.id, command.owner, command.ttl, () =>
        'ok' in actual ? (actual.ok as Lease).leaseToken : '',
      );
    case 'renew':
      return model.renew(lease(command.lease), command.ttl);
    case 'completeLease':
      return model.completeLease(lease(command.lease).processId, lease(command.lease).leaseToken);
    case 'reclaim': {
      const observed = lease(command.lease);
      return model.reclaim(
        observed.processId,
        command.owner,
        observed.leaseToken,
        command.ttl,
        () => ('ok' in actual ? (actual.ok as Lease).leaseToken : ''),
      );
    }
    case 'completeWithLease':
      return model.completeWithLease(lease(command.lease), OUTPUTS[command.output]!);
    case 'advance':
      throw new Error('advance has no prediction');
    case 'query':
      return predictQuery(model, command);
    case 'asOf':
      throw new Error('asOf is predicted from the past states (see runStep)');
  }
};

/** What the model answers to a query on the live registry. */
const predictQuery = (
  model: ReferenceModel,
  command: Extract<Command, { op: 'query' }>,
): Expected => {
  const scope = SCOPES[command.scope]!;
  switch (command.name) {
    case 'getProcess':
      return model.getProcess(command.id);
    case 'eventsAfter':
      return model.eventsAfter(command.id, command.after);
    case 'wakeEventsAfter':
      return model.wakeEventsAfter(command.id, command.after);
    case 'waitEventAfter':
      return model.waitEventAfter(command.id, command.eventType, command.after);
    case 'awaitProcess':
      return model.awaitProcess(command.id);
    case 'listHandleGrants':
      return model.listHandleGrants(scope);
    case 'listLiveHandleGrants':
      return model.listHandleGrants(scope, true);
    case 'hasHandleGrant':
      return model.hasHandleGrant(scope, command.id);
    case 'handleGrantsForProcess':
      return model.handleGrantsForProcess(command.id);
    case 'listNonTerminal':
      return model.listNonTerminal();
    case 'listProcesses':
      return model.listProcesses();
    case 'getProcessLease':
      return model.getProcessLease(command.id);
    case 'recentEvents':
      return model.recentEvents(command.id, command.after + 1);
    case 'countEvents':
      return model.countEvents(command.id, countOptions(command.scope, command.after));
  }
};

/** An asOf view's answer, predicted from the state the model was in at that point. */
const predictAsOf = (model: ReferenceModel, q: Extract<Command, { op: 'asOf' }>): Expected => {
  switch (q.name) {
    case 'getProcess':
      return model.getProcess(q.id);
    case 'eventsAfter':
      return model.eventsAfter(q.id, q.after);
    case 'handleGrantsForProcess':
      return model.handleGrantsForProcess(q.id);
    case 'getProcessLease':
      return model.getProcessLease(q.id);
    case 'listHandleGrants':
      return model.listHandleGrants(SCOPES[q.scope]!);
    case 'listNonTerminal':
      return model.listNonTerminal();
    case 'listProcesses':
      return model.listProcesses();
    case 'recentEvents':
      return model.recentEvents(q.id, q.after + 1);
    case 'countEvents':
      return model.countEvents(q.id, countOptions(q.scope, q.after));
  }
};

/** Commands that present a lease the registry handed out need one to present. */
const LEASE_OPS: ReadonlySet<Command['op']> = new Set([
  'renew',
  'completeLease',
  'reclaim',
  'completeWithLease',
]);

const skipped = (world: World, command: Command): boolean =>
  LEASE_OPS.has(command.op) && world.leases.length === 0;

const matches = (actual: Actual, expected: Expected): boolean => {
  try {
    expect(actual).toStrictEqual(expected);
    return true;
  } catch {
    return false;
  }
};

/** Leases the registry handed out become usable by later renew / completeLease commands. */
const collectLease = (world: World, command: Command, actual: Actual): void => {
  const op = command.op;
  if ((op !== 'claim' && op !== 'renew' && op !== 'reclaim') || !('ok' in actual)) return;
  const lease = actual.ok as ProcessLease;
  if (op === 'claim' || op === 'reclaim') {
    expect(lease.leaseToken, 'a fresh lease token').not.toBe('');
    expect(world.tokens.has(lease.leaseToken), 'lease tokens are never reused').toBe(false);
    world.tokens.add(lease.leaseToken);
  }
  world.leases.push(lease);
};

const describeCommand = (command: Command) => JSON.stringify(command);

/**
 * Runs one step on the registries and the models and asserts they agree. `world.models`
 * holds every state the log may be in: two concurrent commands can answer the same in
 * either order and still leave different states (a grant that was a no-op or a new grant),
 * so both candidates are kept until a later answer tells them apart.
 */
const runStep = async (world: World, step: Step): Promise<void> => {
  if (step.op === 'advance') {
    world.past.push({
      timeMs: world.clock.now,
      position: await world.head(),
      models: world.models.map((model) => model.clone()),
    });
    world.clock.advance(step.ms);
    for (const model of world.models) model.now = world.clock.now;
    counts.commands++;
    return;
  }
  if (step.op === 'together') {
    const { first, second } = step;
    if (
      skipped(world, first) ||
      skipped(world, second) ||
      first.op === 'advance' ||
      second.op === 'advance'
    ) {
      return;
    }
    const [a, b] = await Promise.all([perform(world, first), perform(world, second)]);
    tally(first, a);
    tally(second, b);
    counts.commands += 2;
    counts.comparisons += 2;
    // linearizable: the answers must be those of one order or the other
    const candidates: ReferenceModel[] = [];
    for (const candidate of world.models) {
      for (const [x, y, ax, ay] of [
        [first, second, a, b],
        [second, first, b, a],
      ] as const) {
        const model = candidate.clone();
        if (
          matches(ax, predict(world, model, x, ax)) &&
          matches(ay, predict(world, model, y, ay))
        ) {
          candidates.push(model);
        }
      }
    }
    if (candidates.length === 0) {
      const model = world.models[0]!.clone();
      expect(
        { first: a, second: b },
        `concurrent ${describeCommand(first)} and ${describeCommand(second)} match neither order; shown against first-then-second`,
      ).toStrictEqual({
        first: predict(world, model, first, a),
        second: predict(world, model, second, b),
      });
    }
    const distinct = new Map(candidates.map((model) => [model.fingerprint(), model]));
    expect(distinct.size, 'candidate states stay few').toBeLessThanOrEqual(MAX_CANDIDATES);
    world.models = [...distinct.values()];
    collectLease(world, first, a);
    collectLease(world, second, b);
    return;
  }
  if (skipped(world, step)) return;
  if (step.op === 'asOf') {
    const { models } = await pointOf(world, step);
    const actual = await perform(world, step);
    tally(step, actual);
    counts.commands++;
    counts.comparisons++;
    const expected = models.map((model) => predictAsOf(model, step));
    if (!expected.some((e) => matches(actual, e))) {
      expect(actual, describeCommand(step)).toStrictEqual(expected[0]);
    }
    return;
  }
  const actual = await perform(world, step);
  tally(step, actual);
  counts.commands++;
  counts.comparisons++;
  const expected = world.models.map((model) => predict(world, model, step, actual));
  const agreeing = world.models.filter((_, i) => matches(actual, expected[i]!));
  if (agreeing.length === 0) expect(actual, describeCommand(step)).toStrictEqual(expected[0]);
  world.models = agreeing;
  collectLease(world, step, actual);
};

/** Distinct candidate states at most (they collapse as soon as an answer differs). */
const MAX_CANDIDATES = 64;

/** Every query over every process and scope, on one registry, against the model. */
const compareEverything = async (world: World, registry: ProcessRegistry): Promise<void> => {
  const probes: Command[] = [];
  const q = (name: Extract<Command, { op: 'query' }>['name'], id = 'p1', scope = 0, after = 0) =>
    probes.push({ op: 'query', who: 0, name, id, scope, after, eventType: EVENT_TYPES[0] });
  q('listNonTerminal');
  q('listProcesses');
  for (const id of ALL_IDS) {
    for (const name of [
      'getProcess',
      'eventsAfter',
      'wakeEventsAfter',
      'handleGrantsForProcess',
      'getProcessLease',
      'awaitProcess',
    ] as const) {
      q(name, id);
    }
    for (let n = 0; n < 4; n++) {
      q('recentEvents', id, n, n);
      q('countEvents', id, n, n);
    }
  }
  for (let scope = 0; scope < SCOPES.length; scope++) {
    q('listHandleGrants', 'p1', scope);
    q('listLiveHandleGrants', 'p1', scope);
    for (const id of ALL_IDS) q('hasHandleGrant', id, scope);
  }
  const saved = world.registries;
  world.registries = [registry];
  try {
    const answers: Actual[] = [];
    for (const probe of probes) answers.push(await perform(world, probe));
    counts.comparisons += probes.length;
    const fits = (model: ReferenceModel) =>
      probes.every((probe, i) => matches(answers[i]!, predict(world, model, probe, answers[i]!)));
    const found = world.models.find(fits);
    if (!found) {
      const model = world.models[0]!;
      probes.forEach((probe, i) => {
        expect(answers[i], `final ${describeCommand(probe)}`).toStrictEqual(
          predict(world, model, probe, answers[i]!),
        );
      });
    }
    world.models = [found!];
  } finally {
    world.registries = saved;
  }
  expect(await registry.verifyProjections(), 'read models rebuilt from the log').toEqual([]);
};

/**
 * Runs a command list against fresh registries (`instances` of them on one store) and the
 * reference model, comparing every answer, then every query on every instance and on a
 * newly opened one (read models rebuilt from the log). Paste a failure's printed list here.
 */
export const runSequence = async (
  backend: BackendName,
  steps: readonly Step[],
  instances = 1,
): Promise<void> => {
  const world = await setUp(backend, instances);
  try {
    for (const step of steps) await runStep(world, step);
    for (const registry of world.registries) await compareEverything(world, registry);
    await compareEverything(world, await world.reopen());
    counts.sequences++;
  } finally {
    await world.dispose();
  }
};

/** A failing list as a test case to paste into a test file. */
export const replayCase = (backend: BackendName, steps: readonly Step[], instances: number) =>
  `it('replays a model divergence', () =>\n  runSequence('${backend}', [\n    ${steps.map((s) => JSON.stringify(s)).join(',\n    ')},\n  ], ${instances}));`;

/** Every page of `listProcesses`, joined: what the model predicts as one list. */
const allProcesses = async (view: Parameters<typeof everyProcess>[0]) => {
  const records = [];
  for await (const record of everyProcess(view)) records.push(record);
  return records;
};
