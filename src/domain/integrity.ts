import { canonicalJson, canonicalObject, sha256Hex } from './canonical.ts';
import type { Json } from './json.ts';
import type { Position, StreamRevision } from './stored-event.ts';

/**
 * Tamper evidence, the hashes themselves (the check is integrity-check.ts):
 *
 * - every event procreg writes carries in its metadata `hash`, the SHA-256 of its canonical
 *   content ({ stream, revision, type, data, metadata without `hash` }), and `prevHash`, the
 *   hash of the event before it in its stream (`null` at revision 0). `prevHash` is inside
 *   the hashed metadata, so each event's hash covers its whole stream before it;
 * - the registry's digest is a hash chain over the log's process events in position order:
 *   `next = sha256(digest \n position \n JSON(stream) \n revision \n eventHash)` from
 *   `GENESIS_DIGEST`. A digest kept outside the store pins every event up to its position.
 *
 * Events written before this (no `hash`) still have a content hash: the same formula over
 * their metadata as stored, which is what the next chained event's `prevHash` names.
 */

/** The digest of a log with no process events. */
export const GENESIS_DIGEST = '0'.repeat(64);

/** A registry's digest: the chain over its log up to and including `position`. */
export interface LogDigest {
  digest: string;
  /** as `history` reports positions; `0n` for an empty log */
  position: Position;
}

/** What an event's hash covers. `metadata` may hold `hash` (left out) and `prevHash` (kept). */
export interface HashedContent {
  stream: string;
  revision: StreamRevision;
  type: string;
  data: Json | unknown;
  metadata: Json | unknown;
}

/** SHA-256 hex of an event's canonical content (its `hash` left out). */
export const contentHash = (event: HashedContent): string => {
  // the canonical JSON of { data, metadata without hash, revision, stream, type }, written
  // member by member in key order (no wrapper object, no copy of the metadata)
  const { data, metadata } = event;
  const meta =
    metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata)
      ? canonicalObject(metadata as Record<string, unknown>, 'hash')
      : canonicalJson(metadata);
  return sha256Hex(
    `{${data === undefined ? '' : `"data":${canonicalJson(data)},`}"metadata":${meta},"revision":${canonicalJson(event.revision)},"stream":${JSON.stringify(event.stream)},"type":${JSON.stringify(event.type)}}`,
  );
};

/** The chain fields an event's metadata claims, if any (an unchained event has neither). */
export const chainOf = (
  metadata: unknown,
): { hash: string; prevHash: string | null } | undefined => {
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata))
    return undefined;
  const { hash, prevHash } = metadata as Record<string, unknown>;
  if (typeof hash !== 'string') return undefined;
  return { hash, prevHash: typeof prevHash === 'string' ? prevHash : null };
};

/**
 * The hash the next event in the stream names as `prevHash`: the claimed hash of a chained
 * event (a changed event is reported once, as itself, not again as a break after it), the
 * content hash of an unchained one.
 */
export const linkHashOf = (event: HashedContent): string =>
  chainOf(event.metadata)?.hash ?? contentHash(event);

/** One step of the log digest. */
export const nextDigest = (
  digest: string,
  position: Position,
  stream: string,
  revision: StreamRevision,
  eventHash: string,
): string =>
  sha256Hex(`${digest}\n${position}\n${JSON.stringify(stream)}\n${revision}\n${eventHash}`);
