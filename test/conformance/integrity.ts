import { expect, it } from 'vitest';
import { canonicalJson } from '../../src/domain/canonical.ts';
import { STREAM_PREFIX } from '../../src/domain/events.ts';
import { contentHash, GENESIS_DIGEST } from '../../src/domain/integrity.ts';
import { openRegistry, type ProcessRegistry } from '../../src/index.ts';
import type { ConformanceContext } from '../support/harness.ts';
import { seedHistory } from './audit.ts';
import { registration } from './fixtures.ts';

/** Hash-linked streams and the log digest (SPEC: Integrity), on every store. */
export const integrityRules = (ctx: ConformanceContext): void => {
  it('a fresh registry verifies ok, with the genesis digest', async () => {
    const report = await ctx.registry.verifyIntegrity();
    expect(report).toMatchObject({ ok: true, checked: 0, problems: [] });
    expect(await ctx.registry.digest()).toEqual({ digest: GENESIS_DIGEST, position: 0n });
  });

  it('links every stored event to the one before it in its stream, by the hash of its content', async () => {
    await seedHistory(ctx);
    const log = await ctx.log();
    const last = new Map<string, string>();
    for (const stored of log) {
      const metadata = stored.metadata as { hash: string; prevHash: string | null };
      expect(metadata.hash).toBe(contentHash(stored));
      expect(metadata.prevHash).toBe(last.get(stored.stream) ?? null);
      last.set(stored.stream, metadata.hash);
    }
  });

  it('where the store keeps text (SQLite, PostgreSQL), it is the canonical JSON the hash was taken over', async () => {
    await seedHistory(ctx);
    const store = await ctx.connect();
    try {
      if (!store.readAllText) return; // memory and EventStoreDB keep values, not text
      let rows = 0;
      for await (const page of store.readAllText()) {
        for (const text of page) {
          if (!text.stream.startsWith(STREAM_PREFIX)) continue;
          rows += 1;
          expect(text.data).toBe(canonicalJson(JSON.parse(text.data)));
          expect(text.metadata).toBe(canonicalJson(JSON.parse(text.metadata)));
        }
      }
      expect(rows).toBeGreaterThan(0);
      expect(rows).toBe((await ctx.log()).filter((e) => e.stream.startsWith(STREAM_PREFIX)).length);
    } finally {
      await store.close();
    }
  });

  it('verifies a varied history ok, with progress, and the digest advances with every append', async () => {
    await seedHistory(ctx);
    const log = await ctx.log();
    const checked: number[] = [];
    const report = await ctx.registry.verifyIntegrity({
      onProgress: (p) => checked.push(p.checked),
    });
    expect(report).toMatchObject({ ok: true, checked: log.length, problems: [] });
    expect(report.unchained).toEqual({ events: 0, through: null });
    expect(checked.at(-1)).toBe(log.length);
    const before = await ctx.registry.digest();
    expect(before).toEqual(report.digest);
    expect(before.position).toBe(log.at(-1)!.position);

    await ctx.registry.appendEvent('a', { eventType: 'producer.line', payload: { text: 'x' } });
    const after = await ctx.registry.digest();
    expect(after.position).toBeGreaterThan(before.position);
    expect(after.digest).not.toBe(before.digest);
    // the prefix a kept digest covers is unchanged
    expect((await ctx.registry.verifyIntegrity({ against: before })).ok).toBe(true);
    const forged = {
      digest: before.digest.replace(/^./, (c) => (c === '0' ? '1' : '0')),
      position: before.position,
    };
    expect(await ctx.registry.verifyIntegrity({ against: forged })).toMatchObject({
      ok: false,
      problems: [{ position: before.position, stream: null, revision: null, kind: 'chain_broken' }],
    });
  });

  it('an exported log keeps its hashes: imported into an empty store, it verifies ok', async () => {
    await seedHistory(ctx);
    const lines: string[] = [];
    for await (const line of ctx.registry.exportEvents()) lines.push(line);
    const target = await ctx.backend.harness();
    let imported: ProcessRegistry | undefined;
    try {
      imported = await openRegistry(await target.connect(), { clock: ctx.clock.read });
      await imported.importEvents(() => lines);
      const report = await imported.verifyIntegrity();
      expect(report).toMatchObject({ ok: true, checked: lines.length, problems: [] });
      expect(report.unchained.events).toBe(0);
      // and the copy goes on chaining where the source stopped
      await imported.registerProcess(registration('after-import'));
      await imported.appendEvent('a', { eventType: 'producer.line', payload: { text: 'y' } });
      expect((await imported.verifyIntegrity()).problems).toEqual([]);
    } finally {
      await imported?.close();
      await target.dispose();
    }
  });

  it('refuses a malformed digest to verify against, as invalid', async () => {
    for (const against of [
      { digest: 'not-a-digest', position: 1 },
      { digest: GENESIS_DIGEST, position: -1 },
    ]) {
      await expect(ctx.registry.verifyIntegrity({ against })).rejects.toMatchObject({
        code: 'invalid',
      });
    }
  });
};
