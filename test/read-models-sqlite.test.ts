import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeEvent } from '../src/domain/codec.ts';
import { GENESIS_DIGEST } from '../src/domain/integrity.ts';
import { openRegistry, type ProcessRegistry } from '../src/index.ts';
import { EventReader } from '../src/projections/event-reader.ts';
import { inlineProjection } from '../src/projections/project.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { SCHEMA_VERSION } from '../src/store/sqlite-file.ts';
import { registration } from './conformance/fixtures.ts';
import { record, T0 } from './deciders/fixtures.ts';
import { commonAnswers, feedCountsDigest } from './fixtures/workload.mts';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;

/** What the v1 fixture's registry answered, from the same calls as its generator made. */
const answersOf = async (registry: ProcessRegistry) => ({
  // 0.1.0 listed every process by id; the listing now pages in creation order
  listProcesses: (await registry.listProcesses({}, { limit: 1000 })).records
    .slice()
    .sort((a, b) => (a.id < b.id ? -1 : 1)),
  ...(await commonAnswers(registry)),
});

const json = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'procreg-models-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('upgrading a store written by procreg 0.1.0 (events only)', () => {
  it('builds the read-model tables once, with progress, and answers exactly as 0.1.0 did', async () => {
    const path = join(dir, 'old.db');
    copyFileSync(fixture('v1-events-only.db'), path);
    const expected = JSON.parse(readFileSync(fixture('v1-events-only.answers.json'), 'utf8'));
    const before = new Database(path, { readonly: true });
    const eventCount = before.prepare('SELECT count(*) FROM events').pluck().get() as number;
    expect(before.pragma('user_version', { simple: true })).toBe(1);
    before.close();

    const progress: { done: bigint; head: bigint }[] = [];
    const registry = await openRegistry(`sqlite:${path}`, {
      onModelProgress: (p) => progress.push(p),
    });
    expect(progress.at(-1)).toEqual({ done: BigInt(eventCount), head: BigInt(eventCount) });
    expect(json(await answersOf(registry))).toEqual(expected);
    expect(await registry.verifyProjections()).toEqual([]);
    // and it keeps working: a new event lands in the models with the rest
    await registry.appendEvent('job-0', { eventType: 'line', payload: { i: 99 } });
    expect((await registry.eventsAfter('job-0', 0)).map((e) => e.sequence)).toEqual([
      1, 2, 3, 4, 5, 6,
    ]);
    await registry.close();

    const after = new Database(path, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const [checkpoint, head] = after
      .prepare('SELECT (SELECT position FROM rm_checkpoint), (SELECT max(position) FROM events)')
      .raw()
      .get() as [number, number];
    expect(checkpoint).toBe(head);
    after.close();

    // opened again: nothing left to build
    const again: unknown[] = [];
    const reopened = await openRegistry(`sqlite:${path}`, {
      onModelProgress: (p) => again.push(p),
    });
    expect(again).toEqual([]);
    expect(await reopened.verifyProjections()).toEqual([]);
    await reopened.close();
  });

  it('rebuildProjections empties and refolds the tables; a rebuild cut short resumes on open', async () => {
    const path = join(dir, 'old.db');
    copyFileSync(fixture('v1-events-only.db'), path);
    const expected = JSON.parse(readFileSync(fixture('v1-events-only.answers.json'), 'utf8'));
    const registry = await openRegistry(`sqlite:${path}`);
    const seen: bigint[] = [];
    await registry.rebuildProjections(({ done }) => seen.push(done));
    expect(seen.length).toBeGreaterThan(0);
    expect(json(await answersOf(registry))).toEqual(expected);
    await registry.close();

    // what a crash right after emptying the tables leaves: no rows, checkpoint 0
    const db = new Database(path);
    const tables = db
      .prepare(
        "SELECT name FROM sqlite_schema WHERE name LIKE 'rm\\_%' ESCAPE '\\' AND type = 'table' AND name NOT LIKE '%\\_node' ESCAPE '\\' AND name NOT LIKE '%\\_parent' ESCAPE '\\' AND name NOT LIKE '%\\_rowid' ESCAPE '\\' AND name <> 'rm_checkpoint'",
      )
      .pluck()
      .all() as string[];
    expect(tables).toContain('rm_record_versions');
    for (const table of tables) db.exec(`DELETE FROM ${table}`);
    db.exec(
      `UPDATE rm_checkpoint SET position = 0, digest = '${GENESIS_DIGEST}', digest_position = 0`,
    );
    db.close();
    const resumed = await openRegistry(`sqlite:${path}`);
    expect(json(await answersOf(resumed))).toEqual(expected);
    expect(await resumed.verifyProjections()).toEqual([]);
    await resumed.close();
  });
});

