import { existsSync } from 'node:fs';
import type { ProcessRegistry, RegistryOptions } from '../index.ts';
import { defaultStoreUrl } from '../store/default-store.ts';
import { CliError, exitCodes } from './errors.ts';

/** `--store`, else `$PROCREG_STORE`, else the default file in the working directory. */
export const resolveStoreUrl = (flag: string | undefined, env: NodeJS.ProcessEnv): string =>
  flag ?? defaultStoreUrl(env);

/**
 * `read`: the store must already exist. Opening a SQLite URL creates the file, so a typo in
 * a path would otherwise answer "no processes" from a brand-new empty store and leave the
 * file behind. `write` (demo, import, copy's target) creates it.
 */
export type OpenMode = 'read' | 'write';

export const openStoreAt = async (
  url: string,
  mode: OpenMode,
  options?: RegistryOptions,
): Promise<ProcessRegistry> => {
  // Loaded here, not at start-up: `procreg help` and usage errors never load the registry.
  const [{ openRegistry }, { sqliteFileOf }] = await Promise.all([
    import('../open-registry.ts'),
    import('../store/open.ts'),
  ]);
  const path = sqliteFileOf(url);
  if (mode === 'read' && path !== undefined && !existsSync(path)) {
    throw new CliError(
      `no store at \`${url}\` (${path} does not exist); run \`procreg demo\` to create one, or point --store (or PROCREG_STORE) at an existing store`,
      exitCodes.unavailable,
      'unavailable',
    );
  }
  return openRegistry(url, options);
};
