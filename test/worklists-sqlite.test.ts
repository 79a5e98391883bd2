import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { byListOrder } from '../src/domain/process-list.ts';
import {
  openRegistry,
  type ProcessFilter,
  type ProcessRecord,
  type ProcessRegistry,
} from '../src/index.ts';
import { everyProcess } from '../src/queries/views.ts';
import { registration } from './conformance/fixtures.ts';

/**
 * Worklists at a size where an unindexed or mis-paged listing shows: 10 000 processes,
 * loaded into memory: and imported into a SQLite file, paged through with filters on both.
 */

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'procreg-worklists-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const collect = async (iterable: AsyncIterable<ProcessRecord>) => {
  const records: ProcessRecord[] = [];
  for await (const record of iterable) records.push(record);
  return records;
};

/** Every page of a listing, 337 at a time, each record as `show` puts it. */
const pageThrough = async (
  view: Pick<ProcessRegistry, 'listProcesses'>,
  filter: ProcessFilter,
  show: (record: ProcessRecord) => string,
) => {
  const got: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await view.listProcesses(filter, { limit: 337, ...(cursor ? { cursor } : {}) });
    got.push(...page.records.map(show));
    cursor = page.nextCursor;
  } while (cursor);
  return got;
};

describe('paging through 10 000 processes', () => {
  it('gets each process exactly once, in list order, with and without filters, on memory and SQLite', async () => {
    let now = 1_700_000_000_000;
    const memory = await openRegistry('memory:', { clock: () => now });
    const sessions = ['s0', 's1', 's2', 's3', 's4'];
    for (let i = 0; i < 10_000; i++) {
      // creation times collide in runs of 7, so ids must break ties
      if (i % 7 === 0) now += 1;
      const id = `p${(i * 7919) % 10_000}`;
      await memory.registerProcess(
        registration(id, {
          input: { type: i % 3 === 0 ? 'agent.turn' : 'tool.exec' },
          provenance: { ownerScope: { sessionId: sessions[i % 5]! }, hostProfileId: 'h' },
        }),
      );
      if (i % 4 === 0) await memory.completeProcess(id, { type: 'success', value: i });
      if (i % 11 === 0) await memory.grantHandle({ sessionId: 'watcher' }, id, { label: 'hot' });
    }
    const lines: string[] = [];
    for await (const line of memory.exportEvents()) lines.push(line);
    const sqlite = await openRegistry(`sqlite:${join(dir, 'big.db')}`);
    await sqlite.importEvents(() => lines);

    const midTime = now - 700;
    const all = await collect(everyProcess(memory));
    expect(all).toHaveLength(10_000);
    const sorted = [...all].sort(byListOrder);
    expect(all.map((r) => r.id)).toEqual(sorted.map((r) => r.id));

    const filters: ProcessFilter[] = [
      {},
      { status: 'running' },
      { status: 'terminal', inputType: 'agent.turn' },
      { ownerSessionId: 's3' },
      { grantedSessionId: 'watcher', status: 'running' },
      { label: 'hot' },
      { createdFromMs: 1_700_000_000_300, createdToMs: 1_700_000_001_000 },
    ];
    for (const filter of filters) {
      const expected = all.filter((r) => {
        if (filter.status === 'running' && r.status.state !== 'running') return false;
        if (filter.status === 'terminal' && r.status.state === 'running') return false;
        if (filter.inputType && r.input.type !== filter.inputType) return false;
        if (filter.ownerSessionId && r.provenance.ownerScope.sessionId !== filter.ownerSessionId)
          return false;
        if (filter.createdFromMs !== undefined && r.createdAtMs < filter.createdFromMs)
          return false;
        if (filter.createdToMs !== undefined && r.createdAtMs >= filter.createdToMs) return false;
        return true;
      });
      for (const registry of [memory, sqlite]) {
        const got = await pageThrough(registry, filter, (r) => r.id);
        expect(new Set(got).size, JSON.stringify(filter)).toBe(got.length);
        if (filter.grantedSessionId === undefined && filter.label === undefined) {
          expect(got, JSON.stringify(filter)).toEqual(expected.map((r) => r.id));
        } else {
          // every eleventh registration was granted: check against the grants themselves
          const granted = [];
          for (const r of expected) {
            const grants = await memory.handleGrantsForProcess(r.id);
            if (grants.some((g) => g.sessionId === 'watcher' && g.descriptor.label === 'hot')) {
              granted.push(r.id);
            }
          }
          expect(granted.length).toBeGreaterThan(0);
          expect(got, JSON.stringify(filter)).toEqual(granted);
        }
      }
    }
    // as of a time: SQLite's versions (an index walk per page) page as memory's versions do
    const pages = (view: ReturnType<typeof memory.asOf>, filter: ProcessFilter) =>
      pageThrough(view, filter, (r) => `${r.id} ${r.status.state} ${r.updatedAtMs}`);
    for (const filter of [...filters, { status: 'completed' as const }]) {
      const expected = await pages(memory.asOf(midTime), filter);
      expect(expected.length, JSON.stringify(filter)).toBeGreaterThan(0);
      expect(await pages(sqlite.asOf(midTime), filter), JSON.stringify(filter)).toEqual(expected);
    }
    await memory.close();
    await sqlite.close();
  }, 180_000);
});

