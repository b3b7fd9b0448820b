/** The pipeline's logging and error vocabulary (pino-compatible logger, duck-typed errors). */

export interface PipelineLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ErrorInfo {
  message: string;
  code: string;
  /** ISO time. */
  at: string;
  xgStatus?: number;
  /** The firewall's own status text, when it answered with one. */
  xgText?: string;
}

/** Only an explicit `retryable === false` is permanent: unknown failures are worth retrying. */
export function isPermanent(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retryable?: unknown }).retryable === false;
}

export function errorInfo(err: unknown, at: number): ErrorInfo {
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    message?: unknown;
    code?: unknown;
    xgStatus?: unknown;
    xgText?: unknown;
  };
  const info: ErrorInfo = {
    message: typeof e.message === 'string' ? e.message : String(err),
    code: typeof e.code === 'string' ? e.code : 'UNKNOWN',
    at: iso(at),
  };
  if (typeof e.xgStatus === 'number') info.xgStatus = e.xgStatus;
  if (typeof e.xgText === 'string') info.xgText = e.xgText;
  return info;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
