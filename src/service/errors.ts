import {
  errorCodes,
  isRegistryError,
  RegistryError,
  type RegistryErrorCode,
} from '../domain/errors.ts';

/**
 * Error codes on the wire: the registry's codes plus `unauthorized` (no token, a wrong
 * token, or a token that may not do this). Every error response is
 * `{ "error": { "code", "message" } }` with the registry's one-line message unchanged.
 */
export type WireErrorCode = RegistryErrorCode | 'unauthorized';

/**
 * HTTP status per code. Domain refusals that depend on current state (`conflict`,
 * `already_terminal`, `lease_held`, `lease_lost`, `not_granted`) are 409: the request was
 * well formed, the registry's state is in the way. `timeout` is 408 (the wait ran out),
 * `aborted` 499 (the client went away; nobody reads it), `unavailable` and `concurrency` 503
 * (try again later).
 */
export const statusOfCode: Readonly<Record<WireErrorCode, number>> = {
  invalid: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  already_terminal: 409,
  lease_held: 409,
  lease_lost: 409,
  not_granted: 409,
  timeout: 408,
  aborted: 499,
  unavailable: 503,
  concurrency: 503,
};

/** A refusal the service itself decides (auth, size, shape), carried like a registry error. */
export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  constructor(
    readonly code: WireErrorCode,
    message: string,
    readonly status: number = statusOfCode[code],
  ) {
    super(message);
  }
}

export interface WireError {
  code: WireErrorCode;
  message: string;
}

/** The response body and status for any error thrown while serving a request. */
export const wireErrorOf = (error: unknown): { status: number; body: { error: WireError } } => {
  if (error instanceof ServiceError) {
    return { status: error.status, body: { error: { code: error.code, message: error.message } } };
  }
  if (isRegistryError(error)) {
    return {
      status: statusOfCode[error.code],
      body: { error: { code: error.code, message: error.message } },
    };
  }
  return {
    status: 500,
    body: {
      error: {
        code: 'unavailable',
        message:
          'internal error in the procreg service; its log has the details (same correlation id)',
      },
    },
  };
};

const registryCodes = new Set<string>(errorCodes);

/**
 * The client side: a response's error body back into a `RegistryError` with the same code
 * and message. `unauthorized` has no registry code; it becomes `invalid` (fix the token,
 * then retry) with the service's message, which names the problem.
 */
export const registryErrorOf = (status: number, body: unknown, where: string): RegistryError => {
  const error =
    typeof body === 'object' && body !== null && 'error' in body
      ? (body as { error: Partial<WireError> }).error
      : undefined;
  const message =
    typeof error?.message === 'string'
      ? error.message
      : `the procreg service at ${where} answered HTTP ${status} without an error body`;
  const code = typeof error?.code === 'string' ? error.code : undefined;
  if (code !== undefined && registryCodes.has(code)) {
    return new RegistryError(code as RegistryErrorCode, message);
  }
  if (code === 'unauthorized') return new RegistryError('invalid', message);
  return new RegistryError(status >= 500 ? 'unavailable' : 'invalid', message);
};