describe('upgrading a schema-4 store (digest tables and the changed_at index)', () => {
  it('moves them into the log index in place: same answers, same change feed, same digest, verifies', async () => {
    const path = join(dir, 'v4.db');
    copyFileSync(fixture('v4-models.db'), path);
    const expected = JSON.parse(readFileSync(fixture('v4-models.answers.json'), 'utf8'));
    const progress: unknown[] = [];
    const registry = await openRegistry(`sqlite:${path}`, {
      onModelProgress: (p) => progress.push(p),
    });
    try {
      expect(progress).toEqual([]); // nothing to project again
      expect(
        json({
          listProcesses: await registry.listProcesses(),
          ...(await commonAnswers(registry)),
          ...(await feedCountsDigest(registry)),
        }),
      ).toEqual(expected);
      expect(await registry.verifyProjections()).toEqual([]);
      expect(await registry.verifyIntegrity()).toMatchObject({ ok: true, problems: [] });
      // what is appended after the upgrade chains on and shows in the feed
      await registry.appendEvent('job-1', { eventType: 'line', payload: { i: 99 } });
      const feed = await registry.processesChangedSince(undefined, 1000);
      expect(feed.records.at(-1)).toMatchObject({ id: 'job-1', updatedAtMs: expect.any(Number) });
      expect(feed.records.map((r) => r.id).sort()).toEqual(
        expected.changes
          .flat()
          .map((r: { id: string }) => r.id)
          .sort(),
      );
      expect(await registry.verifyIntegrity()).toMatchObject({ ok: true, problems: [] });
    } finally {
      await registry.close();
    }
    const after = new Database(path, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const gone = after
      .prepare(
        "SELECT name FROM sqlite_schema WHERE name IN ('rm_digest', 'rm_digests', 'rm_processes_changed')",
      )
      .pluck()
      .all();
    expect(gone).toEqual([]);
    after.close();
  });
});

describe('upgrading read models written before countEvents (rm_events without types)', () => {
  it('empties them and projects the log again on open, then counts by type', async () => {
    const path = join(dir, 'untyped.db');
    const before = await openRegistry(`sqlite:${path}`);
    await before.registerProcess(registration('p'));
    await before.appendEvents(
      'p',
      Array.from({ length: 5 }, (_, i) => ({
        eventType: 'producer.line',
        payload: { text: `${i}` },
      })),
    );
    await before.close();
    // the table as schema 2 had it before the type columns
    const db = new Database(path);
    db.exec(`ALTER TABLE rm_events DROP COLUMN type_counts;
      ALTER TABLE rm_events DROP COLUMN type_ordinal;
      ALTER TABLE rm_events DROP COLUMN event_type;`);
    db.close();
    const progress: bigint[] = [];
    const after = await openRegistry(`sqlite:${path}`, {
      onModelProgress: ({ done }) => progress.push(done),
    });
    expect(progress.length).toBeGreaterThan(0); // the log was projected again
    expect(await after.countEvents('p', { eventType: 'producer.line', upToSequence: 3 })).toBe(3);
    expect((await after.recentEvents('p', 2)).map((e) => e.sequence)).toEqual([4, 5]);
    expect(await after.verifyProjections()).toEqual([]);
    await after.appendEvent('p', { eventType: 'producer.line', payload: { text: 'more' } });
    expect(await after.countEvents('p', { eventType: 'producer.line' })).toBe(6);
    await after.close();
  });
});

describe('the read models live in the SQLite file', () => {
  it('commit with the events: the checkpoint is the head of the log after every append', async () => {
    const path = join(dir, 'r.db');
    const registry = await openRegistry(`sqlite:${path}`);
    await registry.registerProcess(registration('p'));
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        registry.appendEvent('p', { eventType: 'producer.line', payload: { text: `${i}` } }),
      ),
    );
    const db = new Database(path, { readonly: true });
    const [checkpoint, head, rows] = db
      .prepare(
        `SELECT (SELECT position FROM rm_checkpoint), (SELECT max(position) FROM events),
                (SELECT count(*) FROM rm_events WHERE process_id = 'p')`,
      )
      .raw()
      .get() as [number, number, number];
    db.close();
    expect(checkpoint).toBe(head);
    expect(rows).toBe(20);
    await registry.close();
  });

  it('an append refused inside a group commit leaves no model row (its savepoint rolls back)', async () => {
    const store = await openSqliteStore(join(dir, 's.db'));
    store.models!.attach(inlineProjection(new EventReader()));
    const metadata = {
      eventVersion: 1,
      command: 'test',
      commandId: 'c',
      recordedAtMs: T0,
      actor: null,
      correlationId: null,
      causationId: null,
    };
    const registeredAs = (id: string, eventId: string) =>
      encodeEvent(
        eventId,
        { type: 'ProcessRegistered', data: { record: { ...record, id } } },
        metadata,
      );
    await store.appendToStream('process-b', [registeredAs('b', 'e-0')], {
      expectedRevision: 'no_stream',
    });
    // one batch (same turn): `a` commits, the stale write to `b` is refused alone
    const [a, b] = await Promise.allSettled([
      store.appendToStream('process-a', [registeredAs('a', 'e-1')], {
        expectedRevision: 'no_stream',
      }),
      store.appendToStream('process-b', [registeredAs('b2', 'e-2')], {
        expectedRevision: 'no_stream',
      }),
    ]);
    expect(a.status).toBe('fulfilled');
    expect(b.status).toBe('rejected');
    const tables = store.models!.tables;
    expect(tables.processes('all').map((r) => r.id)).toEqual(['a', 'b']);
    expect(store.models!.current()).toBe(true);
    // the refused append's events are gone: the checkpoint is the stored append's last event
    expect(tables.checkpoint()).toBe((await store.readStream('process-a')).at(-1)!.position);
    await store.close();
  });

  it('a command refused by a rule writes neither events nor model rows', async () => {
    const path = join(dir, 'r.db');
    const registry = await openRegistry(`sqlite:${path}`);
    await registry.registerProcess(registration('p'));
    await registry.completeProcess('p', { type: 'success', value: 1 });
    await expect(
      registry.completeProcess('p', { type: 'cancelled', message: 'too late' }),
    ).rejects.toMatchObject({ code: 'already_terminal' });
    await expect(registry.claimProcessLease('p', 'w', 1_000)).rejects.toMatchObject({
      code: 'already_terminal',
    });
    expect(await registry.verifyProjections()).toEqual([]);
    expect(await registry.eventsAfter('p', 0)).toHaveLength(1);
    await registry.close();
  });

  it('a long stream is loaded from its snapshot, not folded from the start', async () => {
    const path = join(dir, 'r.db');
    const writer = await openRegistry(`sqlite:${path}`);
    await writer.registerProcess(registration('long'));
    for (let batch = 0; batch < 6; batch++) {
      await writer.appendEvents(
        'long',
        Array.from({ length: 200 }, (_, i) => ({
          eventType: 'producer.line',
          payload: { text: `${batch}:${i}` },
        })),
      );
    }
    await writer.close();
    const db = new Database(path);
    const snapshot = db
      .prepare("SELECT revision FROM rm_snapshots WHERE process_id = 'long'")
      .pluck()
      .get() as number;
    expect(snapshot).toBeGreaterThanOrEqual(500);
    // Events the snapshot covers are no longer read by a new instance: damage them and the
    // command still decides correctly (it would fail to decode them if it folded them).
    db.prepare(
      "UPDATE events SET data = '{}' WHERE stream = 'process-long' AND revision BETWEEN 1 AND ?",
    ).run(snapshot);
    db.close();
    const reader = await openRegistry(`sqlite:${path}`);
    const outcome = await reader.appendEvent('long', {
      eventType: 'producer.line',
      payload: { text: 'after' },
    });
    expect(outcome.event.sequence).toBe(1201);
    await reader.close();
  });
});

