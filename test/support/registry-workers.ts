/**
 * Registry workers as real child processes (test/support/registry-worker.ts), for the
 * multi-process tests on every store that several OS processes can share.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../src/index.ts';
import { openRegistry } from '../../src/index.ts';
import { openStore } from '../../src/store/open.ts';
import { registration, sessionReport } from '../conformance/fixtures.ts';
import { beforeNextAppend } from './before-append.ts';

const worker = join(import.meta.dirname, 'registry-worker.ts');

export interface Child {
  process: ChildProcess;
  lines: Record<string, unknown>[];
  exited: Promise<number | null>;
  /** resolves with the first line matching */
  next(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

/** A registry worker as a real child process; its stdout JSON lines are collected. */
export const startWorker = (...args: string[]): Child => {
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

export /**
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

/**
 * What several OS processes sharing one store must get right: dense sequences under
 * contention, at most one live lease owner, and waiters woken by other processes' appends.
 * `setUp` gives each test a fresh store URL that every process opens.
 */
export const describeMultiProcess = (
  name: string,
  setUp: () => Promise<{ url: string; dispose: () => Promise<void> }>,
): void => {
  describe(`several OS processes on one ${name}`, () => {
    let store: string;
    let dispose: () => Promise<void>;
    beforeEach(async () => {
      ({ url: store, dispose } = await setUp());
    });
    afterEach(() => dispose());

    const seed = async (...ids: string[]) => {
      const registry = await openRegistry(store);
      for (const id of ids) await registry.registerProcess(registration(id));
      return registry;
    };

    it('gives 4 processes × 250 appends on one process the sequences 1..1000', async () => {
      const registry = await seed('shared');
      const children = ['a', 'b', 'c', 'd'].map((tag) =>
        startWorker('append', store, 'shared', '250', tag),
      );
      expect(await Promise.all(children.map((c) => c.exited))).toEqual([0, 0, 0, 0]);
      const acked = children.flatMap((c) => c.lines.map((l) => l.sequence as number));
      expect(acked.sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
      const events = await registry.eventsAfter('shared', 0);
      expect(events.map((e) => e.sequence)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
      for (const tag of ['a', 'b', 'c', 'd']) {
        const mine = events.filter((e) =>
          (e.payload as { text: string }).text.startsWith(`${tag}-`),
        );
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
        startWorker('lease', store, owner, ids.join(','), '6'),
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

    // docs/SPEC.md "Concurrency and consistency": the deletion catches up after its writes
    it('a session deletion also revokes a grant another process committed while it ran', async () => {
      const seeded = await seed('p1', 'p2');
      await seeded.grantHandle({ sessionId: 's' }, 'p1', {});
      await seeded.close();
      let other: Child | undefined;
      // the other process grants p2 after the deletion chose its processes (p1), before its append
      const deleting = await openRegistry(
        beforeNextAppend(await openStore(store), async () => {
          other = startWorker('grant', store, 'p2', 's', 'f');
          expect(await other.exited).toBe(0);
        }),
      );
      const report = await deleting.deleteSessionProcessState('s');
      expect(other?.lines).toEqual([{ granted: 'session:s/frame:f' }]);
      expect(report).toEqual(
        sessionReport('s', { revokedHandleCount: 2, cancelProcessIds: ['p1', 'p2'] }),
      );
      await deleting.close();
      const after = await openRegistry(store);
      expect(await after.listHandleGrants({ sessionId: 's', agentFrameId: 'f' })).toEqual([]);
      expect(await after.handleGrantsForProcess('p2')).toEqual([]);
      expect(await after.verifyProjections()).toEqual([]);
      await after.close();
    }, 60_000);

    it('resolves a waiter in one process on an append made by another', async () => {
      const registry = await seed('p1');
      const waiter = startWorker('wait', store, 'p1', 'producer.line', '0');
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
  });
};
