import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openRegistry } from '../src/index.ts';
import { registration } from './conformance/fixtures.ts';
import { describeMultiProcess, startWorker } from './support/registry-workers.ts';

describeMultiProcess('SQLite file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'procreg-mp-'));
  return {
    url: `sqlite:${join(dir, 'registry.db')}`,
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('several OS processes on one SQLite file: wake-ups', () => {
  it('wakes a waiter in another process through the file, with no poll due in time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'procreg-mp-'));
    const db = join(dir, 'registry.db');
    try {
      const registry = await openRegistry(`sqlite:${db}`);
      await registry.registerProcess(registration('p1'));
      // the waiter's feed polls once a minute and gives up after 20 s: only a wake-up reaches it
      const waiter = startWorker('wait', `${db}?pollIntervalMs=60000`, 'p1', 'producer.line', '0');
      await waiter.next((l) => l.ready === true);
      await registry.appendEvent('p1', { eventType: 'producer.line', payload: { text: 'rung' } });
      const line = await waiter.next((l) => l.event !== undefined);
      expect(line.event).toMatchObject({ sequence: 1, payload: { text: 'rung' } });
      expect(await waiter.exited).toBe(0);
      await registry.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

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
        const child = startWorker('crash', db, 'victim');
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
