import type Database from 'better-sqlite3';
import {
  JOURNAL_KEEP_PER_PROCESS,
  type RefusedCommand,
  RefusedCommandSchema,
} from '../domain/refusal.ts';
import type { RefusalJournal } from './port.ts';
import { sqliteCode, sqliteFailure } from './sqlite-failures.ts';

/**
 * The SQLite store's journal of refused commands: a table of its own, apart from `events`
 * and the `rm_*` tables, so writing it changes no stream, position or read-model row. It
 * is created by the first refusal journaled (a read-only use of a file never adds it), and
 * a file without it simply has no refusals. Each process keeps its latest `keep` entries.
 */
const schema = `
  CREATE TABLE IF NOT EXISTS journal_refusals (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    process_id TEXT    NOT NULL,
    entry      TEXT    NOT NULL
  );
  CREATE INDEX IF NOT EXISTS journal_refusals_process ON journal_refusals (process_id, id);
`;

/** Refusals waiting for the next journal commit. */
interface Pending {
  entries: readonly RefusedCommand[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class SqliteJournal implements RefusalJournal {
  private created = false;
  private queue: Pending[] = [];
  /** the commit in progress: commits run one after another, so entries keep their order */
  private committing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Database.Database,
    private readonly settings: { path: string; busyTimeoutMs: number; keep?: number },
  ) {}

  /**
   * Group commit: refusals recorded while a commit is pending join it (one transaction, one
   * fsync), on the next turn of the event loop; each caller's promise settles with it.
   */
  record(entries: readonly RefusedCommand[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ entries, resolve, reject });
      if (this.queue.length > 1) return;
      setImmediate(() => {
        this.committing = this.committing.then(() => this.flush());
      });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    try {
      await this.commit(batch.flatMap((pending) => pending.entries));
      for (const pending of batch) pending.resolve();
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    }
  }

  private async commit(entries: readonly RefusedCommand[]): Promise<void> {
    const keep = this.settings.keep ?? JOURNAL_KEEP_PER_PROCESS;
    await this.write(() => {
      if (!this.created) this.db.exec(schema);
      this.created = true;
      const insert = this.db.prepare(
        'INSERT INTO journal_refusals (process_id, entry) VALUES (?, ?)',
      );
      const trim = this.db.prepare(
        `DELETE FROM journal_refusals WHERE process_id = ? AND id <= (
           SELECT id FROM journal_refusals WHERE process_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
      );
      this.db
        .transaction(() => {
          for (const entry of entries) insert.run(entry.processId, JSON.stringify(entry));
          for (const id of new Set(entries.map((e) => e.processId))) trim.run(id, id, keep);
        })
        .immediate();
    });
  }

  async read(processId: string): Promise<RefusedCommand[]> {
    try {
      if (!this.exists()) return [];
      const rows = this.db
        .prepare('SELECT entry FROM journal_refusals WHERE process_id = ? ORDER BY id')
        .pluck()
        .all(processId) as string[];
      return rows.map((row) => RefusedCommandSchema.parse(JSON.parse(row)));
    } catch (error) {
      throw sqliteFailure(error, this.settings.path, 'read', this.settings.busyTimeoutMs);
    }
  }

  async drop(processIds: readonly string[]): Promise<void> {
    if (processIds.length === 0 || !this.exists()) return;
    await this.write(() => {
      const remove = this.db.prepare('DELETE FROM journal_refusals WHERE process_id = ?');
      this.db
        .transaction(() => {
          for (const id of processIds) remove.run(id);
        })
        .immediate();
    });
  }

  private exists(): boolean {
    this.created ||=
      this.db
        .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'journal_refusals'")
        .get() !== undefined;
    return this.created;
  }

  /**
   * Takes the write lock without SQLite's busy handler (which would block the event loop
   * while another process writes) and waits for it off the event loop instead, up to the
   * store's busy timeout.
   */
  private async write(run: () => void): Promise<void> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      const timeout = this.db.pragma('busy_timeout', { simple: true });
      this.db.pragma('busy_timeout = 0');
      try {
        run();
        return;
      } catch (error) {
        const busy = sqliteCode(error)?.startsWith('SQLITE_BUSY') === true;
        if (!busy || Date.now() - started > this.settings.busyTimeoutMs) {
          throw sqliteFailure(error, this.settings.path, 'append', this.settings.busyTimeoutMs);
        }
      } finally {
        this.db.pragma(`busy_timeout = ${Number(timeout)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, 2 ** attempt)));
    }
  }
}
