import fc from 'fast-check';

/**
 * Arbitraries for the public methods' arguments. Each parameter has `good` values (valid,
 * or at least well typed: the call may still fail on the registry's state) and `bad` ones
 * that break its schema, so any call given one must fail `invalid`.
 */
export interface Param {
  good: fc.Arbitrary<unknown>;
  bad: fc.Arbitrary<unknown>;
}

/** Anything at all, including values JSON cannot hold. */
export const anything = fc.anything({
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
  withUnicodeString: true,
  maxDepth: 3,
});

/** Not of this type, and not undefined (an absent optional member is fine). */
const notA = (type: string) => anything.filter((v) => typeof v !== type && v !== undefined);
const blank = fc.constantFrom('', ' ', '\t\n', '   ');
const tooLong = fc.constant('x'.repeat(513));
const nonJson = fc.oneof(
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, undefined),
  fc.bigInt(),
  fc.constant(() => 1),
  fc.constant(Symbol('s')),
  fc.date(),
  fc.constant(new Map([[1, 2]])),
);

export const id: Param = {
  good: fc.oneof(
    fc.constantFrom('p1', 'done', 'ghost', 'a/b', 'ü', '0'),
    fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s.trim() !== ''),
  ),
  bad: fc.oneof(notA('string'), blank, tooLong, fc.constant(undefined)),
};

export const sequence: Param = {
  good: fc.oneof(fc.nat({ max: 10 }), fc.constant(Number.MAX_SAFE_INTEGER)),
  bad: fc.oneof(
    fc.integer({ max: -1 }),
    fc.double({ noInteger: true }),
    fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '1', null),
    notA('number'),
  ),
};

export const ttl: Param = {
  good: fc.constantFrom(0, 1, 1_000),
  bad: fc.oneof(fc.integer({ max: -1 }), fc.double({ noInteger: true }), notA('number')),
};

/** Makes a valid object invalid: another type, a wrong member, an unknown member. */
const spoil = (
  valid: fc.Arbitrary<Record<string, unknown>>,
  wrongMembers: Record<string, fc.Arbitrary<unknown>>,
): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.nat())),
    fc
      .tuple(valid, fc.constantFrom(...Object.keys(wrongMembers)), fc.nat())
      .chain(([object, key]) => wrongMembers[key]!.map((value) => ({ ...object, [key]: value }))),
    fc
      .tuple(valid, fc.string({ minLength: 1, maxLength: 6 }), anything)
      .filter(([object, key]) => !(key in object) && key !== '__proto__')
      .map(([object, key, value]) => ({ ...object, [key]: value })),
  );

const validScope = fc.oneof(
  fc.record({ sessionId: id.good }),
  fc.record({ sessionId: id.good, agentFrameId: fc.oneof(fc.constant(''), id.good) }),
);
export const scope: Param = {
  good: validScope,
  bad: spoil(validScope as fc.Arbitrary<Record<string, unknown>>, {
    sessionId: id.bad,
    agentFrameId: notA('string'),
  }),
};

const validDescriptor = fc.record(
  { kind: fc.string({ maxLength: 8 }), label: fc.string({ maxLength: 8 }) },
  { requiredKeys: [] },
);
export const descriptor: Param = {
  good: validDescriptor,
  bad: spoil(validDescriptor, { kind: notA('string'), label: notA('string') }),
};

const json = fc.jsonValue({ maxDepth: 3 });
const eventType = fc.constantFrom(
  'producer.line',
  'producer.wake',
  'process.completed',
  'process.cancel_requested',
  'nope',
);
const validRequest = fc.record(
  {
    eventType,
    payload: json,
    replayKey: fc.string({ minLength: 1, maxLength: 6 }).filter((s) => s.trim() !== ''),
    wakeTargetScope: validScope,
  },
  { requiredKeys: ['eventType', 'payload'] },
);
export const appendRequest: Param = {
  good: validRequest,
  bad: spoil(validRequest, {
    eventType: id.bad,
    payload: nonJson,
    replayKey: fc.oneof(notA('string'), tooLong),
    wakeTargetScope: scope.bad,
  }),
};

