import type { AppendRequest, ProcessRegistration } from '../../src/index.ts';
import { lineType } from '../../test/conformance/fixtures.ts';

/** The injected clock: fixed, so no figure depends on wall time (leases use long TTLs). */
export const FIXED_NOW = 1_700_000_000_000;
export const fixedClock = (): number => FIXED_NOW;

/** A line of output, validated against a small JSON Schema (the common case): the same
 * event type the conformance suite uses. */
export { lineType };

export const registration = (id: string): ProcessRegistration => ({
  id,
  input: { type: 'tool.exec', command: 'npm test', cwd: '/work/project' },
  eventTypes: [lineType],
  provenance: { ownerScope: { sessionId: 'bench-session' }, hostProfileId: 'default' },
});

/** About 60 bytes of payload: a typical line of tool output. */
export const lineRequest = (i: number): AppendRequest => ({
  eventType: 'producer.line',
  payload: { text: `line ${i}: compiled 42 modules in 1.3 s, 0 warnings` },
});

export const processIds = (prefix: string, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(6, '0')}`);
