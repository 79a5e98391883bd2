import { isRegistryError, type RegistryErrorCode } from '../domain/errors.ts';

/**
 * Exit codes. Stable: scripts branch on them, and `procreg help` prints this table.
 * Registry error codes map onto a few classes a script can act on (fix the call, the id
 * does not exist, the store is unreachable, someone else's state is in the way).
 */
export const exitCodes = {
  ok: 0,
  /** verify found differences; any failure without a more specific code */
  failure: 1,
  /** bad command line or bad input (`invalid`) */
  usage: 2,
  /** no such process (`not_found`) */
  notFound: 3,
  /** the store cannot be reached or opened (`unavailable`) */
  unavailable: 4,
  /** the store's state is in the way (`conflict`, e.g. import into a non-empty store) */
  conflict: 5,
} as const;

export const exitCodeTable: readonly (readonly [number, string])[] = [
  [exitCodes.ok, 'success (verify: no differences)'],
  [exitCodes.failure, 'verify found differences; any other failure'],
  [exitCodes.usage, 'bad command line or invalid input (code invalid)'],
  [exitCodes.notFound, 'no such process (code not_found)'],
  [exitCodes.unavailable, 'store missing, unreachable or unusable (code unavailable)'],
  [
    exitCodes.conflict,
    'store state in the way, e.g. import into a non-empty store (code conflict)',
  ],
];

const byRegistryCode: Partial<Record<RegistryErrorCode, number>> = {
  invalid: exitCodes.usage,
  not_found: exitCodes.notFound,
  unavailable: exitCodes.unavailable,
  conflict: exitCodes.conflict,
};

/**
 * A failure the CLI itself detects (bad arguments, a missing store file). Its message is
 * already the one line the user sees: what went wrong and what to do.
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = exitCodes.usage,
    readonly code: string = exitCode === exitCodes.usage ? 'usage' : 'failure',
  ) {
    super(message);
  }
}

export const usageError = (message: string): CliError => new CliError(message, exitCodes.usage);

export const notFoundError = (message: string): CliError =>
  new CliError(message, exitCodes.notFound, 'not_found');

/** What an error means to the user: exit code, stable code and one line of text. */
export interface ErrorReport {
  exitCode: number;
  code: string;
  message: string;
  /** only for errors nobody anticipated: the stack is shown with --debug */
  unexpected: boolean;
}

export const reportOf = (error: unknown): ErrorReport => {
  if (error instanceof CliError) {
    return {
      exitCode: error.exitCode,
      code: error.code,
      message: error.message,
      unexpected: false,
    };
  }
  if (isRegistryError(error)) {
    return {
      exitCode: byRegistryCode[error.code] ?? exitCodes.failure,
      code: error.code,
      message: error.message,
      unexpected: false,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    exitCode: exitCodes.failure,
    code: 'internal',
    message: `unexpected error: ${message}; rerun with --debug for the stack trace and report it`,
    unexpected: true,
  };
};

/** One line, whatever the message contains: the promise is "one line saying what went wrong". */
export const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ').trim();
