/**
 * The store used when none is named. Apart from open.ts (which loads zod and the memory
 * store) so the CLI can name it without loading either.
 */
export const DEFAULT_STORE = 'sqlite:./procreg.db';

/** env PROCREG_STORE (when set and non-empty), else the default file. */
export const defaultStoreUrl = (env: NodeJS.ProcessEnv = process.env): string =>
  env.PROCREG_STORE || DEFAULT_STORE;
