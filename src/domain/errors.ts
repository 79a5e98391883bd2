/**
 * The one error type the registry throws. `code` is stable and machine-readable;
 * `message` names the process (when there is one) and says what to do.
 */
export const errorCodes = [
  'invalid',
  'not_found',
  'conflict',
  'already_terminal',
  'lease_held',
  'lease_lost',
  'not_granted',
  'timeout',
  'aborted',
  'unavailable',
  'concurrency',
] as const;

export type RegistryErrorCode = (typeof errorCodes)[number];

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  readonly code: RegistryErrorCode;
  /**
   * The one process a refusal of a command over several processes concerns (a transfer's
   * ungranted id); absent when the command names a single process or none.
   */
  readonly processId: string | undefined;

  constructor(
    code: RegistryErrorCode,
    message: string,
    options?: { cause?: unknown; processId?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.processId = options?.processId;
  }
}

export const isRegistryError = (error: unknown, code?: RegistryErrorCode): error is RegistryError =>
  error instanceof RegistryError && (code === undefined || error.code === code);
