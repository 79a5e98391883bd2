import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { openRegistry } from '../src/index.ts';
import { verifyArchive } from '../src/registry/archive.ts';
import { registration } from './conformance/fixtures.ts';
import { type EsdbStandIn, startEsdbStandIn } from './support/esdb-standin.ts';

/**
 * Prune survives SIGKILL at any point, on SQLite (one transaction per prune) and on
 * EventStoreDB (the stand-in, in this process: the record, then a soft delete per stream):
 * a child prunes a few processes at a time and is killed at a random moment, ten times;
 * after each kill every process is either in the store with its whole history, or named by
 * a prune record whose archive verifies and holds exactly that history (never removed
 * without its archive), and the read models agree with the log. A last run without a kill
 * finishes the job.
 */
describe.each([
  { store: 'SQLite', url: (dir: string) => `sqlite:${join(dir, 'store.db')}` },
  { store: 'EventStoreDB (stand-in)', url: () => server!.connectionString },
])('prune crash on $store', ({ url: urlOf }) => {
  let dir: string;
  let url: string;
  let archive: string;
  /** every process's event ids, as seeded */
  const truth = new Map<string, string[]>();
  const running = new Set<string>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'procreg-prune-crash-'));
    url = urlOf(dir);
    archive = join(dir, 'archive');
    let now = Date.UTC(2025, 0, 1);
    const registry = await openRegistry(url, { clock: () => now });
    try {
      for (let i = 0; i < 60; i++) {
        const id = `p-${String(i).padStart(2, '0')}`;
        now += 1000;
        await registry.registerProcess(registration(id));
        await registry.grantHandle({ sessionId: `s-${i % 4}` }, id);
        for (let n = 0; n < 1 + (i % 5); n++) {
          await registry.appendEvent(id, {
            eventType: 'producer.line',
            payload: { text: `line ${n}` },
            replayKey: `k${n}`,
          });
        }
        if (i % 6 === 5) running.add(id);
        else await registry.completeProcess(id, { type: 'success', value: i });
        truth.set(
          id,
          (await registry.history(id)).map((e) => e.eventId),
        );
      }
    } finally {
      await registry.close();
    }
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const spawnPruner = () => {
    const script = join(import.meta.dirname, 'support', 'pruner.ts');
    const proc: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script, url, archive], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let buffered = '';
    let stderr = '';
    proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (buffered + chunk).split('\n');
      buffered = parts.pop()!;
      lines.push(...parts);
    });
    proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const exit = new Promise<{ code: number | null; signal: string | null; stderr: () => string }>(
      (resolve) =>
        proc.on('close', (code, signal) => resolve({ code, signal, stderr: () => stderr })),
    );
    return { proc, lines, exit };
  };

  const waitUntil = async (done: () => boolean, timeoutMs = 20_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error('condition not reached in time');
      await sleep(5);
    }
  };

  /** Every process is whole in the store, or whole in a verified archive a prune names. */
  const expectNothingLost = async (round: string): Promise<number> => {
    const registry = await openRegistry(url);
    let pruned = 0;
    try {
      for (const [id, eventIds] of truth) {
        const history = await registry.history(id).catch((error: unknown) => error);
        if (Array.isArray(history)) {
          expect(
            history.map((e) => e.eventId),
            `${round}: ${id} in the store`,
          ).toEqual(eventIds);
          continue;
        }
        expect(history, `${round}: ${id}`).toMatchObject({ code: 'not_found' });
        expect(running.has(id), `${round}: running ${id} was pruned`).toBe(false);
        const where = await registry.prunedProcess(id);
        expect(where, `${round}: ${id} removed but no prune names it`).toBeDefined();
        const { manifest, manifestSha256 } = await verifyArchive(where!.archive);
        expect(manifestSha256).toBe(where!.manifestSha256);
        const entry = manifest.processes.find((p) => p.processId === id)!;
        const archived = readFileSync(join(where!.archive, entry.file), 'utf8')
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => (JSON.parse(line) as { eventId: string }).eventId);
        expect(archived, `${round}: ${id} archived whole`).toEqual(eventIds);
        pruned += 1;
      }
      expect(await registry.verifyProjections(), `${round}: models agree with the log`).toEqual([]);
    } finally {
      await registry.close();
    }
    return pruned;
  };

  it('loses nothing across 10 SIGKILLs during prunes, and a re-run completes', async () => {
    const progressSeen = new Set<string>();
    let prunedBefore = 0;
    let next = spawnPruner();
    onTestFinished(() => {
      next.proc.kill('SIGKILL');
    });
    for (let round = 0; round < 10; round++) {
      const current = next;
      next = spawnPruner();
      current.proc.stdin!.end('go\n');
      // killed after a random number of steps (a file archived, the archive verified, a
      // prune recorded), plus a little: at every stage of a prune over the rounds
      const steps = 1 + Math.floor(Math.random() * 12);
      await waitUntil(
        () =>
          current.lines.filter((l) => l.startsWith('{')).length >= steps ||
          current.lines.includes('done'),
      );
      await sleep(Math.random() * 20);
      current.proc.kill('SIGKILL');
      const { signal, code, stderr } = await current.exit;
      if (signal !== 'SIGKILL') expect(code, stderr()).toBe(0);
      for (const line of current.lines) {
        if (line.startsWith('{"phase"'))
          progressSeen.add((JSON.parse(line) as { phase: string }).phase);
      }
      const pruned = await expectNothingLost(`round ${round}`);
      expect(pruned, `round ${round}: prunes go on`).toBeGreaterThanOrEqual(prunedBefore);
      prunedBefore = pruned;
    }
    const last = next;
    last.proc.stdin!.end('go\n');
    const { code, stderr } = await last.exit;
    expect(code, stderr()).toBe(0);
    expect(last.lines.at(-1)).toBe('done');
    expect(await expectNothingLost('after the re-run')).toBe(truth.size - running.size);
    // the kills fell inside prunes, not only between them
    expect(progressSeen).toContain('archive');
  }, 240_000);
});

let server: EsdbStandIn | undefined;
beforeAll(async () => {
  server = await startEsdbStandIn();
});
afterAll(async () => {
  await server?.stop();
});
