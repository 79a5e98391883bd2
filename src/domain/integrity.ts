import { canonicalJson, canonicalMembersAround, canonicalObject, sha256Hex } from './canonical.ts';
import type { Json } from './json.ts';
import type { Position, StoredEventText, StreamRevision } from './stored-event.ts';

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
  const { data, metadata } = event;
  const meta =
    metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata)
      ? canonicalObject(metadata as Record<string, unknown>, 'hash')
      : canonicalJson(metadata);
  return sha256Hex(contentText(data === undefined ? undefined : canonicalJson(data), meta, event));
};

/**
 * The text an event's hash is taken over: the canonical JSON of { data, metadata without
 * hash, revision, stream, type }, written member by member in key order from the canonical
 * JSON of its data and metadata (no wrapper object, no copy of the metadata).
 */
const contentText = (
  data: string | undefined,
  metadata: string,
  { revision, stream, type }: { revision: StreamRevision; stream: string; type: string },
): string =>
  `{${data === undefined ? '' : `"data":${data},`}"metadata":${metadata},"revision":${JSON.stringify(revision)},"stream":${JSON.stringify(stream)},"type":${JSON.stringify(type)}}`;

/**
 * An event's hash and the JSON text to store it as, canonicalised once: the stored data is
 * the hashed data text, the stored metadata the hashed metadata with `hash` in its sorted
 * place. A log written this way verifies from its text (`contentHashOf`) without parsing it.
 * `metadata` holds no `hash` (or an undefined one). Content built with its keys in order
 * (as procreg builds its events) is written by JSON.stringify (canonical.ts).
 */
export const hashedText = (
  content: HashedContent & { metadata: Record<string, unknown> },
): { hash: string; data: string; metadata: string } => {
  const data = canonicalJson(content.data);
  const hashed = canonicalJson(content.metadata);
  const hash = sha256Hex(contentText(data, hashed, content));
  const member = `"hash":"${hash}"`;
  const flat = flatMembers(content.metadata);
  const metadata = flat
    ? withMember(hashed, member, flat.after)
    : aroundMember(content.metadata, member);
  return { hash, data, metadata };
};

/**
 * What hashedText needs of metadata whose members are all strings, numbers, booleans or
 * null (procreg's): the first key after `hash`, the member `hash` goes before in its
 * canonical JSON. Undefined for anything else (a nested value, a class instance), whose
 * text is written again around the member.
 */
const flatMembers = (
  metadata: Record<string, unknown>,
): { after: string | undefined } | undefined => {
  const prototype: unknown = Object.getPrototypeOf(metadata);
  if (prototype !== Object.prototype && prototype !== null) return undefined;
  if (typeof metadata.toJSON === 'function') return undefined;
  let after: string | undefined;
  for (const key of Object.keys(metadata)) {
    const value = metadata[key];
    if (value === undefined) continue;
    if (!isScalar(value)) return undefined;
    if (key > 'hash' && (after === undefined || key < after)) after = key;
  }
  return { after };
};

/**
 * `text`, the canonical JSON of scalar members, with `member` before the member whose key
 * is `after` (at the end when there is none). That member starts where `,"after":` (or
 * `{"after":` at the start) first occurs: a JSON string holds no unescaped quote, and no
 * value follows a comma.
 */
const withMember = (text: string, member: string, after: string | undefined): string => {
  if (after === undefined) return text === '{}' ? `{${member}}` : `${text.slice(0, -1)},${member}}`;
  const start = `{${JSON.stringify(after)}:`;
  if (text.startsWith(start)) return `{${member},${text.slice(1)}`;
  const at = text.indexOf(`,${start.slice(1)}`);
  return `${text.slice(0, at)},${member}${text.slice(at)}`;
};

const isScalar = (value: unknown): boolean =>
  value === null ||
  typeof value === 'string' ||
  typeof value === 'number' ||
  typeof value === 'boolean';

/** `member` put between the canonical members before and after `hash`, written again. */
const aroundMember = (metadata: Record<string, unknown>, member: string): string => {
  const { before, after } = canonicalMembersAround(metadata, 'hash');
  return `{${before === '' ? '' : `${before},`}${member}${after === '' ? '' : `,${after}`}}`;
};

/**
 * An event read as the store's text (a SQL store's row): its metadata parsed at once (the
 * chain fields are in it), its data only when asked for, since an intact event written in
 * canonical form is hashed from its text. Text that is not JSON reads as the string itself
 * (it then hashes to nothing the event claims).
 */
export class TextEvent implements HashedContent {
  readonly id: string;
  readonly stream: string;
  readonly revision: StreamRevision;
  readonly position: Position;
  readonly type: string;
  readonly metadata: unknown;
  readonly text: StoredEventText;
  private parsed: { data: unknown } | undefined;

  constructor(text: StoredEventText) {
    this.text = text;
    this.id = text.id;
    this.stream = text.stream;
    this.revision = text.revision;
    this.position = text.position;
    this.type = text.type;
    this.metadata = parsedOrText(text.metadata);
  }

  get data(): unknown {
    this.parsed ??= { data: parsedOrText(this.text.data) };
    return this.parsed.data;
  }
}

const parsedOrText = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
};

/**
 * The content hash of an event, given the hash its metadata claims: for a `TextEvent`
 * first over its stored text with the claimed `hash` member taken out, which is the hashed
 * text itself when procreg wrote it (`hashedText`); only when that does not give the claim
 * (another writer's key order, PostgreSQL's jsonb, a changed byte) over its canonical form.
 * Either way the result is `contentHash(event)`: text that hashes to the claim with the
 * claimed member taken out is, but for a collision, the very text that was hashed, so the
 * event is the one written (the member taken out is the top-level `hash`: the hashed text
 * has none there).
 */
export const contentHashOf = (event: HashedContent, claimed: string | undefined): string => {
  if (claimed !== undefined && event instanceof TextEvent) {
    const { text } = event;
    const member = `"hash":${JSON.stringify(claimed)}`;
    const at = text.metadata.indexOf(member);
    if (at > 0) {
      const end = at + member.length;
      const metadata =
        text.metadata[end] === ','
          ? text.metadata.slice(0, at) + text.metadata.slice(end + 1)
          : text.metadata[at - 1] === ','
            ? text.metadata.slice(0, at - 1) + text.metadata.slice(end)
            : undefined;
      if (metadata !== undefined && sha256Hex(contentText(text.data, metadata, event)) === claimed)
        return claimed;
    }
  }
  return contentHash(event);
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
