/**
 * Expected failures of the hook engine's inputs, with a `code`. Backend trouble (a 403, a timeout) is not an
 * exception: it is an interaction error, returned as a value (HookFailure) because the caller must act on it.
 */
export type HookErrorCode = 'INVALID_APP' | 'INVALID_REST_CLIENT_CONFIG' | 'UNSAFE_HEADER_VALUE';

export class HookError extends Error {
  constructor(
    readonly code: HookErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HookError';
  }
}
