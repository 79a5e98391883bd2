/**
 * Code-unit order: stable across locales and machines (SQL collations sort bytes). Every
 * listing the registry returns sorts ids this way.
 */
export const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The members of one longest strictly increasing subsequence (patience sorting). */
export const longestIncreasing = (values: readonly number[]): Set<number> => {
  const tails: number[] = []; // index into values of the smallest tail of each length
  const parent: number[] = [];
  values.forEach((value, i) => {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (values[tails[mid]!]! < value) lo = mid + 1;
      else hi = mid;
    }
    parent[i] = lo > 0 ? tails[lo - 1]! : -1;
    tails[lo] = i;
  });
  const members = new Set<number>();
  for (let i = tails.at(-1) ?? -1; i >= 0; i = parent[i]!) members.add(values[i]!);
  return members;
};
