import Database from 'better-sqlite3';
import { RegistryError } from '../domain/errors.ts';

/** What the store was doing when SQLite failed; appends get advice about retrying. */
export type SqliteOperation = 'open' | 'read' | 'append';

/** The SQLite result code (`SQLITE_BUSY`, `SQLITE_CONSTRAINT_UNIQUE` ...) of a SQLite error. */
export const sqliteCode = (error: unknown): string | undefined =>
  error instanceof Database.SqliteError ? error.code : undefined;

/**
 * Turns a SQLite failure into a `RegistryError` whose message says what to do. Anything
 * that is not a SQLite error (a bug, a caller error already translated) is returned as is.
 *
 * Every SQLite failure is `unavailable` (the store cannot be used right now) except a file
 * that is not a SQLite database at all, which is `invalid`: retrying cannot help.
 */
export const sqliteFailure = (
  error: unknown,
  path: string,
  operation: SqliteOperation,
  busyTimeoutMs: number,
): unknown => {
  if (!(error instanceof Database.SqliteError)) return error;
  const sqlite = `(SQLite: ${error.code}, ${error.message})`;
  // A failed transaction is rolled back, but an I/O error while committing can leave the
  // commit record on disk; either way the retry below is answered correctly.
  const retry =
    operation === 'append'
      ? '; retrying with the same event ids and expected revision is safe (an append that did land is not stored twice)'
      : '';
  const unavailable = (what: string, advice: string) =>
    new RegistryError('unavailable', `${what} ${sqlite}; ${advice}${retry}`, { cause: error });
  const code = error.code;
  if (code === 'SQLITE_NOTADB') {
    return new RegistryError(
      'invalid',
      `${path} is not a SQLite database ${sqlite}; point the store at a new file or at a procreg database`,
      { cause: error },
    );
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return unavailable(
      `the SQLite store ${path} stayed locked by another connection for more than ${busyTimeoutMs} ms`,
      'retry later, find the process holding a long transaction on it, or raise busyTimeoutMs',
    );
  }
  if (code.startsWith('SQLITE_FULL')) {
    return unavailable(
      `the disk holding the SQLite store ${path} is full (or a file size limit was reached)`,
      'free space, then retry',
    );
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return unavailable(
      `the SQLite store ${path} is read-only (file or directory permissions, a read-only mount, or a file replaced while open)`,
      'make the file and its directory writable, then reopen the store',
    );
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PERM')) {
    return unavailable(
      `cannot open the SQLite store ${path}`,
      'check that the path names a file in an existing directory this process may write to',
    );
  }
  if (code.startsWith('SQLITE_IOERR')) {
    return unavailable(`I/O error on the SQLite store ${path}`, 'check the disk, then retry');
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return unavailable(
      `the SQLite store ${path} is damaged`,
      'run `PRAGMA integrity_check` on it and restore it from a backup',
    );
  }
  return unavailable(`the SQLite store ${path} failed`, 'retry, and report it if it persists');
};
