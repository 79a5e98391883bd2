import type { z } from 'zod';
import { RegistryError } from './errors.ts';

/**
 * Parses a public input at the edge. Anything that does not match becomes `invalid` with
 * a message naming the argument and the first problems, before any command runs, so bad
 * input can never write.
 */
export const parseInput = <S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
): z.output<S> => {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(value)'}: ${issue.message}`)
    .join('; ');
  throw new RegistryError('invalid', `invalid ${what}: ${problems}; fix the argument and retry`);
};
