import { closeSync, constants, type FSWatcher, openSync, watch, writeSync } from 'node:fs';

/** What a feed holds while it listens for other connections' commits. */
export interface WakeWatch {
  close(): void;
}

const BELL_BYTE = new Uint8Array([1]);

/**
 * Cross-process wake-ups for one SQLite file, so that other OS processes learn of an append
 * at once instead of at their next poll of the log's head.
 *
 * - The **bell** `<db>-wake`: after each commit (once it is visible to readers) a store
 *   writes one byte into it. A WAL commit's frames reach the `-wal` file *before* the commit
 *   is published in the shared-memory index, so a reader woken by the WAL alone may look too
 *   early and see nothing; the bell rings after, so one read of the head is enough.
 * - The **WAL** `<db>-wal`: also watched, so writers that do not ring (another program on
 *   the same file) still wake readers, at best effort.
 *
 * Both are watched with `fs.watch` (inotify on Linux): no CPU is spent while nothing is
 * written. Everything here is best effort; the feed keeps polling as a safety net.
 */
export class SqliteWake {
  private bell: number | undefined;

  constructor(private readonly path: string) {
    try {
      // read-write, created when missing, never truncated: its content means nothing
      this.bell = openSync(`${path}-wake`, constants.O_RDWR | constants.O_CREAT, 0o644);
    } catch {
      this.bell = undefined;
    }
  }

  /** Tells the file's watchers that a commit is visible. */
  ring(): void {
    if (this.bell === undefined) return;
    try {
      writeSync(this.bell, BELL_BYTE, 0, 1, 0);
    } catch {
      // a lost ring costs one safety-net poll interval, never correctness
    }
  }

  /**
   * Calls `onChange` (possibly several times per commit, possibly for this store's own
   * commits) until closed; `onFailure` when watching stops working. Undefined when the file
   * cannot be watched at all.
   */
  watch(onChange: () => void, onFailure: () => void): WakeWatch | undefined {
    if (this.bell === undefined) return undefined;
    const watchers: FSWatcher[] = [];
    const close = () => {
      for (const watcher of watchers.splice(0)) watcher.close();
    };
    try {
      const bell = watch(`${this.path}-wake`, { persistent: false }, onChange);
      bell.on('error', () => {
        close();
        onFailure();
      });
      watchers.push(bell);
    } catch {
      return undefined;
    }
    try {
      const wal = watch(`${this.path}-wal`, { persistent: false }, onChange);
      wal.on('error', () => wal.close());
      watchers.push(wal);
    } catch {
      // no WAL to watch (yet): the bell still covers every procreg writer
    }
    return { close };
  }

  close(): void {
    if (this.bell === undefined) return;
    try {
      closeSync(this.bell);
    } catch {
      // already gone
    }
    this.bell = undefined;
  }
}
