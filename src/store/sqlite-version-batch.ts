/** One version of a row: the value it held from `from` until `to` (undefined: still holds). */
export interface BatchedVersion<V> {
  value: V;
  from: number;
  to: number | undefined;
}

/**
 * The versions of one kind of row (records, grants, leases) that a batch (a catch-up
 * chunk, one transaction) begins, held in memory and inserted once when the batch ends,
 * each with the end it got within the batch: a version that begins and ends inside one
 * chunk costs one insert instead of an insert, a lookup and updates of the row and its
 * R*Tree spans. Versions that began before the batch are in the tables and are ended
 * there (`end` says when the key has no version of its own here).
 *
 * Invariant: per key at most one open version, and it began after every ended one.
 */
export class VersionBatch<V> {
  private readonly open = new Map<string, { value: V; from: number }>();
  private readonly ended: (BatchedVersion<V> & { key: string })[] = [];

  begin(key: string, value: V, at: number): void {
    this.open.set(key, { value, from: at });
  }

  /** Ends the key's version begun in this batch; false when it has none (it is in the tables). */
  end(key: string, at: number): boolean {
    const version = this.open.get(key);
    if (!version) return false;
    this.open.delete(key);
    this.ended.push({ key, value: version.value, from: version.from, to: at });
    return true;
  }

  /** Forgets the versions of the keys `which` picks (their process was pruned). */
  drop(which: (key: string) => boolean): void {
    for (const key of [...this.open.keys()]) if (which(key)) this.open.delete(key);
    const kept = this.ended.filter((version) => !which(version.key));
    this.ended.splice(0, this.ended.length, ...kept);
  }

  /** Every version the batch began, ended or still open, and forgets them. */
  take(): BatchedVersion<V>[] {
    const all: BatchedVersion<V>[] = this.ended.splice(0);
    for (const { value, from } of this.open.values()) all.push({ value, from, to: undefined });
    this.open.clear();
    return all;
  }
}
