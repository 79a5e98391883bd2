import { createHash } from 'node:crypto';

/**
 * A UUID (version 5 layout) derived from the command invocation, its attempt, the stream and
 * the event's index. Re-sending the same attempt after a lost reply carries the same ids, so
 * the store recognizes the duplicate; a new attempt (after re-deciding) gets new ids.
 */
export const eventIdFor = (
  commandId: string,
  attempt: number,
  stream: string,
  index: number,
): string => {
  const bytes = createHash('sha256')
    .update(`${commandId}\u0000${attempt}\u0000${stream}\u0000${index}`)
    .digest()
    .subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};
