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
  private positions: Position[] = [];
  private digests: string[] = [];

  record(position: Position, digest: string): void {
    const at = this.firstAfter(position - 1n);
    if (this.positions[at] === position) {
      this.digests[at] = digest;
    } else if (at === this.positions.length) {
      this.positions.push(position);
      this.digests.push(digest);
    } else {
      this.positions.splice(at, 0, position);
      this.digests.splice(at, 0, digest);
    }
  }

  between(after: Position, upTo: Position): { position: Position; digest: string }[] {
    const rows: { position: Position; digest: string }[] = [];
    for (let i = this.firstAfter(after); i < this.positions.length; i++) {
      const position = this.positions[i]!;
      if (position > upTo) break;
      rows.push({ position, digest: this.digests[i]! });
    }
    return rows;
  }

  /** A rebuild starts the index again. */
  clear(): void {
    this.positions = [];
    this.digests = [];
  }

  /** The index of the first recorded position after `after`. */
  private firstAfter(after: Position): number {
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