describe('a rebuild inserts replay keys many rows per statement', () => {
  it('and writes exactly the rows the appends wrote one by one', async () => {
    const path = join(dir, 'bulk.db');
    const registry = await openRegistry(`sqlite:${path}`);
    await registry.registerProcess(registration('p'));
    await registry.registerProcess(registration('q'));
    // 75 replay keys (a statement of 64 rows and 11 single rows), two processes interleaved
    for (let i = 0; i < 150; i++) {
      await registry.appendEvent(i % 3 === 0 ? 'q' : 'p', {
        eventType: 'producer.line',
        payload: { text: `line ${i}` },
        ...(i % 2 === 0 ? { replayKey: `k-${i}` } : {}),
      });
    }
    const rows = () => {
      const db = new Database(path, { readonly: true });
      const all = {
        events: db.prepare('SELECT * FROM rm_events ORDER BY process_id, sequence').all(),
        replays: db.prepare('SELECT * FROM rm_replays ORDER BY process_id, key').all(),
      };
      db.close();
      return all;
    };
    const appended = rows();
    expect(appended.events).toHaveLength(150);
    expect(appended.replays).toHaveLength(75);
    await registry.rebuildProjections();
    expect(rows()).toEqual(appended);
    expect(await registry.verifyProjections()).toEqual([]);
    await registry.close();
  });
});

