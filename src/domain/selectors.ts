import { stringOf } from './canonical.ts';
import { RegistryError } from './errors.ts';
import type { Json } from './json.ts';
import type { Selector } from './schemas.ts';

/**
 * Resolves an RFC 6901 JSON pointer. `undefined` means "does not resolve"; a pointer never
 * walks into inherited properties, and array indexes must be canonical ("0", "12", not
 * "01" or "-").
 */
export const resolvePointer = (document: Json, pointer: string): Json | undefined => {
  if (pointer === '') return document;
  let current: Json | undefined = document;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(current)) {
      if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
      current = current[Number(token)];
    } else if (current !== null && typeof current === 'object') {
      current = Object.hasOwn(current, token) ? current[token] : undefined;
    } else {
      return undefined;
    }
    if (current === undefined) return undefined;
  }
  return current;
};

/** Truthy (SPEC): not null, not false, not "", not [] or {}; every number is truthy. */
export const isTruthy = (value: Json): boolean => {
  if (value === null || value === false || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
};

/**
 * Reads a value out of a payload. Throws `invalid` when a `pointer` selector (directly or
 * inside a template) does not resolve: the caller's event does not carry what its own
 * declared semantics promise.
 */
export const selectValue = (selector: Selector, payload: Json, processId: string): Json => {
  switch (selector.kind) {
    case 'payload':
      return payload;
    case 'const':
      return selector.value;
    case 'present':
      return resolvePointer(payload, selector.pointer) !== undefined;
    case 'pointer': {
      const value = resolvePointer(payload, selector.pointer);
      if (value === undefined) {
        throw new RegistryError(
          'invalid',
          `payload pointer \`${selector.pointer}\` did not match the event payload of process \`${processId}\`; include that field or change the event type's semantics`,
        );
      }
      return value;
    }
    case 'template':
      return selector.template.replace(/\{([^{}]*)\}/g, (whole, name: string) => {
        const field = selector.fields[name];
        return field ? stringOf(selectValue(field, payload, processId)) : whole;
      });
  }
};
