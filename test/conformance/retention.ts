import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type HistoryEntry, openRegistry, type ProcessRegistry } from '../../src/index.ts';
import type { ConformanceContext } from '../support/harness.ts';
import { expectNoWrite, expectRejectedWithoutWrite, registration } from './fixtures.ts';

const line = (text: string, replayKey?: string) => ({
  eventType: 'producer.line',
  payload: { text },
  ...(replayKey ? { replayKey } : {}),
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const historyIds = (entries: HistoryEntry[]) => entries.map((e) => [e.type, e.eventId]);

/**
 * A log with processes that ended long ago (old-1 with a grant, a lease and a replay key,
 * old-2), one that ended recently, and one still running since long ago. The cut-off is
 * `cut`: old-1 and old-2 ended before it.
 */
const seed = async (ctx: ConformanceContext) => {
  const r = ctx.registry;
  for (const id of ['old-1', 'old-2', 'running']) await r.registerProcess(registration(id));
  await r.grantHandle({ sessionId: 'alice' }, 'old-1');
  await r.appendEvent('old-1', line('first', 'k'));
  const lease = await r.claimProcessLease('old-1', 'worker', 60_000);
  await r.completeProcessLease({ processId: 'old-1', leaseToken: lease.leaseToken });
  await r.completeProcess('old-1', { type: 'success', value: 1 });
  await r.completeProcess('old-2', { type: 'failure', class: 'c', code: 'x', message: 'no' });
  ctx.clock.advance(10_000);
  const cut = ctx.clock.now;
  ctx.clock.advance(10_000);
  await r.registerProcess(registration('recent'));
  await r.completeProcess('recent', { type: 'success', value: 2 });
  return { cut };
};

export const retentionRules = (ctx: ConformanceContext): void => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'procreg-archive-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('archives terminal processes that ended before the cut-off, then removes them and their rows', async () => {
    const { cut } = await seed(ctx);
    const before = await ctx.registry.history('old-1');
    const audited = ctx.registry.withContext({ actor: 'ops' });
    const result = await audited.pruneTerminalProcesses({ terminalBeforeMs: cut, archiveTo: dir });
    expect(result.processes.map((p) => p.processId)).toEqual(['old-1', 'old-2']);
    expect(result.processes[0]!.events).toBe(before.length);
    // the archive: one export-format file per process, named in a manifest with its hash
    const manifestText = await readFile(join(result.archive!, 'manifest.json'), 'utf8');
    expect(sha256(manifestText)).toBe(result.manifestSha256);
    const manifest = JSON.parse(manifestText) as {
      processes: { processId: string; file: string; sha256: string; events: number }[];
    };
    const entry = manifest.processes.find((p) => p.processId === 'old-1')!;
    const file = await readFile(join(result.archive!, entry.file), 'utf8');
    expect(sha256(file)).toBe(entry.sha256);
    const lines = file
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { eventId: string });
    expect(lines.map((l) => l.eventId)).toEqual(before.map((e) => e.eventId));
    // gone from the store and every read model; the others untouched
    expect(await ctx.registry.getProcess('old-1')).toBeUndefined();
    expect((await ctx.registry.listProcesses()).records.map((p) => p.id).sort()).toEqual([
      'recent',
      'running',
    ]);
    expect(await ctx.registry.listHandleGrants({ sessionId: 'alice' })).toEqual([]);
    expect(await ctx.registry.verifyProjections()).toEqual([]);
    // the prune is in the log, with who did it and the manifest's hash
    const record = (await ctx.log()).filter((e) => e.type === 'ProcessesPruned');
    expect(record).toHaveLength(1);
    expect(record[0]!.metadata).toMatchObject({ actor: 'ops', command: 'pruneTerminalProcesses' });
    expect(record[0]!.data).toMatchObject({ manifestSha256: result.manifestSha256 });
    // history of a pruned id says where it went
    const error = await ctx.registry.history('old-1').catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'not_found' });
    expect((error as Error).message).toMatch(/pruned .* by ops/);
    expect((error as Error).message).toContain(result.archive!);
  });

  it('never touches running processes, and a dry run writes nothing', async () => {
    const { cut } = await seed(ctx);
    const dry = await expectNoWrite(ctx, () =>
      ctx.registry.pruneTerminalProcesses({
        terminalBeforeMs: ctx.clock.now + 1,
        archiveTo: dir,
        dryRun: true,
      }),
    );
    expect(dry.processes.map((p) => p.processId)).toEqual(['old-1', 'old-2', 'recent']);
    const limited = await ctx.registry.pruneTerminalProcesses({
      terminalBeforeMs: ctx.clock.now + 1,
      archiveTo: dir,
      limit: 1,
    });
    expect(limited.processes.map((p) => p.processId)).toEqual(['old-1']);
    await ctx.registry.pruneTerminalProcesses({
      terminalBeforeMs: ctx.clock.now + 1,
      archiveTo: dir,
    });
    expect((await ctx.registry.listProcesses()).records.map((p) => p.id).sort()).toEqual([
      'running',
    ]);
    expect(cut).toBeLessThan(ctx.clock.now);
  });

  it('takes the oldest terminal processes first, strictly before the cut-off, at most limit', async () => {
    const r = ctx.registry;
    for (const id of ['z-first', 'a-second', 'm-at-cut']) await r.registerProcess(registration(id));
    await r.completeProcess('z-first', { type: 'success', value: 1 });
    ctx.clock.advance(10);
    await r.completeProcess('a-second', { type: 'cancelled', message: 'stop' });
    ctx.clock.advance(10);
    const cut = ctx.clock.now;
    await r.completeProcess('m-at-cut', { type: 'success', value: 3 });
    const dry = await expectNoWrite(ctx, () =>
      r.pruneTerminalProcesses({ terminalBeforeMs: cut, archiveTo: dir, dryRun: true }),
    );
    expect(dry.processes).toEqual([
      { processId: 'z-first', events: 0, terminalAtMs: cut - 20 },
      { processId: 'a-second', events: 0, terminalAtMs: cut - 10 },
    ]);
    expect(await readdir(dir)).toEqual([]);
    const one = await r.pruneTerminalProcesses({ terminalBeforeMs: cut, archiveTo: dir, limit: 1 });
    expect(one.processes.map((p) => p.processId)).toEqual(['z-first']);
    expect(await r.getProcess('a-second')).toBeDefined();
    expect(await r.getProcess('m-at-cut')).toBeDefined();
    await expectRejectedWithoutWrite(
      ctx,
      () => r.pruneTerminalProcesses({ terminalBeforeMs: cut, archiveTo: dir, limit: 10_001 }),
      'invalid',
    );
  });

  it('reports progress through archive, verify and remove', async () => {
    const { cut } = await seed(ctx);
    const progress: unknown[] = [];
    await ctx.registry.pruneTerminalProcesses({ terminalBeforeMs: cut, archiveTo: dir }, (p) =>
      progress.push(p),
    );
    expect(progress).toEqual([
      { phase: 'archive', done: 1, total: 2 },
      { phase: 'archive', done: 2, total: 2 },
      { phase: 'verify', done: 2, total: 2 },
      { phase: 'remove', done: 2, total: 2 },
    ]);
  });

  it('rejects bad prune options and writes nothing', async () => {
    await seed(ctx);
    for (const options of [
      { terminalBeforeMs: Number.NaN, archiveTo: dir },
      { terminalBeforeMs: 1, archiveTo: '' },
      { terminalBeforeMs: 1, archiveTo: dir, limit: 0 },
    ]) {
      await expectRejectedWithoutWrite(
        ctx,
        () => ctx.registry.pruneTerminalProcesses(options),
        'invalid',
      );
    }
  });

  it.runIf(ctx.backend.restoresPruned === false)(
    'refuses, writing nothing, to restore an archive into the store its processes were pruned from (EventStoreDB before a scavenge)',
    async () => {
      const { cut } = await seed(ctx);
      const { archive } = await ctx.registry.pruneTerminalProcesses({
        terminalBeforeMs: cut,
        archiveTo: dir,
      });
      await expectRejectedWithoutWrite(
        ctx,
        () => ctx.registry.importArchive(archive!),
        'conflict',
        /scavenge/,
      );
      expect(await ctx.registry.getProcess('old-1')).toBeUndefined();
      const error = await ctx.registry.history('old-1').catch((e: Error) => e);
      expect(error).toMatchObject({ code: 'not_found' });
      // the archive restores into another store
      const target = await ctx.backend.harness();
      let other: ProcessRegistry | undefined;
      try {
        other = await openRegistry(await target.connect(), { clock: ctx.clock.read });
        expect(await other.importArchive(archive!)).toMatchObject({ processes: 2 });
        expect((await other.getProcess('old-1'))?.status.state).toBe('completed');
      } finally {
        await other?.close();
        await target.dispose();
      }
    },
  );

  it.skipIf(ctx.backend.restoresPruned === false)(
    'restores pruned processes from their archive',
    async () => {
      const { cut } = await seed(ctx);
      const history = historyIds(await ctx.registry.history('old-1'));
      const record = await ctx.registry.getProcess('old-1');
      const grants = await ctx.registry.handleGrantsForProcess('old-1');
      const { archive } = await ctx.registry.pruneTerminalProcesses({
        terminalBeforeMs: cut,
        archiveTo: dir,
      });
      const restored = await ctx.registry.importArchive(archive!);
      expect(restored.processes).toBe(2);
      expect(historyIds(await ctx.registry.history('old-1'))).toEqual(history);
      expect(await ctx.registry.getProcess('old-1')).toEqual(record);
      expect(await ctx.registry.handleGrantsForProcess('old-1')).toEqual(grants);
      expect(await ctx.registry.verifyProjections()).toEqual([]);
      // restoring again is refused: the processes are in the store
      await expectRejectedWithoutWrite(ctx, () => ctx.registry.importArchive(archive!), 'conflict');
    },
  );

  it('prunedProcess names the prune that removed an id, and nothing for ids never pruned', async () => {
    const { cut } = await seed(ctx);
    const result = await ctx.registry
      .withContext({ actor: 'ops' })
      .pruneTerminalProcesses({ terminalBeforeMs: cut, archiveTo: dir });
    const facts = await ctx.registry.prunedProcess('old-2');
    expect(facts).toEqual({
      processId: 'old-2',
      prunedAtMs: ctx.clock.now,
      actor: 'ops',
      position: result.position,
      pruneId: result.pruneId,
      archive: result.archive,
      manifestSha256: result.manifestSha256,
    });
    expect(await ctx.registry.prunedProcess('running')).toBeUndefined();
    expect(await ctx.registry.prunedProcess('never-registered')).toBeUndefined();
    const error = await ctx.registry.history('old-2').catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'not_found' });
    for (const part of [result.pruneId!, result.archive!, result.manifestSha256!, 'ops']) {
      expect((error as Error).message).toContain(part);
    }
    expect((error as Error).message).toMatch(/importArchive|import/);
  });

  it('refuses to restore an archive whose file was changed, writing nothing', async () => {
    const { cut } = await seed(ctx);
    const { archive } = await ctx.registry.pruneTerminalProcesses({
      terminalBeforeMs: cut,
      archiveTo: dir,
    });
    const file = join(archive!, '000001.ndjson');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('"text":"first"', '"text":"forged"'));
    expect(await readFile(file, 'utf8')).not.toBe(text);
    await expectRejectedWithoutWrite(ctx, () => ctx.registry.importArchive(archive!), 'invalid');
    expect(await ctx.registry.getProcess('old-1')).toBeUndefined();
  });

  it('a re-registered pruned id starts afresh: old replay keys do not answer it', async () => {
    const { cut } = await seed(ctx);
    // another instance has the old incarnation in its cache (the replay of key k)
    const other = await ctx.open();
    const old = await other.appendEvent('old-1', line('first', 'k'));
    expect(old.event.sequence).toBe(1);
    await ctx.registry.pruneTerminalProcesses({ terminalBeforeMs: cut, archiveTo: dir });
    const record = await ctx.registry.registerProcess(
      registration('old-1', { input: { type: 'tool.exec', command: 'pwd' } }),
    );
    expect(record.status).toEqual({ state: 'running' });
    // the old incarnation stored 'first' under key k at sequence 1: a new payload under k
    // is a new event here, not a conflict, and not the old answer
    const appended = await ctx.registry.appendEvent('old-1', line('second', 'k'));
    expect(appended.event).toMatchObject({ sequence: 1, payload: { text: 'second' } });
    const replayed = await expectNoWrite(ctx, () =>
      other.appendEvent('old-1', line('second', 'k')),
    );
    expect(replayed.event).toEqual(appended.event);
    expect((await other.eventsAfter('old-1', 0)).map((e) => e.payload)).toEqual([
      { text: 'second' },
    ]);
    expect(await ctx.registry.handleGrantsForProcess('old-1')).toEqual([]);
    expect(await ctx.registry.verifyProjections()).toEqual([]);
    // an instance opened now (nothing cached) reads the new incarnation from revision 0
    const fresh = await ctx.open();
    expect((await fresh.eventsAfter('old-1', 0)).map((e) => e.sequence)).toEqual([1]);
    const third = await fresh.appendEvent('old-1', line('third'));
    expect(third.event.sequence).toBe(2);
    expect((await fresh.history('old-1')).map((e) => e.type)).toEqual([
      'ProcessRegistered',
      'ProcessEventAppended',
      'ProcessEventAppended',
    ]);
    expect(await fresh.verifyIntegrity()).toMatchObject({ ok: true });
    // a rebuild from the log (the prune record, then the new incarnation) agrees
    await ctx.registry.rebuildProjections();
    expect((await ctx.registry.eventsAfter('old-1', 0)).map((e) => e.payload)).toEqual([
      { text: 'second' },
      { text: 'third' },
    ]);
    expect((await ctx.registry.listProcesses()).records.map((p) => p.id).sort()).toEqual([
      'old-1',
      'recent',
      'running',
    ]);
  });

  it('an export carries the prune records: the imported store says which ids were pruned', async () => {
    const { cut } = await seed(ctx);
    const audited = ctx.registry.withContext({ actor: 'ops' });
    const { pruneId, archive } = await audited.pruneTerminalProcesses({
      terminalBeforeMs: cut,
      archiveTo: dir,
    });
    await ctx.registry.registerProcess(registration('old-1'));
    await ctx.registry.appendEvent('old-1', line('again'));
    const lines: string[] = [];
    for await (const l of ctx.registry.exportEvents()) lines.push(l);
    const records = lines.map((l) => JSON.parse(l) as { stream: string; type: string });
    expect(records.filter((r) => r.stream === 'procreg-retention').map((r) => r.type)).toEqual([
      'ProcessesPruned',
    ]);
    const target = await ctx.backend.harness();
    let imported: ProcessRegistry | undefined;
    try {
      imported = await openRegistry(await target.connect(), { clock: ctx.clock.read });
      expect((await imported.importEvents(() => lines)).imported).toBe(lines.length);
      const error = await imported.history('old-2').catch((e: Error) => e);
      expect(error).toMatchObject({ code: 'not_found' });
      expect((error as Error).message).toMatch(/pruned .* by ops/);
      expect((error as Error).message).toContain(archive!);
      expect(await imported.prunedProcess('old-1')).toMatchObject({ pruneId, actor: 'ops' });
      // the re-registered id came along as it is now, from revision 0
      expect(await imported.getProcess('old-1')).toEqual(await ctx.registry.getProcess('old-1'));
      expect(historyIds(await imported.history('old-1'))).toEqual(
        historyIds(await ctx.registry.history('old-1')),
      );
      expect(await imported.eventsAfter('old-1', 0)).toEqual(
        await ctx.registry.eventsAfter('old-1', 0),
      );
      expect((await imported.listProcesses()).records.map((p) => p.id).sort()).toEqual([
        'old-1',
        'recent',
        'running',
      ]);
      expect(await imported.verifyProjections()).toEqual([]);
      expect(await imported.verifyIntegrity()).toMatchObject({ ok: true });
      // a store holding only prune records is not empty either
      await expect(imported.importEvents(() => lines)).rejects.toMatchObject({
        code: 'conflict',
      });
    } finally {
      await imported?.close();
      await target.dispose();
    }
  });

  it('changesBetween reports the processes pruned in the window, with the manifest hash', async () => {
    const { cut } = await seed(ctx);
    const beforePrune = ctx.clock.now;
    ctx.clock.advance(1000);
    const audited = ctx.registry.withContext({ actor: 'ops' });
    const result = await audited.pruneTerminalProcesses({ terminalBeforeMs: cut, archiveTo: dir });
    ctx.clock.advance(1000);
    await ctx.registry.registerProcess(registration('old-1'));
    const changes = await ctx.registry.changesBetween(beforePrune, ctx.clock.now);
    const pruned = changes.processes.filter((p) => p.pruned);
    expect(pruned.map((p) => p.processId)).toEqual(['old-1', 'old-2']);
    expect(pruned[0]!.pruned).toEqual({
      atMs: beforePrune + 1000,
      pruneId: result.pruneId,
      actor: 'ops',
      archive: result.archive,
      manifestSha256: result.manifestSha256,
    });
    // the id registered again after the prune shows that too; the window before shows no prune
    expect(pruned[0]!.registered).toBeDefined();
    expect(pruned[1]!.registered).toBeUndefined();
    const earlier = await ctx.registry.changesBetween(0, beforePrune);
    expect(earlier.processes.some((p) => p.pruned)).toBe(false);
  });

  it('the log verifies after a prune and after a rebuild from it, and so does a digest kept before it', async () => {
    const { cut } = await seed(ctx);
    const kept = await ctx.registry.digest();
    await ctx.registry.pruneTerminalProcesses({ terminalBeforeMs: cut, archiveTo: dir });
    await ctx.registry.appendEvent('running', line('after the prune'));
    const pruned = await ctx.registry.digest();
    const ok = { ok: true, problems: [] };
    expect(await ctx.registry.verifyIntegrity()).toMatchObject({ ...ok, digest: pruned });
    expect(await ctx.registry.verifyIntegrity({ against: kept })).toMatchObject(ok);
    // the record names each removed event's step: a fold from genesis reaches the same digest
    await ctx.registry.rebuildProjections();
    expect(await ctx.registry.digest()).toEqual(pruned);
    expect(await ctx.registry.verifyIntegrity()).toMatchObject({ ...ok, digest: pruned });
    expect(await ctx.registry.verifyIntegrity({ against: kept })).toMatchObject(ok);
    // and so does another registry folding the log at open
    const other = await ctx.open();
    expect(await other.digest()).toEqual(pruned);
    expect(await other.verifyIntegrity({ against: kept })).toMatchObject(ok);
  });

  it('asOf a point before a prune names the processes pruned since', async () => {
    const { cut } = await seed(ctx);
    const beforePrune = ctx.clock.now;
    ctx.clock.advance(1000);
    const { pruneId } = await ctx.registry.pruneTerminalProcesses({
      terminalBeforeMs: cut,
      archiveTo: dir,
    });
    const past = ctx.registry.asOf(beforePrune);
    expect((await past.prunedSince()).map((p) => [p.processId, p.pruneId])).toEqual([
      ['old-1', pruneId],
      ['old-2', pruneId],
    ]);
    expect((await past.listProcesses()).records.map((p) => p.id).sort()).toEqual([
      'recent',
      'running',
    ]);
    expect(await ctx.registry.asOf(ctx.clock.now).prunedSince()).toEqual([]);
  });
};

/** A store that cannot remove streams yet refuses a prune before writing anything. */
export const retentionRefused = (ctx: ConformanceContext): void => {
  it('refuses to prune, clearly, and writes nothing (not even an archive)', async () => {
    const { cut } = await seed(ctx);
    const dir = await mkdtemp(join(tmpdir(), 'procreg-archive-'));
    try {
      await expectRejectedWithoutWrite(
        ctx,
        () => ctx.registry.pruneTerminalProcesses({ terminalBeforeMs: cut, archiveTo: dir }),
        'invalid',
        /not supported/,
      );
      expect(await readdir(dir)).toEqual([]);
      expect(await ctx.registry.getProcess('old-1')).toBeDefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
};