describe('replay keys and wakes by index (SQLite)', () => {
  it('the folded state keeps none of them, and replays and acks still answer from the index', async () => {
    const path = join(dir, 'keys.db');
    const writer = await openRegistry(`sqlite:${path}`);
    await writer.registerProcess(registration('p'));
    const originals = [];
    for (let i = 0; i < 600; i++) {
      originals.push(
        await writer.appendEvent('p', {
          eventType: 'producer.wake',
          payload: { text: `line ${i}` },
          replayKey: `k-${i}`,
          wakeTargetScope: { sessionId: 's' },
        }),
      );
    }
    await writer.close();
    // the snapshot is the cached state as written: no replay key, no wake in it
    const db = new Database(path, { readonly: true });
    const state = JSON.parse(
      db.prepare("SELECT state FROM rm_snapshots WHERE process_id = 'p'").pluck().get() as string,
    ) as { replayKeys: unknown[]; wakeSequences: unknown[]; revision: number };
    db.close();
    expect(state.revision).toBeGreaterThanOrEqual(499);
    expect(state.replayKeys).toEqual([]);
    expect(state.wakeSequences).toEqual([]);

    const reader = await openRegistry(`sqlite:${path}`);
    const again = await reader.appendEvent('p', {
      eventType: 'producer.wake',
      payload: { text: 'line 3' },
      replayKey: 'k-3',
      wakeTargetScope: { sessionId: 's' },
    });
    expect(again.event).toEqual(originals[3]!.event);
    await expect(
      reader.appendEvent('p', {
        eventType: 'producer.wake',
        payload: { text: 'other' },
        replayKey: 'k-3',
      }),
    ).rejects.toMatchObject({ code: 'conflict' });
    await reader.ackWake('p', 4);
    await reader.ackWake('p', 4); // acked already: writes nothing
    const history = await reader.history('p');
    expect(history.filter((h) => h.type === 'WakeAcked')).toHaveLength(1);
    expect((await reader.wakeEventsAfter('p', 0)).map((e) => e.sequence)).not.toContain(4);
    expect(await reader.verifyProjections()).toEqual([]);
    await reader.close();
  });
});

