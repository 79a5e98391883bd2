import { z } from 'zod';
import { RegistryError } from '../domain/errors.ts';
import { parseInput } from '../domain/validation.ts';

/**
 * The SQLite store's options, declared once: `openSqliteStore` parses what it is given
 * with this schema, and a `sqlite:<path>?…` URL's query is turned into the same object
 * first (`sqliteUrlOptions`), so both ways of opening a store accept and refuse the same.
 */
export const SqliteOptionsSchema = z.strictObject({
  /** `full` (default): an acknowledged append survives power loss. `normal`: a process crash only. */
  synchronous: z.enum(['full', 'normal']).default('full'),
  /** How long to wait for another connection's write lock before failing `unavailable`. */
  busyTimeoutMs: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(5_000),
  /**
   * How often subscriptions read the log's head for other processes' appends. By default
   * 30 ms where the file cannot be watched, and 1 s (a safety net) where it can: there other
   * processes' commits wake subscriptions at once (see sqlite-wake.ts). When given, it is
   * used either way.
   */
  pollIntervalMs: z
    .number()
    .int()
    .min(1)
    .max(2 ** 31 - 1)
    .optional(),
  /** Watch the file for other processes' commits (default true); false polls only. */
  watchFile: z.boolean().optional(),
  /**
   * Events per transaction when the read models catch up with the log or are rebuilt
   * (default CATCH_UP_CHUNK); not a URL option: tests make chunks small to cross them often.
   */
  catchUpChunk: z.number().int().min(1).optional(),
  /** Keep the journal of refused commands (default true; `journal=off` in a URL). */
  journal: z.boolean().optional(),
});
export type SqliteStoreOptions = z.input<typeof SqliteOptionsSchema>;
export type SqliteSettings = z.output<typeof SqliteOptionsSchema>;

/** The options a store URL may carry; the rest are the library's. */
const urlOptions = ['synchronous', 'pollIntervalMs'] as const;

/** `sqlite:<path>[?synchronous=full|normal][&pollIntervalMs=N]` → the path and its options. */
export const sqliteUrlOptions = (url: string): { path: string; options: SqliteStoreOptions } => {
  const rest = url.slice('sqlite:'.length);
  const [rawPath = '', query = ''] = rest.split('?', 2);
  const path = rawPath.startsWith('//') ? rawPath.slice(2) : rawPath;
  if (path.trim() === '') {
    throw new RegistryError('invalid', `store \`${url}\` names no file; use sqlite:./procreg.db`);
  }
  const options: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(query)) {
    if (!(urlOptions as readonly string[]).includes(key)) {
      throw new RegistryError(
        'invalid',
        `unknown option \`${key}\` in store \`${url}\`; the options are synchronous=full|normal and pollIntervalMs=<ms>`,
      );
    }
    options[key] = key === 'pollIntervalMs' ? Number(value) : value;
  }
  const parsed = parseInput(
    SqliteOptionsSchema.pick({ synchronous: true, pollIntervalMs: true }),
    options,
    `options of store \`${url}\` (synchronous=full survives power loss, normal process crashes; pollIntervalMs a positive whole number of milliseconds)`,
  );
  return { path, options: parsed };
};
