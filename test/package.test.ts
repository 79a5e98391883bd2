import { describe, expect, it } from 'vitest';

/**
 * The published entry point: `import 'procreg'` resolves to the compiled dist/ (built by
 * `npm ci` through the prepare script) and works without a TypeScript loader's help.
 */
describe('the built package', () => {
  it('exports the public API from dist/', async () => {
    const entry = 'procreg';
    const api = (await import(/* @vite-ignore */ entry)) as typeof import('../src/index.ts');
    expect(Object.keys(api).sort()).toEqual([
      'ProcessRegistry',
      'RegistryError',
      'cancelRequest',
      'errorCodes',
      'isRegistryError',
      'openRegistry',
    ]);
    const registry = await api.openRegistry('memory:');
    const record = await registry.registerProcess({ id: 'p', input: { type: 't' } });
    expect(record.status).toEqual({ state: 'running' });
    await expect(registry.getProcess(' ')).rejects.toBeInstanceOf(api.RegistryError);
    await registry.close();
  });
});
