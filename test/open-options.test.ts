import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openRegistry } from '../src/index.ts';
import { expectRegistryError } from './support/registry-errors.ts';

type OpenArgs = Parameters<typeof openRegistry>;

/**
 * docs/SPEC.md "Opening a registry": an unknown URL scheme or option, a bad option value or
 * a non-function clock is `invalid`; a read-models file is refused on a store that keeps its
 * own models. Each row names the store and options, on memory and on a SQLite file.
 */
describe('openRegistry refuses bad options as invalid', () => {
  const dir = mkdtempSync(join(tmpdir(), 'procreg-open-options-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const sqlite = `sqlite:${join(dir, 'r.db')}`;
  const bad: [string, OpenArgs[0], OpenArgs[1]][] = [
    ['an unknown scheme', 'nosuch://x', {}],
    ['an unknown memory URL option', 'memory:?colour=blue', {}],
    ['an unknown SQLite URL option', `${sqlite}?colour=blue`, {}],
    ['a bad journal value', 'memory:?journal=maybe', {}],
    ['a bad journal value in store options', { kind: 'memory', journal: 'maybe' as 'on' }, {}],
    ['pollIntervalMs 0', `${sqlite}?pollIntervalMs=0`, {}],
    ['a fractional pollIntervalMs', `${sqlite}?pollIntervalMs=1.5`, {}],
    ['a non-function clock', 'memory:', { clock: 'now' as unknown as () => number }],
    ['a negative stateCacheSize', 'memory:', { stateCacheSize: -1 }],
    ['a fractional stateCacheSize', sqlite, { stateCacheSize: 0.5 }],
    ['a negative retryBudgetMs', 'memory:', { retryBudgetMs: -1 }],
    ['a NaN retryBudgetMs', sqlite, { retryBudgetMs: Number.NaN }],
    ['a string retryBudgetMs', 'memory:', { retryBudgetMs: '10' as unknown as number }],
    ['a non-function onModelProgress', 'memory:', { onModelProgress: 5 as never }],
    ['readModels on memory', 'memory:', { readModels: `sqlite:${join(dir, 'm.db')}` }],
    ['readModels on SQLite', sqlite, { readModels: `sqlite:${join(dir, 'm.db')}` }],
    ['readModels in a memory URL', `memory:?readModels=sqlite:${join(dir, 'm.db')}`, {}],
  ];
  it.each(bad)('refuses %s', async (_what, store, options) => {
    await expectRegistryError(openRegistry(store, options), 'invalid');
  });

  it('accepts the edges of the ranges it documents', async () => {
    for (const [store, options, tier] of [
      [`${sqlite}?pollIntervalMs=1`, {}, 'durable'],
      [`${sqlite}?pollIntervalMs=60000`, {}, 'durable'],
      ['memory:', { stateCacheSize: 0, retryBudgetMs: 0 }, 'inline'],
    ] as [OpenArgs[0], OpenArgs[1], string][]) {
      const registry = await openRegistry(store, options);
      // it opened the store asked for, and works with these options
      expect(registry.durabilityTier).toBe(tier);
      await registry.registerProcess({ id: 'edge', input: { type: 't' } });
      expect((await registry.getProcess('edge'))?.id).toBe('edge');
      await registry.close();
    }
  });

  it('takes pollIntervalMs up to 2³¹−1 and refuses one more, in a URL and in store options', async () => {
    const most = 2 ** 31 - 1;
    await (await openRegistry(`${sqlite}?pollIntervalMs=${most}`)).close();
    await expectRegistryError(openRegistry(`${sqlite}?pollIntervalMs=${most + 1}`), 'invalid');
    await expectRegistryError(
      openRegistry({ kind: 'sqlite', path: join(dir, 'r.db'), pollIntervalMs: most + 1 }),
      'invalid',
    );
  });
});
