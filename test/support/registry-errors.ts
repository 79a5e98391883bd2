import { expect } from 'vitest';
import { isRegistryError } from '../../src/domain/errors.ts';

/** Asserts that `promise` rejects with a RegistryError of `code` (and a message matching `text`). */
export const expectRegistryError = async (
  promise: Promise<unknown>,
  code: string,
  text?: RegExp,
): Promise<void> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isRegistryError(error), `expected a RegistryError, got ${String(error)}`).toBe(true);
  expect(error).toMatchObject({ code });
  if (text) expect((error as Error).message).toMatch(text);
};
