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
  /**
   * `data` and `metadata` as JSON text, when the writer serialized them already (procreg's
   * own events: canonical JSON, the text their hash was taken over). A store that keeps
   * text stores this as it is instead of serializing again.
   */
  text?: { data: string; metadata: string };
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

/**
 * An event as a SQL store keeps it: its JSON as the stored text, not yet parsed. Read this
 * way where parsing every payload would cost more than the reader needs (verifying hashes).
 */
export interface StoredEventText {
  id: string;
  stream: string;
  revision: StreamRevision;
  position: Position;
  type: string;
  /** JSON text */
  data: string;
  /** JSON text */
  metadata: string;
}