const validOutput = fc.oneof(
  fc.record({ type: fc.constant('success'), value: json }),
  fc.record({
    type: fc.constant('failure'),
    class: fc.string({ minLength: 1, maxLength: 6 }),
    code: fc.string({ minLength: 1, maxLength: 6 }),
    message: fc.string({ maxLength: 6 }),
  }),
  fc.record({ type: fc.constant('cancelled'), message: fc.string({ maxLength: 6 }) }),
);
export const awaitOutput: Param = {
  good: validOutput,
  bad: spoil(validOutput as fc.Arbitrary<Record<string, unknown>>, {
    type: fc.oneof(notA('string'), fc.constantFrom('ok', 'Success', '')),
    value: nonJson.filter((v) => v !== undefined),
    message: notA('string'),
  }),
};

const selector = fc.oneof(
  fc.constant({ kind: 'payload' }),
  fc.record({ kind: fc.constant('pointer'), pointer: fc.constantFrom('', '/a', '/a/0', '/~1') }),
  fc.record({ kind: fc.constant('const'), value: json }),
  fc.record({ kind: fc.constant('present'), pointer: fc.constantFrom('/a', '/b') }),
);
const validEventType = fc.record(
  {
    name: fc.oneof(eventType, fc.string({ minLength: 1, maxLength: 6 })),
    payloadSchema: fc.oneof(
      fc.constant(true),
      fc.constant({}),
      fc.constant({ type: 'object', required: ['text'] }),
      fc.constant({ type: 'string', maxLength: 3 }),
    ),
    semantics: fc.oneof(
      fc.record({
        wake: fc.record({ input: selector, when: selector }, { requiredKeys: ['input'] }),
      }),
      fc.record({
        terminal: fc.record(
          {
            state: fc.constantFrom('completed', 'failed', 'cancelled'),
            awaitOutput: selector,
          },
          { requiredKeys: ['state'] },
        ),
      }),
    ),
  },
  { requiredKeys: ['name', 'payloadSchema'] },
);
const validRegistration = fc.record(
  {
    id: id.good,
    input: fc.record({ type: fc.string({ minLength: 1, maxLength: 6 }), n: fc.nat() }),
    eventTypes: fc.array(validEventType, { maxLength: 3 }),
    provenance: fc.record(
      { ownerScope: validScope, hostProfileId: id.good, causedBy: json },
      { requiredKeys: ['ownerScope', 'hostProfileId'] },
    ),
  },
  { requiredKeys: ['id', 'input'] },
);
export const registration: Param = {
  good: validRegistration,
  bad: spoil(validRegistration, {
    id: id.bad,
    input: fc.oneof(notA('object'), fc.constant({}), fc.constant({ type: 5 })),
    eventTypes: fc.oneof(
      notA('object'),
      fc.constant([
        { name: 'a', payloadSchema: true },
        { name: 'a', payloadSchema: true },
      ]),
      fc.constant([{ name: ' ', payloadSchema: true }]),
      fc.constant([
        { name: 'x', payloadSchema: true, semantics: { terminal: { state: 'failed' } } },
      ]),
      fc.constant([{ name: 'x', payloadSchema: { type: 'no-such-type' } }]),
    ),
    provenance: fc.oneof(
      notA('object'),
      fc.constant({ ownerScope: { sessionId: '' }, hostProfileId: 'h' }),
      fc.constant({ ownerScope: { sessionId: 's' }, hostProfileId: ' ' }),
    ),
  }),
};

const validRef = fc.record(
  { backend: id.good, id: id.good, metadata: json },
  { requiredKeys: ['backend', 'id'] },
);
export const externalRef: Param = {
  good: validRef,
  bad: spoil(validRef, {
    backend: id.bad,
    id: id.bad,
    metadata: nonJson.filter((v) => v !== undefined),
  }),
};

const validLease = fc.record({
  schemaVersion: fc.constant(1),
  processId: fc.constantFrom('p1', 'ghost'),
  ownerId: fc.constantFrom('w1', 'w2'),
  leaseToken: fc.uuid(),
  fencingToken: fc.integer({ min: 1, max: 3 }),
  claimedAtMs: fc.nat(),
  expiresAtMs: fc.nat(),
});
export const lease: Param = {
  good: validLease,
  bad: spoil(validLease, {
    schemaVersion: fc.constantFrom(0, 2, '1'),
    processId: id.bad,
    leaseToken: fc.oneof(notA('string'), blank),
    fencingToken: fc.oneof(notA('number'), fc.constantFrom(-1, 1.5)),
  }),
};

