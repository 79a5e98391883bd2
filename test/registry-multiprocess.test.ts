import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../src/index.ts';
import { openRegistry } from '../src/index.ts';
import { registration } from './conformance/fixtures.ts';

const worker = join(import.meta.dirname, 'support', 'registry-worker.ts');

interface Child {
  process: ChildProcess;
  lines: Record<string, unknown>[];
  exited: Promise<number | null>;
  /** resolves with the first line matching */
  next(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

/** A registry worker as a real child process; its stdout JSON lines are collected. */
const start = (...args: string[]): Child => {
  const child = spawn(process.execPath, ['--import', 'tsx', worker, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const waiters: {
    match: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }[] = [];
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    lines.push(line);
    for (const w of waiters.filter((w) => w.match(line))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(line);
    }
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      if (code !== 0 && code !== null) console.error(`worker ${args.join(' ')} failed:\n${stderr}`);
      resolve(code);
    }),
  );
  return {
    process: child,
    lines,
    exited,
    next: (match) =>
      new Promise((resolve) => {
        const found = lines.find(match);
        if (found) resolve(found);
        else waiters.push({ match, resolve });
      }),
  };
};

describe('several OS processes on one SQLite file', () => {
  let dir: string;
  let db: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'procreg-mp-'));
    db = join(dir, 'registry.db');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const seed = async (...ids: string[]) => {
    const registry = await openRegistry(`sqlite:${db}`);
    for (const id of ids) await registry.registerProcess(registration(id));
    return registry;
  };

  it('gives 4 processes × 250 appends on one process the sequences 1..1000', async () => {
    const registry = await seed('shared');
    const children = ['a', 'b', 'c', 'd'].map((tag) => start('append', db, 'shared', '250', tag));
    expect(await Promise.all(children.map((c) => c.exited))).toEqual([0, 0, 0, 0]);
    const acked = children.flatMap((c) => c.lines.map((l) => l.sequence as number));
    expect(acked.sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    const events = await registry.eventsAfter('shared', 0);
    expect(events.map((e) => e.sequence)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    for (const tag of ['a', 'b', 'c', 'd']) {
      const mine = events.filter((e) => (e.payload as { text: string }).text.startsWith(`${tag}-`));
      expect(mine.map((e) => (e.payload as { text: string }).text)).toEqual(
        Array.from({ length: 250 }, (_, i) => `${tag}-${i}`),
      );
    }
    expect(await registry.verifyProjections()).toEqual([]);
    await registry.close();
  }, 120_000);

  it('never has two live lease owners while 4 processes race for 100 leases', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `job-${i}`);
    const registry = await seed(...ids);
    const children = ['w1', 'w2', 'w3', 'w4'].map((owner) =>
      start('lease', db, owner, ids.join(','), '6'),
    );
    expect(await Promise.all(children.map((c) => c.exited))).toEqual([0, 0, 0, 0]);
    let claims = 0;
    for (const id of ids) {
      const history = await registry.history(id);
      claims += checkLeaseHistory(history);
    }
    expect(claims).toBeGreaterThan(100);
    await registry.close();
  }, 120_000);

  it('resolves a waiter in one process on an append made by another', async () => {
    const registry = await seed('p1');
    const waiter = start('wait', db, 'p1', 'producer.line', '0');
    await waiter.next((l) => l.ready === true);
    await registry.appendEvent('p1', {
      eventType: 'producer.line',
      payload: { text: 'from the parent' },
    });
    const line = await waiter.next((l) => l.event !== undefined);
    expect(line.event).toMatchObject({ sequence: 1, payload: { text: 'from the parent' } });
    expect(await waiter.exited).toBe(0);
    await registry.close();
  }, 60_000);

  it('wakes a waiter in another process through the file, with no poll due in time', async () => {
    const registry = await seed('p1');
    // the waiter's feed polls once a minute and gives up after 20 s: only a wake-up reaches it
    const waiter = start('wait', `${db}?pollIntervalMs=60000`, 'p1', 'producer.line', '0');
    await waiter.next((l) => l.ready === true);
    await registry.appendEvent('p1', { eventType: 'producer.line', payload: { text: 'rung' } });
    const line = await waiter.next((l) => l.event !== undefined);
    expect(line.event).toMatchObject({ sequence: 1, payload: { text: 'rung' } });
    expect(await waiter.exited).toBe(0);
    await registry.close();
  }, 60_000);
});

