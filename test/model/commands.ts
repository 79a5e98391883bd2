import fc from 'fast-check';
import type { AwaitOutput, EventType, Json, Registration, Scope } from './reference.ts';

/**
 * The command language of the model-based tests: plain data, so a failing (shrunk) list
 * prints as JSON and replays with `runSequence` (run.ts). Indexes pick from the small
 * fixed pools below, so sequences keep hitting the same processes, scopes and keys.
 */

export const PROCESS_IDS = ['p1', 'p2', 'p3'] as const;
/** one id that is never registered: every command on it must fail `not_found` (or no-op) */
export const ALL_IDS = [...PROCESS_IDS, 'ghost'] as const;

export const SCOPES: Scope[] = [
  { sessionId: 's1' },
  { sessionId: 's1', agentFrameId: 'f1' },
  { sessionId: 's2' },
  { sessionId: 's2', agentFrameId: 'f1' },
  // the same scope as { sessionId: 's2' }: an empty frame id is none
  { sessionId: 's2', agentFrameId: '' },
];
export const SESSIONS = ['s1', 's2', 's3'] as const;

export const DESCRIPTORS = [
  {},
  { kind: 'tool' },
  { label: 'build' },
  { kind: 'agent', label: 'x' },
];
export const EXTERNAL_REFS: Json[] = [
  { backend: 'k8s', id: 'job-1' },
  { backend: 'k8s', id: 'job-2', metadata: { node: 'n1' } },
];

const lineType: EventType = {
  name: 'log.line',
  payloadSchema: {
    type: 'object',
    properties: { text: { type: 'string' } },
    required: ['text'],
  },
};
const pingType: EventType = {
  name: 'job.ping',
  payloadSchema: true,
  semantics: {
    wake: { input: { kind: 'const', value: 'ping!' }, dedupeKey: { kind: 'const', value: 'ping' } },
  },
};

/** Two registrations per id; registering the other one is a hash `conflict`. */
export const TEMPLATES: Omit<Registration, 'id'>[] = [
  {
    input: { type: 'tool.exec', cmd: 'a' },
    eventTypes: [
      lineType,
      {
        name: 'job.note',
        payloadSchema: true,
        semantics: {
          wake: {
            when: { kind: 'present', pointer: '/msg' },
            input: { kind: 'pointer', pointer: '/msg' },
          },
        },
      },
      pingType,
      { name: 'job.done', payloadSchema: true, semantics: { terminal: { state: 'completed' } } },
    ],
  },
  {
    input: { type: 'agent.turn', n: 1 },
    eventTypes: [
      lineType,
      {
        name: 'job.note',
        payloadSchema: true,
        semantics: {
          wake: {
            input: { kind: 'payload' },
            dedupeKey: { kind: 'selector', selector: { kind: 'pointer', pointer: '/msg' } },
          },
        },
      },
      {
        name: 'job.fail',
        payloadSchema: true,
        semantics: {
          terminal: { state: 'failed', awaitOutput: { kind: 'pointer', pointer: '/why' } },
        },
      },
    ],
    provenance: {
      ownerScope: { sessionId: 's1', agentFrameId: 'f1' },
      hostProfileId: 'host-a',
      causedBy: { by: 'model-test' },
    },
  },
];

export const EVENT_TYPES = [
  'log.line',
  'job.note',
  'job.ping',
  'job.done',
  'job.fail',
  'process.completed',
  'process.failed',
  'process.cancelled',
  'process.cancel_requested',
  'undeclared.type',
] as const;

export const PAYLOADS: Json[] = [
  { text: 'a' },
  { text: 'b' },
  { text: 7 },
  {},
  { msg: 'hi' },
  { msg: 'yo', text: 'c' },
  { awaitOutput: { type: 'success', value: 1 } },
  { awaitOutput: 'boom' },
  { why: 'oops' },
  { reason: null },
];

export const REPLAY_KEYS = ['k1', 'k2'] as const;

export const OUTPUTS: AwaitOutput[] = [
  { type: 'success', value: 1 },
  { type: 'success', value: { n: 2 } },
  { type: 'failure', class: 'execution', code: 'x', message: 'm' },
  { type: 'cancelled', message: 'c' },
];

export const OWNERS = ['w1', 'w2'] as const;
export const TTLS = [0, 100, 1_000] as const;