describe('an event this release cannot read (SQLite)', () => {
  it('stops the models before it, fails `unavailable` naming it, never crashes, and resumes once repaired', async () => {
    const path = join(dir, 'poison.db');
    const uncaught: unknown[] = [];
    const onError = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onError);
    process.on('unhandledRejection', onError);
    const registry = await openRegistry(`sqlite:${path}?pollIntervalMs=5`);
    try {
      await registry.registerProcess(registration('p'));
      await registry.appendEvent('p', { eventType: 'producer.line', payload: { text: 'one' } });
      const good = await registry.history('p');
      const last = good.at(-1)!;

      // another connection writes what a newer release (or a damaged disk) would
      const db = new Database(path);
      db.prepare(
        `INSERT INTO events (stream, revision, type, data, metadata, recorded_at, event_id)
         VALUES ('process-p', ?, 'ProcessEventAppended', '{"from":"the future"}', ?, 0, 'poison-1')`,
      ).run(last.revision + 1, JSON.stringify({ ...last.metadata, eventVersion: 1 }));
      const poisonPosition = db.prepare('SELECT max(position) FROM events').pluck().get();

      // the live feed meets it: no crash; the runner reports it and stays before it
      await expect
        .poll(() => registry.diagnostics().liveFeedError, { timeout: 5_000 })
        .toMatch(/cannot read the event/);
      const failure = await registry.getProcess('p').catch((e: unknown) => e);
      expect(failure).toMatchObject({ name: 'RegistryError', code: 'unavailable' });
      expect((failure as Error).message).toContain(`position ${poisonPosition}`);
      expect((failure as Error).message).toContain('stream process-p');
      expect((failure as Error).message).toContain('type ProcessEventAppended');
      expect((failure as Error).message).toMatch(/upgrade procreg|repair/);
      await expect(
        registry.appendEvent('p', { eventType: 'producer.line', payload: { text: 'two' } }),
      ).rejects.toMatchObject({ code: 'unavailable' });
      // every path that reads the log says the same: history, asOf, verify, export
      const named = {
        code: 'unavailable',
        message: expect.stringContaining(`position ${poisonPosition}`),
      };
      await expect(registry.history('p')).rejects.toMatchObject(named);
      await expect(
        registry.asOf({ position: Number(poisonPosition) }).listProcesses(),
      ).rejects.toMatchObject(named);
      await expect(registry.verifyProjections()).rejects.toMatchObject(named);
      const exported = async () => {
        for await (const _ of registry.exportEvents());
      };
      await expect(exported()).rejects.toMatchObject(named);

      // newer eventVersion: says who wrote it
      db.prepare(
        "UPDATE events SET metadata = json_set(metadata, '$.eventVersion', 9) WHERE event_id = 'poison-1'",
      ).run();
      await expect(registry.listProcesses()).rejects.toThrow(/written by a newer procreg/);

      // repaired (what an upgrade achieves): the same position now holds a readable event
      const stored = db
        .prepare("SELECT data FROM events WHERE stream = 'process-p' AND revision = ?")
        .pluck()
        .get(last.revision) as string;
      const data = JSON.parse(stored) as {
        event: { sequence: number; invocation: { subject: { sequence: number } } };
      };
      data.event.sequence = 2;
      data.event.invocation.subject.sequence = 2;
      db.prepare(
        "UPDATE events SET data = ?, metadata = json_set(metadata, '$.eventVersion', 1) WHERE event_id = 'poison-1'",
      ).run(JSON.stringify(data));
      db.close();
      const woken = registry.waitEventAfter('p', 'producer.line', 2, { timeoutMs: 10_000 });
      expect((await registry.eventsAfter('p', 0)).map((e) => e.sequence)).toEqual([1, 2]);
      await registry.appendEvent('p', { eventType: 'producer.line', payload: { text: 'three' } });
      expect((await woken).sequence).toBe(3);
      expect(await registry.verifyProjections()).toEqual([]);
      await expect.poll(() => registry.diagnostics().liveFeedError).toBeUndefined();
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
      await registry.close();
    }
  });
});

describe('import', () => {
  it('keeps the exported log order, so positions (and asOf by position) mean the same', async () => {
    const source = await openRegistry('memory:');
    await source.registerProcess(registration('a'));
    await source.registerProcess(registration('b'));
    await source.appendEvent('a', { eventType: 'producer.line', payload: { text: '1' } });
    await source.appendEvent('b', { eventType: 'producer.line', payload: { text: '2' } });
    await source.appendEvent('a', { eventType: 'producer.line', payload: { text: '3' } });
    const lines: string[] = [];
    for await (const line of source.exportEvents()) lines.push(line);
    const target = await openRegistry(`sqlite:${join(dir, 'imported.db')}`);
    await target.importEvents(() => lines);
    const positions = async (r: ProcessRegistry) => [
      ...(await r.history('a')).map((h) => ['a', h.position]),
      ...(await r.history('b')).map((h) => ['b', h.position]),
    ];
    expect(await positions(target)).toEqual(await positions(source));
    await source.close();
    await target.close();
  });
});