/**
 * Replays a process's lease history and asserts the lease rules held at every moment: a
 * claim happens only when no other owner's lease is live (at the claim's own time), and
 * fencing tokens strictly increase. Returns the number of claims.
 */
const checkLeaseHistory = (history: HistoryEntry[]): number => {
  let live: { ownerId: string; leaseToken: string; expiresAtMs: number } | undefined;
  let lastToken = 0;
  let claims = 0;
  for (const entry of history) {
    if (entry.type === 'LeaseClaimed') {
      const { lease } = entry.data;
      if (live && live.ownerId !== lease.ownerId) {
        expect(
          live.expiresAtMs,
          `claim by ${lease.ownerId} while ${live.ownerId} held it`,
        ).toBeLessThanOrEqual(lease.claimedAtMs);
      }
      expect(lease.fencingToken).toBeGreaterThan(lastToken);
      lastToken = lease.fencingToken;
      live = lease;
      claims += 1;
    } else if (entry.type === 'LeaseRenewed' && live?.leaseToken === entry.data.leaseToken) {
      live = { ...live, expiresAtMs: entry.data.expiresAtMs };
    } else if (entry.type === 'LeaseReleased' && live?.leaseToken === entry.data.leaseToken) {
      live = undefined;
    }
  }
  return claims;
};

describe('crashes (SIGKILL) on SQLite', () => {
  it('loses no acknowledged write and leaves nothing partial, over 10 kills', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'procreg-crash-'));
    const db = join(dir, 'crash.db');
    try {
      const setup = await openRegistry(`sqlite:${db}`);
      await setup.registerProcess(registration('victim'));
      await setup.registerProcess(registration('victim-twin'));
      await setup.grantHandle({ sessionId: 'left' }, 'victim', {});
      await setup.grantHandle({ sessionId: 'left' }, 'victim-twin', {});
      // stays open across every round: its read models are built incrementally from the
      // live feed while the children append and die
      const watcher = setup;
      let acknowledged = 0;
      for (let round = 0; round < 10; round++) {
        const child = start('crash', db, 'victim');
        await child.next((l) => typeof l.sequence === 'number');
        await new Promise((r) => setTimeout(r, 20 + Math.random() * 150));
        child.process.kill('SIGKILL');
        expect(await child.exited).toBeNull();
        const acked = child.lines.flatMap((l) =>
          typeof l.sequence === 'number' ? [l.sequence] : [],
        );
        acknowledged = Math.max(acknowledged, ...acked);
        // straight from the file, before any registry could catch up: the models' checkpoint
        // is the head of the log (events, model rows and checkpoint commit together)
        const file = new Database(db, { readonly: true });
        const [checkpoint, head] = file
          .prepare(
            'SELECT (SELECT position FROM rm_checkpoint), (SELECT max(position) FROM events)',
          )
          .raw()
          .get() as [number, number];
        file.close();
        expect(checkpoint).toBe(head);

        const reopened = await openRegistry(`sqlite:${db}`);
        const events = await reopened.eventsAfter('victim', 0);
        // every acknowledged append is there, sequences are dense
        expect(events.length).toBeGreaterThanOrEqual(acknowledged);
        expect(events.map((e) => e.sequence)).toEqual(
          Array.from({ length: events.length }, (_, i) => i + 1),
        );
        // the two-stream transfer is all or nothing: both grants are in the same scope
        const a = (await reopened.handleGrantsForProcess('victim')).map((g) => g.sessionId);
        const b = (await reopened.handleGrantsForProcess('victim-twin')).map((g) => g.sessionId);
        expect(a).toHaveLength(1);
        expect(b).toEqual(a);
        // read models rebuilt from the file equal the ones the watcher built incrementally
        expect(await watcher.verifyProjections()).toEqual([]);
        expect(await watcher.eventsAfter('victim', 0)).toEqual(events);
        expect(await reopened.verifyProjections()).toEqual([]);
        await reopened.close();
      }
      await watcher.close();
      expect(acknowledged).toBeGreaterThan(10);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
