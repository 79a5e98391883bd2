import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { DomainEvent } from '../src/domain/events.ts';
import { grantsModel } from '../src/projections/grants.ts';
import { leasesModel } from '../src/projections/leases.ts';
import { processesModel } from '../src/projections/processes.ts';
import { applyEvent } from '../src/projections/project.ts';
import { unackedWakesModel } from '../src/projections/wakes.ts';
import { MemoryTables } from '../src/store/memory-tables.ts';
import type { ReadModelTables } from '../src/store/read-model-tables.ts';
import { SqliteTables } from '../src/store/sqlite-tables.ts';
import { createTables } from '../src/store/sqlite-tables-sql.ts';
import { claimed, completedFor, registered, T0 } from './deciders/fixtures.ts';

/** Both table implementations: a models-only SQLite file keeps the events in its rows. */
const implementations: [string, () => ReadModelTables][] = [
  ['memory tables', () => new MemoryTables()],
  [
    'SQLite tables',
    () => {
      const db = new Database(':memory:');
      createTables(db);
      return new SqliteTables(db, false);
    },
  ],
];

/** Given domain events, folded into the tables at positions 1, 2, 3 ... */
const given = (tables: ReadModelTables, events: DomainEvent[]): ReadModelTables => {
  events.forEach((event, i) => {
    applyEvent(tables, { event, position: BigInt(i + 1), metadata: { recordedAtMs: T0 + i } });
  });
  return tables;
};

const at = { recordedAtMs: T0 };

const wakeAt = (sequence: number): DomainEvent => ({
  type: 'ProcessEventAppended',
  data: {
    payloadHash: 'h',
    wakeTargetScope: { sessionId: 's' },
    event: {
      processId: 'p',
      sequence,
      eventType: 'w',
      payload: null,
      occurredAtMs: T0,
      invocation: {
        scope: 'root',
        subject: { kind: 'processEvent', processId: 'p', sequence, eventType: 'w' },
        causedBy: { kind: 'process', processId: 'p' },
      },
      semantics: { wake: { input: 'i', dedupeKey: `p:${sequence}` } },
    },
  },
});

const granted = (sessionId: string): DomainEvent => ({
  type: 'HandleGranted',
  data: { processId: 'p', scope: { sessionId }, descriptor: { label: 'L' }, atMs: T0 },
});

const transferAToB: DomainEvent = {
  type: 'HandleTransferred',
  data: {
    processId: 'p',
    from: { sessionId: 'a' },
    to: { sessionId: 'b' },
    descriptor: { label: 'L' },
    atMs: T0 + 1,
  },
};

describe('read-model definitions: given events, when one more, then these row changes', () => {
  it('a transfer moves the grant: delete under the old scope, put under the new', () => {
    const tables = given(new MemoryTables(), [registered, granted('a')]);
    const changes = grantsModel.apply({ event: transferAToB, position: 3n, metadata: at }, tables);
    expect(changes).toEqual([
      { table: 'grants', delete: { scopeId: 'session:a', processId: 'p' } },
      {
        table: 'grants',
        put: {
          sessionId: 'b',
          scopeId: 'session:b',
          processId: 'p',
          descriptor: { label: 'L' },
          grantedAtMs: T0 + 1,
        },
      },
    ]);
  });

  it('a terminal event puts the record with its terminal status', () => {
    const tables = given(new MemoryTables(), [registered]);
    const [change] = processesModel.apply(
      { event: completedFor('p'), position: 2n, metadata: at },
      tables,
    );
    expect(change).toMatchObject({ table: 'processes', put: { status: { state: 'completed' } } });
  });

  it('a non-terminal process event only touches updatedAtMs, without reading the record', () => {
    const tables = given(new MemoryTables(), []); // no record: a put would need one
    const line = wakeAt(1);
    expect(processesModel.apply({ event: line, position: 2n, metadata: at }, tables)).toEqual([
      { table: 'processes', touch: { processId: 'p', updatedAtMs: T0 } },
    ]);
  });

  it('a stale release changes nothing; the holder’s release deletes the lease', () => {
    const tables = given(new MemoryTables(), [
      registered,
      claimed(),
      claimed({ leaseToken: 'tok-2', fencingToken: 2 }),
    ]);
    const release = (leaseToken: string, fencingToken: number): DomainEvent => ({
      type: 'LeaseReleased',
      data: { processId: 'p', leaseToken, fencingToken, atMs: T0 },
    });
    expect(
      leasesModel.apply({ event: release('tok-1', 1), position: 4n, metadata: at }, tables),
    ).toEqual([]);
    expect(
      leasesModel.apply({ event: release('tok-2', 2), position: 4n, metadata: at }, tables),
    ).toEqual([{ table: 'leases', delete: { processId: 'p' } }]);
  });

  it('an event without a wake changes no wake row; an ack deletes one', () => {
    const tables = given(new MemoryTables(), [registered]);
    expect(
      unackedWakesModel.apply({ event: completedFor('p'), position: 2n, metadata: at }, tables),
    ).toEqual([]);
    const ack: DomainEvent = { type: 'WakeAcked', data: { processId: 'p', sequence: 1, atMs: T0 } };
    expect(unackedWakesModel.apply({ event: ack, position: 2n, metadata: at }, tables)).toEqual([
      { table: 'wakes', delete: { processId: 'p', sequence: 1 } },
    ]);
  });
});

