/**
 * Code-unit order: stable across locales and machines (SQL collations sort bytes). Every
 * listing the registry returns sorts ids this way.
 */
export const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
