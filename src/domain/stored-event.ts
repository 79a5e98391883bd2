import type { Json } from './json.ts';

/**
 * Events as the store holds them, before and after decoding (codec.ts): the store port
 * (store/port.ts) re-exports these, and the domain needs them to encode and decode, so they
 * live here, below both.
 */

/** Revision of the last event in a stream; `-1` for a stream with no events. */
export type StreamRevision = number;

/** Total order over the global log. Start of the log is `0n` (before the first event). */
export type Position = bigint;

export interface NewEvent {
  /** UUID. Deterministic per command attempt so a retried append is deduplicated. */
  id: string;
  type: string;
  data: Json;
  metadata: Json;
}

export interface StoredEvent {
  id: string;
  stream: string;
  /** 0-based revision within the stream */
  revision: StreamRevision;
  position: Position;
  type: string;
  data: Json;
  metadata: Json;
}