describe('a store file from before worklists (schema 2)', () => {
  it('gains the listing indexes and the change positions on open, answering as a fresh store does', async () => {
    const path = join(dir, 'v2.db');
    let now = 1_700_000_000_000;
    const registry = await openRegistry(`sqlite:${path}`, { clock: () => now });
    for (const id of ['a', 'b', 'c']) {
      now += 1_000;
      await registry.registerProcess(registration(id));
    }
    await registry.appendEvent('a', { eventType: 'producer.line', payload: { text: 'x' } });
    await registry.completeProcess('b', { type: 'success', value: 1 });
    const expectedChanges = (await registry.processesChangedSince()).records.map((r) => r.id);
    expect(expectedChanges).toEqual(['c', 'a', 'b']);
    await registry.close();

    // take the file back to schema 2: no listing columns, no listing indexes
    const db = new Database(path);
    for (const index of db
      .prepare(`SELECT name FROM sqlite_schema WHERE type = 'index' AND name IN
        ('rm_processes_created', 'rm_processes_state', 'rm_processes_terminal',
         'rm_processes_owner', 'rm_processes_type', 'rm_processes_changed', 'rm_grants_label')`)
      .pluck()
      .all() as string[]) {
      db.exec(`DROP INDEX ${index}`);
    }
    for (const column of ['owner_session', 'input_type', 'state', 'created_at', 'changed_at']) {
      db.exec(`ALTER TABLE rm_processes DROP COLUMN ${column}`);
    }
    // nor the log index (schema 5) and the digest tables (schema 4) that came later
    db.exec(`DROP TABLE rm_log;
      ALTER TABLE rm_checkpoint DROP COLUMN digest;
      ALTER TABLE rm_checkpoint DROP COLUMN digest_position`);
    db.pragma('user_version = 2');
    db.close();

    const reopened = await openRegistry(`sqlite:${path}`);
    expect((await reopened.processesChangedSince()).records.map((r) => r.id)).toEqual(
      expectedChanges,
    );
    expect((await reopened.listProcesses({ status: 'running' })).records.map((r) => r.id)).toEqual([
      'a',
      'c',
    ]);
    expect(await reopened.verifyProjections()).toEqual([]);
    await reopened.close();
    const after = new Database(path, { readonly: true });
    const plan = after
      .prepare(
        `EXPLAIN QUERY PLAN SELECT id FROM rm_processes WHERE state = 'running' ORDER BY created_at, id LIMIT 5`,
      )
      .all() as { detail: string }[];
    after.close();
    expect(plan.map((row) => row.detail).join(' ')).toMatch(/USING INDEX rm_processes_state/);
  });
});