const validCompletion = fc.record({
  processId: fc.constantFrom('p1', 'ghost'),
  leaseToken: fc.uuid(),
});
export const leaseCompletion: Param = {
  good: validCompletion,
  bad: spoil(validCompletion, { processId: id.bad, leaseToken: fc.oneof(notA('string'), blank) }),
};

const validReclaim = fc.record({
  owner: fc.constantFrom('w2', 'w3'),
  observedLeaseToken: fc.oneof(fc.uuid(), fc.constant('tok')),
  ttlMs: fc.constantFrom(0, 1, 1_000),
});
export const leaseReclaim: Param = {
  good: validReclaim,
  bad: spoil(validReclaim, {
    owner: id.bad,
    observedLeaseToken: fc.oneof(notA('string'), blank),
    ttlMs: ttl.bad,
  }),
};

export const recentLimit: Param = {
  good: fc.integer({ min: 1, max: 1_000 }),
  bad: fc.oneof(
    fc.constantFrom(0, 1_001, 1.5, Number.NaN, '3', null),
    fc.integer({ max: 0 }),
    notA('number'),
  ),
};

const validCountOptions = fc.record(
  { eventType: fc.constantFrom('producer.line', 'process.completed'), upToSequence: fc.nat(9) },
  { requiredKeys: [] },
);
export const countOptions: Param = {
  good: validCountOptions,
  bad: spoil(validCountOptions, {
    eventType: fc.oneof(notA('string'), blank, tooLong),
    upToSequence: fc.oneof(fc.constantFrom(-1, 1.5, Number.NaN), notA('number')),
  }),
};

/** Wait options that never wait: a valid value always carries `timeoutMs: 0`. */
export const waitOptions: Param = {
  good: fc.constant({ timeoutMs: 0 }),
  bad: fc.oneof(
    fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.array(fc.nat())),
    fc.record({
      timeoutMs: fc.oneof(
        fc.constantFrom(-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31),
        notA('number'),
      ),
    }),
    fc.record({ timeoutMs: fc.constant(0), signal: fc.oneof(fc.string(), fc.constant({})) }),
    fc.record({ timeoutMs: fc.constant(0), extra: anything }),
  ),
};

export const ids: Param = {
  good: fc.array(id.good, { maxLength: 4 }),
  bad: fc.oneof(
    notA('object'),
    fc.array(id.bad, { minLength: 1, maxLength: 3 }),
    fc.constant(Array.from({ length: 10_001 }, () => 'p1')),
  ),
};

const validHistory = fc.record(
  {
    fromMs: fc.nat(),
    toMs: fc.nat(),
    types: fc.array(fc.constantFrom('ProcessRegistered', 'HandleGranted'), { maxLength: 2 }),
  },
  { requiredKeys: [] },
);
export const historyOptions: Param = {
  good: validHistory,
  bad: spoil(validHistory, { fromMs: notA('number'), toMs: fc.constantFrom(Number.NaN, '1') }),
};

export const asOfPoint: Param = {
  good: fc.oneof(
    fc.nat(),
    fc.record({ timeMs: fc.nat() }),
    fc.record({ position: fc.oneof(fc.nat(), fc.bigInt({ min: 0n, max: 100n })) }),
  ),
  bad: fc.oneof(
    fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, '1', null, undefined, {}),
    fc.record({ position: fc.oneof(fc.integer({ max: -1 }), fc.constant(1.5), fc.string()) }),
    fc.record({ timeMs: fc.constant(1), position: fc.constant(1) }),
  ),
};

export const auditContext: Param = {
  good: fc.record(
    { actor: id.good, correlationId: id.good, causationId: id.good },
    { requiredKeys: [] },
  ),
  bad: spoil(fc.record({ actor: id.good }), { actor: fc.oneof(notA('string'), blank, tooLong) }),
};
