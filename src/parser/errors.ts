/** fail2ban-client printed something we cannot read: a version or format we do not know. */
export class ClientOutputError extends Error {
  readonly code = 'F2B_CLIENT_OUTPUT';
  /** The same command gives the same output: retrying does not help. */
  readonly retryable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClientOutputError';
  }
}