describe('a store file from before the asOf listing indexes', () => {
  it('gains them on open (the creation bounds from its versions), answering as before', async () => {
    const path = join(dir, 'versions.db');
    let now = 1_700_000_000_000;
    const registry = await openRegistry(`sqlite:${path}`, { clock: () => now });
    for (const id of ['a', 'b', 'c', 'd']) {
      now += 1_000;
      await registry.registerProcess(registration(id));
      if (id !== 'c') await registry.completeProcess(id, { type: 'success', value: id });
      if (id !== 'a') await registry.grantHandle({ sessionId: 's' }, id, { label: id });
    }
    const points = [now - 2_500, now - 1_500, now];
    const answers = async (r: typeof registry) =>
      Promise.all(
        points.map(async (t) => ({
          all: (await r.asOf(t).listProcesses()).records.map((p) => p.id),
          done: (await r.asOf(t).listProcesses({ status: 'completed' })).records.map((p) => p.id),
          running: (await r.asOf(t).listProcesses({ status: 'running' })).records.map((p) => p.id),
          granted: (await r.asOf(t).listProcesses({ grantedSessionId: 's' })).records.map(
            (p) => p.id,
          ),
          labelled: (await r.asOf(t).listProcesses({ label: 'c' })).records.map((p) => p.id),
        })),
      );
    const before = await answers(registry);
    expect(before[0]).toEqual({ all: ['a'], done: ['a'], running: [], granted: [], labelled: [] });
    expect(before[2]).toEqual({
      all: ['a', 'b', 'c', 'd'],
      done: ['a', 'b', 'd'],
      running: ['c'],
      granted: ['b', 'c', 'd'],
      labelled: ['c'],
    });
    await registry.close();

    // as the previous release left it: no listing columns, indexes or creation bounds
    const db = new Database(path);
    for (const index of ['list', 'state', 'terminal', 'owner', 'type']) {
      db.exec(`DROP INDEX rm_record_versions_${index}`);
    }
    for (const column of ['owner_session', 'input_type', 'state', 'created_at']) {
      db.exec(`ALTER TABLE rm_record_versions DROP COLUMN ${column}`);
    }
    db.exec('DROP INDEX rm_grant_versions_session; DROP INDEX rm_grant_versions_label');
    db.exec('ALTER TABLE rm_grant_versions DROP COLUMN session_id');
    db.exec('ALTER TABLE rm_grant_versions DROP COLUMN label');
    db.exec('DROP TABLE rm_created');
    db.close();

    const reopened = await openRegistry(`sqlite:${path}`);
    expect(await answers(reopened)).toEqual(before);
    await reopened.close();
    const after = new Database(path, { readonly: true });
    expect(after.prepare('SELECT position, created_max FROM rm_created').all()).toEqual(
      [1, 2, 3, 4].map((n) => ({
        position: expect.any(Number),
        created_max: 1_700_000_000_000 + n * 1_000,
      })),
    );
    const plan = after
      .prepare(
        `EXPLAIN QUERY PLAN SELECT record FROM rm_record_versions v WHERE v.state = 'completed'
         AND v.valid_from <= 5 AND (v.valid_to IS NULL OR v.valid_to > 5)
         ORDER BY v.created_at, v.process_id LIMIT 5`,
      )
      .all() as { detail: string }[];
    after.close();
    expect(plan.map((row) => row.detail).join(' ')).toMatch(/USING INDEX rm_record_versions_state/);
  });
});

describe('the change feed over many stale marks', () => {
  it('reads past thousands of superseded changes and gives each process once, as memory does', async () => {
    const feeds: string[][][] = [];
    for (const url of ['memory:', `sqlite:${join(dir, 'feed.db')}`]) {
      const registry = await openRegistry(url);
      try {
        for (const id of ['a', 'b', 'c']) await registry.registerProcess(registration(id));
        const burst = async (id: string, events: number) => {
          for (let done = 0; done < events; done += 100) {
            await registry.appendEvents(
              id,
              Array.from({ length: 100 }, (_, i) => ({
                eventType: 'producer.line',
                payload: { text: `${done + i}` },
              })),
            );
          }
        };
        // a's 2 500 changes before b's and 1 000 after them are stale marks but its last
        await burst('a', 2_500);
        await burst('b', 100);
        await burst('a', 1_000);
        await burst('c', 100);
        const pages: string[][] = [];
        let cursor: string | undefined;
        for (;;) {
          const page = await registry.processesChangedSince(cursor, 1);
          if (page.records.length === 0) break;
          pages.push(page.records.map((r) => r.id));
          cursor = page.nextCursor;
        }
        feeds.push(pages);
      } finally {
        await registry.close();
      }
    }
    expect(feeds[0]).toEqual([['b'], ['a'], ['c']]);
    expect(feeds[1]).toEqual(feeds[0]);
  });
});
