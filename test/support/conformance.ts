import { afterEach, beforeEach, describe } from 'vitest';
import { appendRules } from '../conformance/appending.ts';
import { auditRules } from '../conformance/audit.ts';
import { concurrencyRules } from '../conformance/concurrency.ts';
import { eventCountRules } from '../conformance/event-counts.ts';
import { grantRules } from '../conformance/grants.ts';
import { integrityRules } from '../conformance/integrity.ts';
import { journalRules } from '../conformance/journal.ts';
import { leaseTakeoverRules } from '../conformance/lease-takeover.ts';
import { leaseRules } from '../conformance/leases.ts';
import { limitRules } from '../conformance/limits.ts';
import { registrationRules } from '../conformance/registration.ts';
import { replayRules } from '../conformance/replay.ts';
import { retentionRefused, retentionRules } from '../conformance/retention.ts';
import { semanticsRules } from '../conformance/semantics.ts';
import { temporalRules } from '../conformance/temporal.ts';
import { unreadableRules } from '../conformance/unreadable.ts';
import { validationRules } from '../conformance/validation.ts';
import { waiterRules } from '../conformance/waiters.ts';
import { worklistRules } from '../conformance/worklists.ts';
import { type BackendUnderTest, ConformanceContext } from './harness.ts';

/**
 * The registry conformance suite: every rule of docs/SPEC.md, run against one backend. Each store
 * adapter's test file calls this unchanged with its backend.
 */
export const describeConformance = (backend: BackendUnderTest): void => {
  describe(`registry conformance: ${backend.name}`, () => {
    const ctx = new ConformanceContext(backend);
    beforeEach(() => ctx.setUp());
    afterEach(() => ctx.tearDown());

    describe('registration and records', () => registrationRules(ctx));
    describe('handle grants and sessions', () => grantRules(ctx));
    describe('appending process events', () => appendRules(ctx));
    describe('selectors and semantics', () => semanticsRules(ctx));
    describe('waiters', () => waiterRules(ctx));
    describe('leases', () => leaseRules(ctx));
    describe('fenced completion and lease reclaim', () => leaseTakeoverRules(ctx));
    describe('recent events and event counts', () => eventCountRules(ctx));
    describe('input validation', () => validationRules(ctx));
    describe('limits at their edges', () => limitRules(ctx));
    describe('concurrency', () => concurrencyRules(ctx));
    describe('audit and rebuild', () => auditRules(ctx));
    describe('integrity: hash-linked streams and the log digest', () => integrityRules(ctx));
    describe('journal of refused commands', () => journalRules(ctx));
    describe('unreadable stored events', () => unreadableRules(ctx));
    describe('replay debugging and cases', () => replayRules(ctx));
    describe('history, asOf, export and import', () => temporalRules(ctx));
    describe('worklists and the change feed', () => worklistRules(ctx));
    describe('retention with archival', () =>
      backend.prunes === false ? retentionRefused(ctx) : retentionRules(ctx));
  });
};
