import { expect } from 'vitest';
import type {
  ProcessRegistration,
  RegistryErrorCode,
  SessionDeleteReport,
} from '../../src/index.ts';
import type { ConformanceContext } from '../support/harness.ts';

export const lineType = {
  name: 'producer.line',
  payloadSchema: {
    type: 'object',
    properties: { text: { type: 'string' } },
    required: ['text'],
  },
} as const;

/** A process event type that wakes the target with the line's text. */
export const wakeType = {
  name: 'producer.wake',
  payloadSchema: true,
  semantics: { wake: { input: { kind: 'pointer', pointer: '/text' } } },
} as const;

/** A session deletion's report: nothing revoked, cancelled or preserved unless `facts` says. */
export const sessionReport = (
  sessionId: string,
  facts: Partial<SessionDeleteReport> = {},
): SessionDeleteReport => ({
  sessionId,
  revokedHandleCount: 0,
  deletedWakeCount: 0,
  cancelProcessIds: [],
  preservedProcessIds: [],
  ...facts,
});

export const registration = (
  id: string,
  extra: Partial<ProcessRegistration> = {},
): ProcessRegistration => ({
  id,
  input: { type: 'tool.exec', command: 'ls' },
  eventTypes: [lineType, wakeType],
  ...extra,
});

/**
 * Asserts a call fails with `code` (and message part) and that the stored log is exactly
 * what it was before: a failed call writes nothing.
 */
export const expectRejectedWithoutWrite = async (
  ctx: ConformanceContext,
  call: () => Promise<unknown>,
  code: RegistryErrorCode,
  messagePart?: string | RegExp,
): Promise<void> => {
  const before = await ctx.log();
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected the call to reject').toBeDefined();
  expect(error).toMatchObject({ name: 'RegistryError', code });
  if (messagePart !== undefined) expect((error as Error).message).toMatch(messagePart);
  expect((await ctx.log()).map((e) => e.id)).toEqual(before.map((e) => e.id));
};

/** Asserts a call succeeds and writes nothing (a no-op command). */
export const expectNoWrite = async <T>(
  ctx: ConformanceContext,
  call: () => Promise<T>,
): Promise<T> => {
  const before = await ctx.log();
  const result = await call();
  expect((await ctx.log()).length).toBe(before.length);
  return result;
};
