import { createHash } from 'node:crypto';
import type { Json } from './json.ts';

/**
 * Canonical JSON: object keys sorted by code unit, no whitespace, members whose value is
 * `undefined` left out (as JSON.stringify does). Equal values always give equal text, so
 * their hashes can be compared across processes, machines and versions.
 */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  }
  const entries = Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
};

export const sha256Hex = (text: string): string =>
  createHash('sha256').update(text, 'utf8').digest('hex');

/** SHA-256 hex of the canonical JSON of a value. */
export const hashJson = (value: unknown): string => sha256Hex(canonicalJson(value));

/** "String of" a value (SPEC): a string as-is, anything else its JSON. */
export const stringOf = (value: Json): string =>
  typeof value === 'string' ? value : canonicalJson(value);
