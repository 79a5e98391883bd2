import { RegistryError } from '../domain/errors.ts';

/** Store failures that are not ours become `unavailable`: the caller may retry. */
export const asRegistryError = (error: unknown): RegistryError =>
  error instanceof RegistryError
    ? error
    : new RegistryError(
        'unavailable',
        `the event store failed: ${(error as Error)?.message ?? String(error)}; check that the store is reachable and retry`,
        { cause: error },
      );
