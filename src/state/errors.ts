/** Errors of the durable state: each names the path and the errno, so the journal says what to fix. */
import { describeErrno } from '../util/errno.js';

/** Conditions a retry cannot fix without someone changing the system (permissions, read-only mount). */
const PERMANENT = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EISDIR', 'ELOOP', 'ENAMETOOLONG']);

abstract class StateIoError extends Error {
  abstract readonly code: string;
  readonly retryable: boolean;
  /** errno code of the failed call (ENOSPC, EROFS, …), when there was one. */
  readonly errno: string | undefined;

  constructor(
    message: string,
    readonly path: string,
    cause: unknown,
  ) {
    super(message, { cause });
    this.errno = (cause as NodeJS.ErrnoException | undefined)?.code;
    this.retryable = this.errno === undefined || !PERMANENT.has(this.errno);
  }
}

export type WriteStep = 'open' | 'write' | 'fsync' | 'close' | 'rename' | 'fsync-dir';

export class StateWriteError extends StateIoError {
  readonly code = 'STATE_WRITE_FAILED';
  constructor(
    path: string,
    readonly step: WriteStep,
    cause: unknown,
  ) {
    super(`cannot write ${path} (${step}): ${describeErrno(cause)}`, path, cause);
    this.name = 'StateWriteError';
  }
}

export class StateReadError extends StateIoError {
  readonly code = 'STATE_READ_FAILED';
  constructor(path: string, cause: unknown) {
    super(`cannot read ${path}: ${describeErrno(cause)}`, path, cause);
    this.name = 'StateReadError';
  }
}

export class StateLockError extends Error {
  readonly code = 'STATE_LOCKED';
  readonly retryable = false;
  constructor(
    message: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StateLockError';
  }
}
