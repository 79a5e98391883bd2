import { z } from 'zod';
import { RegistryError } from '../domain/errors.ts';
import { parseInput } from '../domain/validation.ts';
import { MemoryEventStore } from './memory.ts';
import type { EventStore } from './port.ts';
import { SqliteOptionsSchema, sqliteUrlOptions } from './sqlite-options.ts';

export { DEFAULT_STORE, defaultStoreUrl } from './default-store.ts';

/** The file a `sqlite:` URL names (validated as `openStore` reads it), else undefined. */
export const sqliteFileOf = (url: string): string | undefined =>
  url.startsWith('sqlite:') ? sqliteUrlOptions(url).path : undefined;

/**
 * Opens the store a URL names:
 * - `memory:` in-process, lost on exit;
 * - `sqlite:<path>[?synchronous=full|normal][&pollIntervalMs=N]` one SQLite file (the
 *   default); pollIntervalMs is how soon other processes' appends reach this one's feed;
 * - `postgres://…` / `postgresql://…` PostgreSQL; `?schema=` (default procreg),
 *   `poolSize=`, `statementTimeoutMs=`, `connectTimeoutMs=` are procreg's, every other
 *   parameter (sslmode, host=/socket/dir, application_name …) goes to node-postgres;
 * - `esdb://…`, `esdb+discover://…`, `kurrentdb://…` EventStoreDB / KurrentDB.
 * Adapters are loaded on demand, so using one never loads another's native code.
 */
export const openStore = async (named: string): Promise<EventStore> => {
  const { url, journal } = splitJournal(named);
  if (url === 'memory:' || url === 'memory') return new MemoryEventStore({ journal });
  if (url.startsWith('sqlite:')) {
    const { path, options } = sqliteUrlOptions(url);
    const { openSqliteStore } = await import('./sqlite.ts');
    return openSqliteStore(path, { ...options, journal });
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const { connectionString, options } = parsePostgresUrl(url);
    const { openPostgresStore } = await import('./postgres.ts');
    return openPostgresStore(connectionString, { ...options, journal });
  }
  if (/^(esdb|esdb\+discover|kurrentdb|kurrentdb\+discover|kurrent|kdb):\/\//.test(url)) {
    const { openEventStoreDbStore } = await import('./eventstoredb.ts');
    return openEventStoreDbStore(url.replace(/^(kurrentdb|kurrent|kdb)/, 'esdb'), { journal });
  }
  throw new RegistryError(
    'invalid',
    `unknown store \`${url}\`; use memory:, sqlite:<path>, postgres://user@host:5432/db or esdb://host:2113?tls=false`,
  );
};

/**
 * Splits `journal=on|off` (the journal of refused commands, on by default) off any store
 * URL; any other value is `invalid`.
 */
export const splitJournal = (url: string): { url: string; journal: boolean } => {
  const query = url.indexOf('?');
  if (query < 0) return { url, journal: true };
  const params = new URLSearchParams(url.slice(query + 1));
  const value = params.get('journal');
  if (value === null) return { url, journal: true };
  if (value !== 'on' && value !== 'off') {
    throw new RegistryError(
      'invalid',
      `journal=${value} in store \`${url}\`; use journal=off to keep no journal of refused commands (on by default)`,
    );
  }
  params.delete('journal');
  const rest = params.toString();
  return { url: url.slice(0, query) + (rest ? `?${rest}` : ''), journal: value === 'on' };
};

/**
 * Splits `readModels=sqlite:<path>` off an EventStoreDB URL: where that store's read
 * models persist (else they live in memory and are folded from the log at every open).
 */
export const splitReadModels = (url: string): { url: string; readModels?: string } => {
  const query = url.indexOf('?');
  if (query < 0) return { url };
  const params = new URLSearchParams(url.slice(query + 1));
  const models = params.get('readModels');
  if (models === null) return { url };
  params.delete('readModels');
  const rest = params.toString();
  const base = url.slice(0, query);
  const path = models.startsWith('sqlite:') ? models.slice('sqlite:'.length) : '';
  if (!/^(esdb|kurrent|kdb|postgres)/.test(url) || path.trim() === '') {
    throw new RegistryError(
      'invalid',
      `readModels=${models} in store \`${url}\`; it is an EventStoreDB and PostgreSQL option and names a file: readModels=sqlite:./procreg-models.db`,
    );
  }
  return { url: rest ? `${base}?${rest}` : base, readModels: path };
};

