import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry } from '../src/index.ts';
import { runInProcess } from './support/cli-in-process.ts';
import { seedStore, T0 } from './support/cli-seed.ts';

/** history --refused, replay and repro on a seeded SQLite store with journaled refusals. */
let dir: string;
let store: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'procreg-cli-journal-'));
  store = `sqlite:${join(dir, 'seeded.db')}`;
  await seedStore(store);
  // a second worker tries to take job-1 while worker-1 holds it, then releases with a forged token
  const registry = await openRegistry(store, { clock: () => T0 + 11 * 60_000 });
  const intruder = registry.withContext({ actor: 'worker-2', correlationId: 'run-77' });
  await expect(intruder.claimProcessLease('job-1', 'worker-2', 1000)).rejects.toMatchObject({
    code: 'lease_held',
  });
  await intruder.completeProcessLease({ processId: 'job-1', leaseToken: 'forged' });
  await registry.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (...args: string[]) => runInProcess(['--store', store, ...args]);

describe('procreg history --refused, replay and repro', () => {
  it('history --refused shows the refusals with actor and code; plain history does not', async () => {
    const plain = await run('history', 'job-1');
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).not.toMatch(/refused/);
    const refused = await run('history', 'job-1', '--refused');
    expect(refused.code, refused.stderr).toBe(0);
    const rows = refused.stdout.trimEnd().split('\n').slice(2);
    expect(rows.slice(-2).map((r) => r.trim().split(/\s{2,}/))).toEqual([
      [
        '-',
        expect.any(String),
        'worker-2',
        expect.stringMatching(/^refused claimProcessLease: lease_held, /),
      ],
      [
        '-',
        expect.any(String),
        'worker-2',
        expect.stringMatching(/^refused completeProcessLease: lease_lost, /),
      ],
    ]);
    const json = JSON.parse((await run('history', 'job-1', '--refused', '--json')).stdout) as {
      entries: { refused?: boolean; correlationId?: string }[];
    };
    expect(json.entries.filter((e) => e.refused).map((e) => e.correlationId)).toEqual([
      'run-77',
      'run-77',
    ]);
  });

  it('replay shows each event with its command and actor and the state after it, up to a point', async () => {
    const all = await run('replay', 'job-1', '--json');
    expect(all.code, all.stderr).toBe(0);
    const steps = (
      JSON.parse(all.stdout) as {
        steps: { position: string; command: string; after: { lease: unknown } }[];
      }
    ).steps;
    expect(steps.length).toBeGreaterThan(1);
    expect(steps[0]).toMatchObject({ command: 'registerProcess', after: { lease: null } });
    const text = await run('replay', 'job-1', '--until', `pos:${steps[0]!.position}`);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      /ProcessRegistered ← registerProcess \(agent:alice\)\n {2}→ running · last seq 0 · grants none · no lease/,
    );
    expect(text.stdout).toMatch(/job-1: 1 event,/);
    const usage = await run('replay');
    expect(usage.code).toBe(2);
    const unknown = await run('replay', 'nope');
    expect(unknown.code).toBe(3);
  });

  it('repro writes a case that a fresh memory registry imports to answer as asOf the point', async () => {
    const steps = (
      JSON.parse((await run('replay', 'job-1', '--json')).stdout) as {
        steps: { position: string }[];
      }
    ).steps;
    const at = BigInt(steps[1]!.position);
    const file = join(dir, 'case.ndjson');
    const result = await run('repro', 'job-1', '--at', `pos:${at}`, '-o', file);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/wrote 2 events of job-1 up to position/);
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n').filter((l) => l !== '')).toHaveLength(2);
    const local = await openRegistry('memory:');
    const original = await openRegistry(store);
    try {
      await local.importEvents(() => [text]);
      const view = original.asOf({ position: at });
      expect(await local.getProcess('job-1')).toEqual(await view.getProcess('job-1'));
      expect(await local.getProcessLease('job-1')).toEqual(await view.getProcessLease('job-1'));
      expect(await local.eventsAfter('job-1', 0)).toEqual(await view.eventsAfter('job-1', 0));
    } finally {
      await local.close();
      await original.close();
    }
  });
});
