/*
 * Helpers of the tamper tests (integrity-*.test.ts): random but reproducible single changes.
 */

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