/** The journal of refused commands: on unless 'off' (`journal=off` in a URL). */
const JournalOption = z.enum(['on', 'off']).optional();

/** A store named by its parts instead of a URL (`openRegistry({ kind: 'sqlite', path })`). */
export const StoreOptionsSchema = z.union([
  z.strictObject({ url: z.string() }),
  z.strictObject({ kind: z.literal('memory'), journal: JournalOption }),
  z.strictObject({
    kind: z.literal('sqlite'),
    path: z.string().refine((p) => p.trim() !== '', 'must name a file'),
    ...SqliteOptionsSchema.pick({ synchronous: true, pollIntervalMs: true }).shape,
    journal: JournalOption,
  }),
  z.strictObject({
    kind: z.literal('esdb'),
    connectionString: z.string(),
    /** a SQLite file for its read models (`readModels=` in a URL) */
    readModels: z.string().optional(),
    journal: JournalOption,
  }),
  z.strictObject({
    kind: z.literal('postgres'),
    connectionString: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
    schema: z.string().optional(),
    poolSize: z.number().int().min(1).max(1000).optional(),
    statementTimeoutMs: z.number().int().min(1).optional(),
    connectTimeoutMs: z.number().int().min(1).optional(),
    /** a SQLite file for its read models (`readModels=` in a URL) */
    readModels: z.string().optional(),
    journal: JournalOption,
  }),
]);
export type StoreOptions = z.input<typeof StoreOptionsSchema>;

export const openStoreFrom = async (options: StoreOptions): Promise<EventStore> => {
  const parsed = parseInput(StoreOptionsSchema, options, 'store options');
  if ('url' in parsed) return openStore(parsed.url);
  switch (parsed.kind) {
    case 'memory':
      return new MemoryEventStore({ journal: parsed.journal !== 'off' });
    case 'sqlite': {
      const { openSqliteStore } = await import('./sqlite.ts');
      return openSqliteStore(parsed.path, {
        journal: parsed.journal !== 'off',
        synchronous: parsed.synchronous,
        ...(parsed.pollIntervalMs !== undefined ? { pollIntervalMs: parsed.pollIntervalMs } : {}),
      });
    }
    case 'esdb': {
      const { openEventStoreDbStore } = await import('./eventstoredb.ts');
      const { url, journal: inUrl } = splitJournal(parsed.connectionString);
      const journal = parsed.journal === undefined ? inUrl : parsed.journal === 'on';
      return openEventStoreDbStore(url, { journal });
    }
    case 'postgres': {
      // readModels is the registry's (openRegistry takes it off before opening the store)
      const { kind: _, connectionString: named, readModels: __, journal, ...explicit } = parsed;
      // journal= in the connection string is procreg's too; the explicit option wins
      const { url, journal: inUrl } = splitJournal(named);
      const { connectionString, options } = parsePostgresUrl(url);
      const { openPostgresStore } = await import('./postgres.ts');
      return openPostgresStore(connectionString, {
        ...options,
        ...explicit,
        journal: journal === undefined ? inUrl : journal === 'on',
      });
    }
  }
};

const postgresParams = ['schema', 'poolSize', 'statementTimeoutMs', 'connectTimeoutMs'] as const;

/**
 * Splits procreg's own parameters off a PostgreSQL URL; the rest of the URL, untouched
 * but for their removal, is what node-postgres gets.
 */
export const parsePostgresUrl = (
  url: string,
): {
  connectionString: string;
  options: {
    schema?: string;
    poolSize?: number;
    statementTimeoutMs?: number;
    connectTimeoutMs?: number;
  };
} => {
  const at = url.indexOf('?');
  if (at < 0) return { connectionString: url, options: {} };
  const params = new URLSearchParams(url.slice(at + 1));
  if (params.has('readModels')) {
    throw new RegistryError(
      'invalid',
      'readModels= in a PostgreSQL URL is for openRegistry (the registry keeps that file), not for the store alone',
    );
  }
  const options: Record<string, string | number> = {};
  for (const key of postgresParams) {
    const value = params.get(key);
    if (value === null) continue;
    params.delete(key);
    if (key === 'schema') {
      options.schema = value;
      continue;
    }
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) {
      throw new RegistryError(
        'invalid',
        `${key}=${value} in a PostgreSQL store URL; use a whole number of at least 1`,
      );
    }
    options[key] = n;
  }
  const rest = params.toString();
  return { connectionString: url.slice(0, at) + (rest ? `?${rest}` : ''), options };
};