export type QueryName =
  | 'getProcess'
  | 'eventsAfter'
  | 'wakeEventsAfter'
  | 'waitEventAfter'
  | 'awaitProcess'
  | 'listHandleGrants'
  | 'listLiveHandleGrants'
  | 'hasHandleGrant'
  | 'handleGrantsForProcess'
  | 'listNonTerminal'
  | 'listProcesses'
  | 'getProcessLease'
  | 'recentEvents'
  | 'countEvents';

/** What an `asOf` view is asked (AsOfView's methods). */
export type AsOfQueryName =
  | 'getProcess'
  | 'eventsAfter'
  | 'handleGrantsForProcess'
  | 'getProcessLease'
  | 'listHandleGrants'
  | 'listNonTerminal'
  | 'listProcesses'
  | 'recentEvents'
  | 'countEvents';

export type AppendCommand = Extract<Command, { op: 'append' }>;

/** `who` picks the registry instance (0 or 1; sequential runs have only 0). */
export type Command =
  | { op: 'register'; who: number; id: string; template: number }
  | { op: 'setExternalRef'; who: number; id: string; ref: number }
  | { op: 'grant'; who: number; scope: number; id: string; descriptor: number }
  | { op: 'revoke'; who: number; scope: number; id: string }
  | { op: 'transfer'; who: number; from: number; to: number; ids: string[] }
  | { op: 'deleteSession'; who: number; session: string }
  | {
      op: 'append';
      who: number;
      id: string;
      eventType: string;
      payload: number;
      replayKey?: string;
      target?: number;
    }
  | {
      op: 'appendBatch';
      who: number;
      id: string;
      requests: Omit<AppendCommand, 'op' | 'who' | 'id'>[];
    }
  | { op: 'complete'; who: number; id: string; output: number }
  | { op: 'cancel'; who: number; id: string; reason?: string }
  | { op: 'ackWake'; who: number; id: string; sequence: number }
  | { op: 'claim'; who: number; id: string; owner: string; ttl: number }
  | { op: 'renew'; who: number; lease: number; ttl: number }
  | { op: 'completeLease'; who: number; lease: number }
  | { op: 'reclaim'; who: number; lease: number; owner: string; ttl: number }
  | { op: 'completeWithLease'; who: number; lease: number; output: number }
  | { op: 'advance'; ms: number }
  | {
      op: 'query';
      who: number;
      name: QueryName;
      id: string;
      scope: number;
      after: number;
      eventType: string;
    }
  | {
      op: 'asOf';
      who: number;
      /** which earlier time: 0 is now, larger goes further back (before the first event too) */
      back: number;
      /** by time on the registry clock, or by the global position of that time's last event */
      by: 'time' | 'position';
      name: AsOfQueryName;
      id: string;
      scope: number;
      after: number;
    };

/** Two commands run at once on two instances (concurrent variant only). */
export type Step = Command | { op: 'together'; first: Command; second: Command };

const pick = <T>(values: readonly T[]) => fc.constantFrom(...values);
const index = (values: readonly unknown[]) => fc.nat({ max: values.length - 1 });

/** Payloads that suit each event type (by index into PAYLOADS); any other one is also tried. */
const SUITABLE: Record<(typeof EVENT_TYPES)[number], number[]> = {
  'log.line': [0, 1, 5],
  'job.note': [4, 5, 3],
  'job.ping': [0, 3],
  'job.done': [6, 0],
  'job.fail': [8],
  'process.completed': [6, 7],
  'process.failed': [7, 6],
  'process.cancelled': [7],
  'process.cancel_requested': [9],
  'undeclared.type': [0],
};

const appendArb = (who: fc.Arbitrary<number>, id: fc.Arbitrary<string>) =>
  fc
    .record({
      who,
      id,
      // terminal types less often, so processes live long enough to do things
      eventType: fc.oneof(
        { weight: 4, arbitrary: pick(['log.line', 'job.note', 'job.ping'] as const) },
        { weight: 2, arbitrary: pick(EVENT_TYPES) },
      ),
      suitable: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, fc.constant(false)),
      n: fc.nat({ max: PAYLOADS.length - 1 }),
      replayKey: fc.option(pick(REPLAY_KEYS), { freq: 3 }),
      target: fc.option(index(SCOPES), { freq: 4 }),
    })
    .map(({ who, id, eventType, suitable, n, replayKey, target }): Command => {
      const fits = SUITABLE[eventType];
      return {
        op: 'append',
        who,
        id,
        eventType,
        payload: suitable ? fits[n % fits.length]! : n,
        ...(replayKey !== null ? { replayKey } : {}),
        ...(target !== null ? { target } : {}),
      };
    });

