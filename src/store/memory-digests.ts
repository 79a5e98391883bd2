import type { Position } from './port.ts';
import type { DigestIndex } from './read-model-tables.ts';

const BYTES = 32;

/**
 * The log digest after each process event of a memory store, by position (as SQLite's log
 * index keeps it), so verifying names the exact position where the log no longer holds the
 * event recorded there. Recorded in position order by the inline projection; a position
 * recorded again (never, but for a rebuild after `clear`) replaces its digest. Rows are
 * kept when a prune removes their events: they are its anchors.
 *
 * One row per event for the life of the store, so no row is an object: positions are a
 * packed array of numbers and digests one byte buffer (32 bytes each, the i-th row's at
 * 32·i), which the garbage collector neither copies nor traces (a hex string per event
 * would be copied out of the young generation with every append).
 */
export class MemoryDigests implements DigestIndex {
  /** as numbers: a memory log's positions are indexes into an array, far below 2^53 */
  private positions: number[] = [];
  private bytes = Buffer.alloc(BYTES * 1024);
  /**
   * digests that are not 64 hex digits (none that nextDigest makes), by position; 64 hex
   * digits read back in lowercase, nextDigest's form
   */
  private readonly others = new Map<number, string>();

  record(position: Position, digest: string): void {
    const at = Number(position);
    const { positions } = this;
    const last = positions.length - 1;
    let index: number;
    if (last === -1 || positions[last]! < at) {
      index = positions.length;
      positions.push(at);
      this.reserve(positions.length);
    } else {
      index = this.firstAfter(at - 1);
      if (positions[index] !== at) {
        positions.splice(index, 0, at);
        this.reserve(positions.length);
        this.bytes.copyWithin(BYTES * (index + 1), BYTES * index, BYTES * (positions.length - 1));
      }
    }
    // hex writing stops at the first character that is not a hex digit
    if (
      digest.length === 2 * BYTES &&
      this.bytes.write(digest, BYTES * index, BYTES, 'hex') === BYTES
    ) {
      if (this.others.size > 0) this.others.delete(at);
    } else {
      this.others.set(at, digest);
    }
  }

  between(after: Position, upTo: Position): { position: Position; digest: string }[] {
    const rows: { position: Position; digest: string }[] = [];
    const end = Number(upTo);
    for (let i = this.firstAfter(Number(after)); i < this.positions.length; i++) {
      const position = this.positions[i]!;
      if (position > end) break;
      const digest =
        this.others.get(position) ?? this.bytes.toString('hex', BYTES * i, BYTES * (i + 1));
      rows.push({ position: BigInt(position), digest });
    }
    return rows;
  }

  /** A rebuild starts the index again. */
  clear(): void {
    this.positions = [];
    this.bytes = Buffer.alloc(BYTES * 1024);
    this.others.clear();
  }

  /** Room for `rows` digests, doubling the buffer when it is full. */
  private reserve(rows: number): void {
    if (this.bytes.length >= BYTES * rows) return;
    const grown = Buffer.alloc(Math.max(this.bytes.length * 2, BYTES * rows));
    this.bytes.copy(grown);
    this.bytes = grown;
  }

  /** The index of the first recorded position after `after`. */
  private firstAfter(after: number): number {
    const { positions } = this;
    if (positions.length === 0 || positions.at(-1)! <= after) return positions.length;
    let lo = 0;
    let hi = positions.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (positions[mid]! <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
