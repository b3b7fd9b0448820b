/**
 * The one error class of the tailer. Messages name the path and the cause in words an admin
 * understands at 3 a.m. ("cannot read /var/log/fail2ban.log: permission denied (EACCES)").
 * `retryable` says whether resubscribing later (with the last checkpoint) can succeed without
 * someone fixing the configuration: permissions can be fixed by the next logrotate `create`,
 * a directory at the log path will not go away by itself.
 */

export interface TailErrorOptions {
  code: string;
  path: string;
  retryable: boolean;
  cause?: unknown;
}

export class TailError extends Error {
  readonly code: string;
  readonly path: string;
  readonly retryable: boolean;
  declare readonly cause?: unknown;

  constructor(message: string, opts: TailErrorOptions) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'TailError';
    this.code = opts.code;
    this.path = opts.path;
    this.retryable = opts.retryable;
  }
}

/** Our own code for "exists but is not a regular file" (FIFO, socket, device). */
export const NOT_REGULAR = 'ENOTFILE';

const REASONS: Readonly<Record<string, { text: string; retryable: boolean }>> = {
  ENOENT: { text: 'no such file or directory', retryable: true },
  EACCES: { text: 'permission denied', retryable: true },
  EPERM: { text: 'operation not permitted', retryable: true },
  EISDIR: { text: 'is a directory', retryable: false },
  ENOTDIR: { text: 'a component of the path is not a directory', retryable: false },
  ELOOP: { text: 'too many levels of symbolic links', retryable: false },
  ENAMETOOLONG: { text: 'file name too long', retryable: false },
  [NOT_REGULAR]: { text: 'not a regular file', retryable: false },
  EMFILE: { text: 'too many open files', retryable: true },
  ENFILE: { text: 'too many open files in the system', retryable: true },
  EIO: { text: 'I/O error', retryable: true },
};

/** The `code` of a Node fs error ('ENOENT'…), undefined for anything else. */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isNotFound(err: unknown): boolean {
  return errnoCode(err) === 'ENOENT';
}

/** Wraps a Node fs error (or our own code) into a TailError naming `path`. */
export function tailError(path: string, err: unknown, code = errnoCode(err)): TailError {
  if (err instanceof TailError) return err;
  const known = code !== undefined ? REASONS[code] : undefined;
  const text = known?.text ?? (err instanceof Error ? err.message : String(err));
  const finalCode = code ?? 'ETAIL';
  return new TailError(`cannot read ${path}: ${text} (${finalCode})`, {
    code: finalCode,
    path,
    retryable: known?.retryable ?? true,
    cause: err,
  });
}