/** Every command, weighted towards the ones that change state. */
export const commandArb = (instances: number): fc.Arbitrary<Command> => {
  const who = fc.nat({ max: instances - 1 });
  const id = fc.oneof(
    { weight: 9, arbitrary: pick(PROCESS_IDS) },
    { weight: 1, arbitrary: fc.constant('ghost') },
  );
  const live = pick(PROCESS_IDS);
  // which lease handed out so far: 0 is the latest, larger goes back to stale ones
  const lease = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, fc.nat({ max: 5 }));
  return fc.oneof(
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('register' as const),
        who,
        id: live,
        template: fc.nat({ max: 3 }).map((n) => (n === 3 ? 1 : 0)),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('setExternalRef' as const),
        who,
        id,
        ref: index(EXTERNAL_REFS),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant('grant' as const),
        who,
        scope: index(SCOPES),
        id,
        descriptor: index(DESCRIPTORS),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ op: fc.constant('revoke' as const), who, scope: index(SCOPES), id }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('transfer' as const),
        who,
        from: index(SCOPES),
        to: index(SCOPES),
        ids: fc.array(id, { maxLength: 3 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('deleteSession' as const),
        who,
        session: pick(SESSIONS),
      }),
    },
    { weight: 10, arbitrary: appendArb(who, id) },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('complete' as const),
        who,
        id,
        output: index(OUTPUTS),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record(
        { op: fc.constant('cancel' as const), who, id, reason: pick(['stop', 'now']) },
        { requiredKeys: ['op', 'who', 'id'] },
      ),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('ackWake' as const),
        who,
        id,
        sequence: fc.integer({ min: 1, max: 6 }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant('claim' as const),
        who,
        id,
        owner: pick(OWNERS),
        ttl: pick(TTLS),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ op: fc.constant('renew' as const), who, lease, ttl: pick(TTLS) }),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('completeLease' as const), who, lease }) },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('reclaim' as const),
        who,
        lease,
        owner: pick(OWNERS),
        ttl: pick(TTLS),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('completeWithLease' as const),
        who,
        lease,
        output: index(OUTPUTS),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('advance' as const),
        ms: pick([1, 50, 99, 100, 101, 1_000, 1_001]),
      }),
    },
    {
      weight: 5,
      arbitrary: fc.record({
        op: fc.constant('query' as const),
        who,
        name: pick<QueryName>([
          'getProcess',
          'eventsAfter',
          'wakeEventsAfter',
          'waitEventAfter',
          'awaitProcess',
          'listHandleGrants',
          'listLiveHandleGrants',
          'hasHandleGrant',
          'handleGrantsForProcess',
          'listNonTerminal',
          'listProcesses',
          'getProcessLease',
          'recentEvents',
          'countEvents',
        ]),
        id,
        scope: index(SCOPES),
        after: fc.nat({ max: 4 }),
        eventType: pick(EVENT_TYPES),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.tuple(who, id, fc.array(appendArb(who, id), { maxLength: 3 })).map(
        ([w, processId, appends]): Command => ({
          op: 'appendBatch',
          who: w,
          id: processId,
          requests: appends.map((a) => {
            const { op: _op, who: _who, id: _id, ...request } = a as AppendCommand;
            return request;
          }),
        }),
      ),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('asOf' as const),
        who,
        back: fc.nat({ max: 6 }),
        by: pick(['time', 'position'] as const),
        name: pick<AsOfQueryName>([
          'getProcess',
          'eventsAfter',
          'handleGrantsForProcess',
          'getProcessLease',
          'listHandleGrants',
          'listNonTerminal',
          'listProcesses',
          'recentEvents',
          'countEvents',
        ]),
        id,
        scope: index(SCOPES),
        after: fc.nat({ max: 4 }),
      }),
    },
  );
};

/** Steps for two instances: mostly one command at a time, some pairs run at once. */
export const stepArb = (): fc.Arbitrary<Step> =>
  fc.oneof(
    { weight: 3, arbitrary: commandArb(2) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(commandArb(2), commandArb(2))
        .filter(([a, b]) => ![a.op, b.op].some((op) => op === 'advance' || op === 'asOf'))
        .map(([a, b]) => ({
          op: 'together' as const,
          first: { ...a, who: 0 } as Command,
          second: { ...b, who: 1 } as Command,
        })),
    },
  );
