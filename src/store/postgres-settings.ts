import pg from 'pg';
import { RegistryError } from '../domain/errors.ts';
import type { ReconnectPolicy } from './postgres-feed.ts';
import { SCHEMA_NAME } from './postgres-schema.ts';

export interface PostgresStoreOptions {
  /** the PostgreSQL schema holding this registry's tables (default `procreg`) */
  schema?: string;
  /** most connections this store opens for appends and reads (default 10), plus one LISTEN connection */
  poolSize?: number;
  /** server-side bound on every statement (default 30 000 ms) */
  statementTimeoutMs?: number;
  /** bound on opening a connection (default 10 000 ms) */
  connectTimeoutMs?: number;
  /** how often followers read the log even without a NOTIFY (default 2 000 ms) */
  safetyPollMs?: number;
  /** how the LISTEN connection is re-established after it dropped */
  reconnect?: Partial<ReconnectPolicy>;
  /** keep the journal of refused commands (default true; `journal=off` in a URL) */
  journal?: boolean;
}

const defaults = {
  schema: 'procreg',
  poolSize: 10,
  statementTimeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  safetyPollMs: 2_000,
  journal: true,
  reconnect: { maxAttempts: 20, initialDelayMs: 100, maxDelayMs: 2_000 },
};

/** appends per group commit; more wait for the next one */
export const MAX_BATCH = 500;

export type PostgresSettings = typeof defaults;

const wholeMs = (name: string, value: number, max = 2 ** 31 - 1): void => {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new RegistryError(
      'invalid',
      `${name} must be a whole number from 1 to ${max}, not ${value}`,
    );
  }
};

/** Checks the options against what PostgreSQL and the pool accept; bad ones are `invalid`. */
export const postgresSettings = (options: PostgresStoreOptions): PostgresSettings => {
  const settings = {
    ...defaults,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
    reconnect: { ...defaults.reconnect, ...options.reconnect },
  } as PostgresSettings;
  if (!SCHEMA_NAME.test(settings.schema)) {
    throw new RegistryError(
      'invalid',
      `schema \`${settings.schema}\` is not a plain lower-case name (letters, digits, _; at most 48 characters)`,
    );
  }
  wholeMs('poolSize', settings.poolSize, 1000);
  wholeMs('statementTimeoutMs', settings.statementTimeoutMs);
  wholeMs('connectTimeoutMs', settings.connectTimeoutMs);
  wholeMs('safetyPollMs', settings.safetyPollMs);
  return settings;
};

/** `host:port/database` of a connection string; credentials never reach a message. */
export const describeServer = (connectionString: string): string => {
  const { host, port, database } = new pg.Client({ connectionString });
  return `${host || 'localhost'}:${port || 5432}/${database ?? ''}`;
};
