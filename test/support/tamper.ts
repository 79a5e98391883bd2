/*
 * Helpers of the tamper tests (integrity-*.test.ts): the history they change, and random but
 * reproducible single changes.
 */
import type { ProcessRegistry } from '../../src/index.ts';
import { registration } from '../conformance/fixtures.ts';

/** mulberry32: a small seeded generator, so a failing case can be replayed */
export const random = (seed: number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** `text` with one letter changed to another, still valid JSON (so the row stays readable). */
export const alterOneLetter = (text: string, next: () => number): string => {
  for (;;) {
    const i = Math.floor(next() * text.length);
    const c = text[i]!;
    if (!/[a-zA-Z0-9]/.test(c)) continue;
    const altered = `${text.slice(0, i)}${c === 'a' ? 'b' : c === '1' ? '2' : 'a'}${text.slice(i + 1)}`;
    try {
      JSON.parse(altered);
      return altered;
    } catch {}
  }
};

/**
 * The tamper tests' history: `processes` jobs registered and granted, then `lines` lines
 * each, appended `batch` at a time, job by job in each round (`together`: a round's appends
 * at once, so they share group commits); `after(done)` runs after each round.
 */
export const seedJobs = async (
  registry: ProcessRegistry,
  shape: { processes: number; lines: number; batch: number; together?: boolean },
  after?: (done: number) => Promise<void>,
): Promise<void> => {
  const { processes, lines, batch } = shape;
  for (let p = 0; p < processes; p++) {
    const id = `job-${p}`;
    await registry.registerProcess(registration(id));
    await registry.grantHandle({ sessionId: `s${p % 7}` }, id, { label: `job ${p}` });
  }
  for (let done = 0; done < lines; done += batch) {
    const count = Math.min(batch, lines - done);
    const append = (p: number) =>
      registry.appendEvents(
        `job-${p}`,
        Array.from({ length: count }, (_, i) => ({
          eventType: 'producer.line',
          payload: { text: `line ${done + i} of job ${p}` },
        })),
      );
    if (shape.together) {
      await Promise.all(Array.from({ length: processes }, (_, p) => append(p)));
    } else {
      for (let p = 0; p < processes; p++) await append(p);
    }
    await after?.(done);
  }
};

/** Two distinct positions of a log of `head` events, ascending. */
export const twoPositions = (next: () => number, head: number): [number, number] => {
  const a = 1 + Math.floor(next() * head);
  let b = 1 + Math.floor(next() * head);
  if (b === a) b = a === head ? a - 1 : a + 1;
  return a < b ? [a, b] : [b, a];
};
