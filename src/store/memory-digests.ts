import type { Position } from './port.ts';
import type { DigestIndex } from './read-model-tables.ts';

/**
 * The log digest after each process event of a memory store, by position (as SQLite's log
 * index keeps it), so verifying names the exact position where the log no longer holds the
 * event recorded there. Recorded in position order by the inline projection; a position
 * recorded again (never, but for a rebuild after `clear`) replaces its digest. Rows are
 * kept when a prune removes their events: they are its anchors.
 */
export class MemoryDigests implements DigestIndex {
  /** as numbers: a memory log's positions are indexes into an array, far below 2^53 */
  private positions: number[] = [];
  private digests: string[] = [];

  record(position: Position, digest: string): void {
    const at = Number(position);
    const last = this.positions.length - 1;
    if (last === -1 || this.positions[last]! < at) {
      this.positions.push(at);
      this.digests.push(digest);
      return;
    }
    const index = this.firstAfter(at - 1);
    if (this.positions[index] === at) {
      this.digests[index] = digest;
    } else {
      this.positions.splice(index, 0, at);
      this.digests.splice(index, 0, digest);
    }
  }

  between(after: Position, upTo: Position): { position: Position; digest: string }[] {
    const rows: { position: Position; digest: string }[] = [];
    const end = Number(upTo);
    for (let i = this.firstAfter(Number(after)); i < this.positions.length; i++) {
      const position = this.positions[i]!;
      if (position > end) break;
      rows.push({ position: BigInt(position), digest: this.digests[i]! });
    }
    return rows;
  }

  /** A rebuild starts the index again. */
  clear(): void {
    this.positions = [];
    this.digests = [];
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
