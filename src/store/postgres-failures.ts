import { RegistryError } from '../domain/errors.ts';

/** What the store was doing when PostgreSQL failed; appends get advice about retrying. */
export type PostgresOperation = 'connecting' | 'reading' | 'appending' | 'listening';

interface PgLikeError {
  code?: string;
  message: string;
}

/** A server error (it has a SQLSTATE), a socket error (a node code), or a node-postgres one. */
const isPgError = (error: unknown): error is Error & PgLikeError =>
  error instanceof Error &&
  !(error instanceof RegistryError) &&
  (typeof (error as PgLikeError).code === 'string' || connectionMessage.test(error.message));

const connectionMessage =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended|not queryable|Query read timeout/i;

/** Socket-level codes (node) and SQLSTATE classes that mean "the server is not reachable now". */
const connectionCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ENOENT', // a unix socket that does not exist (server not running)
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, recovering)
]);

/**
 * True for failures a later attempt may not meet: the server is down, restarting or
 * unreachable, the connection was cut, or connecting took too long. node-postgres reports
 * some of these only by message (a connection ended mid-query, a pool connect timeout).
 */
export const isConnectionFailure = (error: unknown): boolean => {
  if (!isPgError(error)) return false;
  const code = error.code ?? '';
  if (connectionCodes.has(code) || code.startsWith('08')) return true;
  return connectionMessage.test(error.message);
};

/**
 * Turns a PostgreSQL or connection failure into `RegistryError('unavailable')` naming the
 * server, the operation and what to do (`invalid` for data the server refuses, which no
 * retry can cure). Anything else (our own `RegistryError`s, a bug)
 * is returned as it is.
 */
export const postgresFailure = (
  error: unknown,
  server: string,
  operation: PostgresOperation,
  statementTimeoutMs: number,
): unknown => {
  if (!isPgError(error)) return error;
  const { message, code } = error;
  const detail = code ? `${code}: ${message}` : message;
  const retry =
    operation === 'appending'
      ? '; retrying with the same event ids and expected revision is safe (an append that did land is not stored twice)'
      : '';
  const fail = (what: string, advice: string) =>
    new RegistryError('unavailable', `${what} (${detail}); ${advice}${retry}`, { cause: error });
  const at = `PostgreSQL at ${server}`;
  if (isConnectionFailure(error)) {
    return fail(
      `${at} is unreachable while ${operation}`,
      'check that the server is running and reachable from here and that the connection string (host, port, sslmode) is right, then retry',
    );
  }
  if (code?.startsWith('22')) {
    // a data exception: this request's values, not the server, are the problem
    return new RegistryError(
      'invalid',
      `${at} refused the data while ${operation} (${detail}); text sent to PostgreSQL cannot contain NUL characters`,
      { cause: error },
    );
  }
  if (code === '57014') {
    return fail(
      `${at} did not finish ${operation} within the statement timeout of ${statementTimeoutMs} ms`,
      'check for long-running transactions or locks on the procreg schema, or raise statementTimeoutMs',
    );
  }
  if (code === '28P01' || code === '28000') {
    return fail(`${at} refused the login`, 'check the user and password in the connection string');
  }
  if (code === '3D000') {
    return fail(`${at} has no such database`, 'create it, or name an existing one in the URL');
  }
  if (code === '42501') {
    return fail(
      `${at} denied procreg a privilege while ${operation}`,
      'grant the user USAGE and CREATE on the schema (and CREATE on the database for a new schema)',
    );
  }
  if (code === '53300' || code === '53400') {
    return fail(
      `${at} has no connection slot left`,
      'lower poolSize across your instances or raise max_connections',
    );
  }
  if (code?.startsWith('53')) {
    return fail(`${at} is out of resources while ${operation}`, 'free disk or memory, then retry');
  }
  return fail(`${at} failed while ${operation}`, 'retry, and report it if it persists');
};
