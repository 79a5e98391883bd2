import { z } from 'zod';
import type { Position } from '../store/port.ts';

/**
 * Points in the registry's past as callers name them: `asOf(point)`, and the `until` of
 * `replay` and `extractCase`. A bare number is a time on the registry clock.
 */
export const AsOfPointSchema = z.union([
  z.strictObject({ timeMs: z.number().finite() }),
  z.strictObject({ position: z.union([z.bigint().nonnegative(), z.number().int().nonnegative()]) }),
]);

export type PointInput = number | { timeMs: number } | { position: bigint | number };

/** `replay` and `extractCase`: up to a point, else the whole stream. */
export const UntilOptionsSchema = z
  .strictObject({ until: z.union([z.number().finite(), AsOfPointSchema]).optional() })
  .optional();

/** The log position an `until` names (through `asOf`), and how messages say it. */
export const positionUntil = async (
  until: PointInput | undefined,
  asOf: (point: PointInput) => { position(): Promise<Position> },
): Promise<{ upTo: Position | undefined; where: string }> => {
  if (until === undefined) return { upTo: undefined, where: 'yet' };
  const upTo = await asOf(until).position();
  return { upTo, where: `as of position ${upTo}` };
};
