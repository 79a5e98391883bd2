import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openRegistry } from '../src/index.ts';
import { registration } from './conformance/fixtures.ts';

describe('the registry on SQLite: open, close, reopen', () => {
  let dir: string;
  let url: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'procreg-reopen-'));
    url = `sqlite:${join(dir, 'registry.db')}`;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps everything across close and reopen; replays stay idempotent, fencing continues', async () => {
    let now = 1_000;
    const first = await openRegistry(url, { clock: () => now });
    expect(first.durabilityTier).toBe('durable');
    await first.registerProcess(registration('p1'));
    await first.grantHandle({ sessionId: 'alice', agentFrameId: 'f' }, 'p1', { label: 'L' });
    const wake = {
      eventType: 'producer.wake',
      payload: { text: 'hello' },
      replayKey: 'wake-1',
      wakeTargetScope: { sessionId: 'alice' },
    };
    const appended = await first.appendEvent('p1', wake);
    const lease = await first.claimProcessLease('p1', 'w1', 100);
    await first.completeProcessLease({ processId: 'p1', leaseToken: lease.leaseToken });
    const before = {
      record: await first.getProcess('p1'),
      grants: await first.handleGrantsForProcess('p1'),
      events: await first.eventsAfter('p1', 0),
      wakes: await first.wakeEventsAfter('p1', 0),
      history: await first.history('p1'),
    };
    await first.close();

    now = 5_000;
    const second = await openRegistry(url, { clock: () => now });
    expect({
      record: await second.getProcess('p1'),
      grants: await second.handleGrantsForProcess('p1'),
      events: await second.eventsAfter('p1', 0),
      wakes: await second.wakeEventsAfter('p1', 0),
      history: await second.history('p1'),
    }).toEqual(before);
    const replayed = await second.appendEvent('p1', wake);
    expect(replayed).toEqual(appended);
    expect(await second.history('p1')).toHaveLength(before.history.length);
    const next = await second.claimProcessLease('p1', 'w2', 100);
    expect(next.fencingToken).toBe(lease.fencingToken + 1);
    expect(await second.verifyProjections()).toEqual([]);
    await second.close();
  });

  it('opens the store named by PROCREG_STORE when no store is given', async () => {
    const previous = process.env.PROCREG_STORE;
    process.env.PROCREG_STORE = url;
    try {
      const registry = await openRegistry();
      await registry.registerProcess(registration('from-env'));
      await registry.close();
    } finally {
      if (previous === undefined) delete process.env.PROCREG_STORE;
      else process.env.PROCREG_STORE = previous;
    }
    const check = await openRegistry(url);
    expect((await check.getProcess('from-env'))?.id).toBe('from-env');
    await check.close();
  });

  it('turns a bad store URL, options or a foreign file into clear errors', async () => {
    await expect(openRegistry('nope://x')).rejects.toMatchObject({
      code: 'invalid',
      message: expect.stringContaining('unknown store'),
    });
    await expect(openRegistry('sqlite:')).rejects.toMatchObject({ code: 'invalid' });
    await expect(openRegistry(url, { clock: 5 as unknown as () => number })).rejects.toMatchObject({
      code: 'invalid',
      message: expect.stringContaining('clock'),
    });
    await expect(openRegistry(`${url}?pollIntervalMs=0`)).rejects.toMatchObject({
      code: 'invalid',
    });
    await expect(openRegistry(`${url}?colour=blue`)).rejects.toMatchObject({ code: 'invalid' });
    await expect(openRegistry(`${url}?synchronous=maybe`)).rejects.toMatchObject({
      code: 'invalid',
    });
    const foreign = join(dir, 'foreign.db');
    writeFileSync(foreign, 'this is not a database, just some text '.repeat(200));
    await expect(openRegistry(`sqlite:${foreign}`)).rejects.toMatchObject({ code: 'invalid' });
    await expect(openRegistry(`sqlite:${join(dir, 'missing-dir', 'x.db')}`)).rejects.toMatchObject({
      code: 'unavailable',
    });
  });

  it('accepts synchronous=normal and a poll interval', async () => {
    const registry = await openRegistry(`${url}?synchronous=normal&pollIntervalMs=5`);
    await registry.registerProcess(registration('p1'));
    expect((await registry.getProcess('p1'))?.id).toBe('p1');
    await registry.close();
  });

  it('opens stores named by options objects too', async () => {
    const path = url.slice('sqlite:'.length);
    const bySqlite = await openRegistry({ kind: 'sqlite', path, synchronous: 'normal' });
    expect(bySqlite.durabilityTier).toBe('durable');
    await bySqlite.registerProcess(registration('by-options'));
    await bySqlite.close();
    const byUrl = await openRegistry({ url });
    expect((await byUrl.getProcess('by-options'))?.id).toBe('by-options');
    await byUrl.close();
    const memory = await openRegistry({ kind: 'memory' });
    expect(memory.durabilityTier).toBe('inline');
    await memory.close();
    await expect(
      openRegistry({ kind: 'sqlite', path: ' ' } as Parameters<typeof openRegistry>[0]),
    ).rejects.toMatchObject({ code: 'invalid' });
    await expect(
      openRegistry({ kind: 'redis' } as unknown as Parameters<typeof openRegistry>[0]),
    ).rejects.toMatchObject({ code: 'invalid' });
  });
});
