/**
 * Freezes a value and everything it contains. What enters a read model is frozen, so the
 * objects queries hand out are immutable snapshots: a caller can never change a read model
 * (or another caller's result) by mutating what it got back.
 */
export const deepFreeze = <T>(value: T): T => {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
};
