/**
 * In-process exclusive sections per stream. Commands of one registry instance on one stream
 * run one after another, so an instance never conflicts with itself; commands on different
 * streams run concurrently (and share a group commit where the store has one).
 * Multi-stream commands take their locks in sorted order, so two of them cannot deadlock.
 */
export class StreamLocks {
  private readonly tails = new Map<string, Promise<void>>();

  async runExclusive<T>(keys: readonly string[], section: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const releases: (() => void)[] = [];
    try {
      for (const key of sorted) releases.push(await this.acquire(key));
      return await section();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  private async acquire(key: string): Promise<() => void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => current);
    this.tails.set(key, tail);
    await previous;
    return () => {
      release();
      // forget the key once nobody queues behind us, so the map does not grow without bound
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }
}
