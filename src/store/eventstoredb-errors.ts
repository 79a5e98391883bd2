import { ErrorType, isCommandError } from '@eventstore/db-client';
import { RegistryError } from '../domain/errors.ts';

/**
 * The hosts of a connection string, for messages: `esdb://user:pw@a:2113,b:2113?tls=true`
 * gives `a:2113,b:2113`. Credentials never reach a message.
 */
export const describeHosts = (connectionString: string): string => {
  const withoutScheme = connectionString.trim().replace(/^[a-z+]+:\/\//i, '');
  const hosts = withoutScheme.split(/[?/]/, 1)[0] ?? '';
  const at = hosts.lastIndexOf('@');
  return (at >= 0 ? hosts.slice(at + 1) : hosts) || 'localhost:2113';
};

/**
 * Client errors a retry can cure: the node is down or unreachable, restarting, not the
 * leader (the client reconnects to the leader it names), or too slow to answer in time.
 * `unknown` is in: a connection torn mid-call surfaces as whatever HTTP/2 reported
 * (RST_STREAM, "Stream removed", ...), which the client files as unknown.
 */
const transientTypes: ReadonlySet<string> = new Set([
  ErrorType.UNAVAILABLE,
  ErrorType.DEADLINE_EXCEEDED,
  ErrorType.TIMEOUT,
  ErrorType.NOT_LEADER,
  ErrorType.CANCELLED,
  ErrorType.UNKNOWN,
]);

const commandErrorType = (error: unknown): string | undefined =>
  error instanceof Error && isCommandError(error) ? error.type : undefined;

/**
 * Errors the client did not classify (its "Failed to discover after N attempts", socket
 * errors) count as transient too; retries are bounded, so a misjudged one costs a delay.
 * Our own errors (an event the registry cannot read) are not.
 */
export const isTransient = (error: unknown): boolean => {
  if (error instanceof RegistryError) return false;
  const type = commandErrorType(error);
  return type === undefined ? error instanceof Error : transientTypes.has(type);
};

const reason = (error: unknown): string => {
  const type = commandErrorType(error);
  const message = error instanceof Error ? error.message : String(error);
  return type === undefined ? message : `${type}: ${message}`;
};

/**
 * Every failure to reach or use the server becomes `RegistryError('unavailable')`, naming
 * the host, the operation and what to do about it.
 */
export const unavailable = (host: string, doing: string, error: unknown): RegistryError => {
  if (error instanceof RegistryError) return error;
  const type = commandErrorType(error);
  const advice =
    type === ErrorType.ACCESS_DENIED
      ? 'check the credentials in the connection string and the user’s access to the streams and $all'
      : type === ErrorType.NOT_LEADER
        ? 'the node is not the leader; retry (the client reconnects to the leader) or use nodePreference=leader'
        : isTransient(error)
          ? 'check that the server is running and reachable from here and that the connection string (host, port, tls) is right, then retry'
          : 'see the cause; the server rejected the request';
  return new RegistryError(
    'unavailable',
    `EventStoreDB at ${host} failed while ${doing} (${reason(error)}); ${advice}`,
    { cause: error },
  );
};