describe.each(implementations)('projections into %s', (_name, open) => {
  it('given a grant then a transfer, the grant is indexed under the new scope only', () => {
    const tables = given(open(), [registered, granted('a'), transferAToB]);
    expect(tables.grantsOfScope('session:a')).toEqual([]);
    expect(tables.grantsOfScope('session:b').map((g) => g.descriptor)).toEqual([{ label: 'L' }]);
    expect(tables.grantsOfProcess('p').map((g) => g.scopeId)).toEqual(['session:b']);
    expect(tables.processesOfSession('b')).toEqual(['p']);
    expect(tables.processesOfSession('a')).toEqual([]);
  });

  it('a process stays listed for a session while any of its grants to that session’s scopes remains', () => {
    const grantedTo = (scope: { sessionId: string; agentFrameId?: string }): DomainEvent => ({
      type: 'HandleGranted',
      data: { processId: 'p', scope, descriptor: { label: 'L' }, atMs: T0 },
    });
    const revokedFrom = (scope: { sessionId: string; agentFrameId?: string }): DomainEvent => ({
      type: 'HandleRevoked',
      data: { processId: 'p', scope, reason: 'revoked', atMs: T0 },
    });
    const frame = { sessionId: 'a', agentFrameId: 'f' };
    const cases: [DomainEvent[], string[]][] = [
      [[registered, granted('a'), grantedTo(frame)], ['p']],
      [[registered, granted('a'), grantedTo(frame), granted('a')], ['p']],
      [[registered, granted('a'), grantedTo(frame), revokedFrom({ sessionId: 'a' })], ['p']],
      [[registered, granted('a'), grantedTo(frame), revokedFrom(frame), granted('a')], ['p']],
      [
        [
          registered,
          granted('a'),
          grantedTo(frame),
          granted('a'),
          revokedFrom(frame),
          revokedFrom({ sessionId: 'a' }),
        ],
        [],
      ],
      [[registered, granted('a'), transferAToB], []],
    ];
    for (const [events, expected] of cases) {
      expect(given(open(), events).processesOfSession('a'), JSON.stringify(events)).toEqual(
        expected,
      );
    }
  });

  it('given a terminal event, the process leaves the running list', () => {
    const tables = given(open(), [registered, completedFor('p')]);
    expect(tables.processes('running')).toEqual([]);
    expect(tables.process('p')?.status.state).toBe('completed');
    expect(tables.processes('all').map((r) => r.id)).toEqual(['p']);
  });

  it('given wakes and an ack, only unacked wakes remain; events read by sequence', () => {
    const tables = given(open(), [
      registered,
      wakeAt(1),
      wakeAt(2),
      { type: 'WakeAcked', data: { processId: 'p', sequence: 1, atMs: T0 } },
    ]);
    expect(tables.unackedWakes('p', 0)).toEqual([2]);
    expect(tables.unackedWakes('p', 2)).toEqual([]);
    expect(tables.eventsAfter('p', 1).map((e) => e.sequence)).toEqual([2]);
    expect(tables.eventsAt('p', [2, 9]).map((e) => e.sequence)).toEqual([2]);
  });

  it('given a stale release, the newer lease stays', () => {
    const tables = given(open(), [
      registered,
      claimed(),
      claimed({ leaseToken: 'tok-2', fencingToken: 2 }),
      {
        type: 'LeaseReleased',
        data: { processId: 'p', leaseToken: 'tok-1', fencingToken: 1, atMs: T0 },
      },
    ]);
    expect(tables.lease('p')?.leaseToken).toBe('tok-2');
  });

  it('dumps the same rows as the other implementation, and clear empties them', () => {
    const events = [registered, granted('a'), wakeAt(1), claimed()];
    const tables = given(open(), events);
    expect(tables.dump().rows).toEqual(given(new MemoryTables(), events).dump().rows);
    tables.clear();
    expect(tables.dump().rows.size).toBe(0);
    expect(tables.checkpoint()).toBe(0n);
  });
});
