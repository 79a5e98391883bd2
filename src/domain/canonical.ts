import { hash } from 'node:crypto';
import type { Json } from './json.ts';

/**
 * Canonical JSON: object keys sorted by code unit, no whitespace, members whose value is
 * `undefined` left out (as JSON.stringify does). Equal values always give equal text, so
 * their hashes can be compared across processes, machines and versions.
 *
 * A value that is `writtenInOrder` (procreg builds its events so) is written by
 * JSON.stringify, natively and as one flat string: for such plain JSON the two texts are
 * the same. Any other object or array is written member by member, and each member again
 * by this rule, so only the parts out of order, and the objects holding them, are.
 */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (writtenInOrder(value)) return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (i > 0) out += ',';
      out += item === undefined ? 'null' : canonicalJson(item);
    }
    return `${out}]`;
  }
  return objectText(value as Record<string, unknown>, undefined, canonicalJson);
};

/**
 * Whether JSON.stringify writes `value` as canonical JSON: it is a string, number, boolean,
 * null or undefined, or a plain array or object (no `toJSON`) whose keys are in code unit
 * order and whose members all are such values. Stops at the first that is not. Keys are
 * read with for…in, which allocates nothing: for a plain object it gives the own keys first,
 * in the order Object.keys does, then any inherited enumerable ones (only a polluted
 * Object.prototype has those, and JSON.stringify leaves them out), so every own key is
 * checked and an extra one can only make the answer false.
 */
const writtenInOrder = (value: unknown): boolean => {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'undefined':
      return true;
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return false;
    for (let i = 0; i < value.length; i++) if (!writtenInOrder(value[i])) return false;
    return true;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return false;
  let previous: string | undefined;
  for (const key in value) {
    if (previous !== undefined && !(previous < key)) return false;
    previous = key;
    if (!writtenInOrder((value as Record<string, unknown>)[key])) return false;
  }
  return true;
};

/**
 * An object's canonical JSON, leaving out the member named `omit` (the integrity hash
 * leaves out the hash itself this way, without copying the metadata). Keys in UTF-16 code
 * unit order (the default sort), sorted only when they are not already.
 */
export const canonicalObject = (value: Record<string, unknown>, omit?: string): string =>
  objectText(value, omit, canonicalJson);

/** An object's members in key order, each value written by `json`, `omit`'s left out. */
const objectText = (
  value: Record<string, unknown>,
  omit: string | undefined,
  json: (member: unknown) => string,
): string => {
  let out = '{';
  let first = true;
  for (const key of sortedKeys(value)) {
    const member = value[key];
    if (member === undefined || key === omit) continue;
    if (!first) out += ',';
    first = false;
    out += quoted(key);
    out += ':';
    out += json(member);
  }
  return `${out}}`;
};

/**
 * An object's canonical JSON members in two runs: those whose keys sort before `key` and
 * those after it (`key`'s own left out), each comma-joined without braces. `{before,after}`
 * is the canonical JSON without `key`, and a member for `key` goes between them: one
 * canonicalisation gives both forms.
 */
export const canonicalMembersAround = (
  value: Record<string, unknown>,
  key: string,
): { before: string; after: string } => {
  let before = '';
  let after = '';
  for (const k of sortedKeys(value)) {
    const member = value[k];
    if (member === undefined || k === key) continue;
    const text = `${quoted(k)}:${canonicalJson(member)}`;
    if (k < key) before = before === '' ? text : `${before},${text}`;
    else after = after === '' ? text : `${after},${text}`;
  }
  return { before, after };
};

/** An object's keys in UTF-16 code unit order (the default sort), sorted only when they are not already. */
export const sortedKeys = (value: Record<string, unknown>): string[] => {
  const keys = Object.keys(value);
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) return keys.sort();
  }
  return keys;
};

/** Keys repeat from event to event: their JSON is kept (a bounded number of them). */
const quotedKeys = new Map<string, string>();
const quoted = (key: string): string => {
  let text = quotedKeys.get(key);
  if (text === undefined) {
    text = JSON.stringify(key);
    if (quotedKeys.size < 10_000) quotedKeys.set(key, text);
  }
  return text;
};

export const sha256Hex = (text: string): string => hash('sha256', text, 'hex');

/** SHA-256 hex of the canonical JSON of a value. */
export const hashJson = (value: unknown): string => sha256Hex(canonicalJson(value));

/** "String of" a value (SPEC): a string as-is, anything else its JSON. */
export const stringOf = (value: Json): string =>
  typeof value === 'string' ? value : canonicalJson(value);
