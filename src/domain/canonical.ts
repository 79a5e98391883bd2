import { hash } from 'node:crypto';
import type { Json } from './json.ts';

/**
 * Canonical JSON: object keys sorted by code unit, no whitespace, members whose value is
 * `undefined` left out (as JSON.stringify does). Equal values always give equal text, so
 * their hashes can be compared across processes, machines and versions.
 */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      out += `${i > 0 ? ',' : ''}${item === undefined ? 'null' : canonicalJson(item)}`;
    }
    return `${out}]`;
  }
  return canonicalObject(value as Record<string, unknown>);
};

/**
 * An object's canonical JSON, leaving out the member named `omit` (the integrity hash
 * leaves out the hash itself this way, without copying the metadata). The default sort
 * orders keys by UTF-16 code unit.
 */
export const canonicalObject = (value: Record<string, unknown>, omit?: string): string => {
  let out = '{';
  for (const key of Object.keys(value).sort()) {
    const member = value[key];
    if (member === undefined || key === omit) continue;
    out += `${out.length > 1 ? ',' : ''}${JSON.stringify(key)}:${canonicalJson(member)}`;
  }
  return `${out}}`;
};

export const sha256Hex = (text: string): string => hash('sha256', text, 'hex');

/** SHA-256 hex of the canonical JSON of a value. */
export const hashJson = (value: unknown): string => sha256Hex(canonicalJson(value));

/** "String of" a value (SPEC): a string as-is, anything else its JSON. */
export const stringOf = (value: Json): string =>
  typeof value === 'string' ? value : canonicalJson(value);
