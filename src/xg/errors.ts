/**
 * Typed errors of the XG client. Every outcome the firewall can report maps to one class through
 * ONE table (STATUS_TABLE / errorForStatus), so retry decisions are made in one place and the
 * pipeline only looks at `retryable`. Messages name the XG status, its text and the operation and
 * object concerned; they never carry request bodies or credentials.
 */
import { inspect } from 'node:util';

export interface XgErrorContext {
  /** API operation: login, get, add, update, remove, request. */
  op?: string;
  /** Entity tag (IPHost, IPHostGroup) and object name, when the error concerns one object. */
  entity?: string;
  name?: string;
  /** Extra explanation appended to the message (what the client did or what the admin must do). */
  hint?: string;
}

export interface XgErrorOptions extends XgErrorContext {
  code?: string;
  retryable?: boolean;
  xgStatus?: number;
  xgText?: string;
  cause?: unknown;
}

function describe(message: string, o: XgErrorOptions): string {
  const parts: string[] = [];
  if (o.xgStatus !== undefined || o.xgText !== undefined) {
    parts.push(`XG ${o.xgStatus ?? 'status'}${o.xgText ? ` "${o.xgText}"` : ''}`);
  }
  const target = [o.op, o.entity, o.name].filter((x) => x !== undefined && x !== '').join(' ');
  if (target) parts.push(`on ${target}`);
  const tail = parts.length ? ` (${parts.join(' ')})` : '';
  return `${message}${tail}${o.hint ? `: ${o.hint}` : ''}`;
}

export class XgError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly xgStatus?: number;
  readonly xgText?: string;
  readonly op?: string;
  readonly entity?: string;
  readonly objectName?: string;
  declare readonly cause?: unknown;

  constructor(message: string, opts: XgErrorOptions = {}, defaults: { code: string; retryable: boolean }) {
    super(describe(message, opts), opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = new.target.name;
    this.code = opts.code ?? defaults.code;
    this.retryable = opts.retryable ?? defaults.retryable;
    if (opts.xgStatus !== undefined) this.xgStatus = opts.xgStatus;
    if (opts.xgText !== undefined) this.xgText = opts.xgText;
    if (opts.op !== undefined) this.op = opts.op;
    if (opts.entity !== undefined) this.entity = opts.entity;
    if (opts.name !== undefined) this.objectName = opts.name;
  }

  /**
   * util.inspect (and so console/pino fallbacks) shows only our own fields and the cause's name
   * and message: a cause from the HTTP layer must never drag request details into a log.
   */
  [inspect.custom](): string {
    const cause = this.cause instanceof Error ? ` [cause: ${this.cause.name}: ${this.cause.message}]` : '';
    return `${this.name} [${this.code}${this.retryable ? ', retryable' : ''}]: ${this.message}${cause}`;
  }
}

type Ctor = new (message: string, opts?: XgErrorOptions) => XgError;

function kind(code: string, retryable: boolean): Ctor {
  return class extends XgError {
    constructor(message: string, opts: XgErrorOptions = {}) {
      super(message, opts, { code, retryable });
    }
  };
}

/** Wrong credentials or an account without API rights. Never retried: the firewall may lock the account. */
export class XgAuthError extends kind('XG_AUTH', false) {}
/** 532 API disabled, 534 caller not in the allow-list: an admin must act. */
export class XgAccessError extends kind('XG_ACCESS', false) {}
/** 529: the firewall could not read our request. A client bug; retrying sends the same bytes. */
export class XgRequestError extends kind('XG_REQUEST', false) {}
/** 501: a value was refused (bad address, unknown group, family mismatch). */
export class XgValidationError extends kind('XG_VALIDATION', false) {}
/** 502/503/409: the name or the content is already held by another object. */
export class XgConflictError extends kind('XG_CONFLICT', false) {}
/** 504/509/510: the object is still used by a group or a rule. */
export class XgReferencedError extends kind('XG_REFERENCED', false) {}
/** 526/528: no such object (or a built-in one). */
export class XgNotFoundError extends kind('XG_NOT_FOUND', false) {}
/** 500 and every other failure code. */
export class XgOperationError extends kind('XG_OPERATION', false) {}
/** Connect, TLS, reset, HTTP status other than 200, empty or unparsable body. */
export class XgTransportError extends kind('XG_TRANSPORT', true) {}
/** No complete answer within the request timeout. The write may still have been applied. */
export class XgTimeoutError extends kind('XG_TIMEOUT', true) {}
/** An adapter asked for an operation it does not offer (lists mode on an adapter without it). */
export class XgUnsupportedError extends kind('XG_UNSUPPORTED', false) {}

interface Row {
  cls: Ctor;
  code: string;
  retryable?: boolean;
  /** What an admin must do; the client cannot fix these. */
  hint?: string;
}

/**
 * The status table (reference §5.2). 500 is the one API code marked retryable: the reference
 * allows one retry after re-reading, and the pipeline always re-reads before it writes again.
 * 217/222 ("unable to get status") are ambiguous: treated as a retryable failure, which is safe
 * because every write is idempotent and preceded by a read.
 */
const STATUS_TABLE: ReadonlyMap<number, Row> = new Map<number, Row>([
  [217, { cls: XgOperationError, code: 'XG_AMBIGUOUS', retryable: true }],
  [222, { cls: XgOperationError, code: 'XG_AMBIGUOUS', retryable: true }],
  [409, { cls: XgConflictError, code: 'XG_NAME_EXISTS' }],
  [500, { cls: XgOperationError, code: 'XG_OPERATION_FAILED', retryable: true }],
  [501, { cls: XgValidationError, code: 'XG_VALIDATION' }],
  [502, { cls: XgConflictError, code: 'XG_NAME_EXISTS' }],
  [503, { cls: XgConflictError, code: 'XG_SAME_CONTENT_EXISTS' }],
  [504, { cls: XgReferencedError, code: 'XG_REFERENCED' }],
  [509, { cls: XgReferencedError, code: 'XG_REFERENCED' }],
  [510, { cls: XgReferencedError, code: 'XG_REFERENCED' }],
  [526, { cls: XgNotFoundError, code: 'XG_NOT_FOUND' }],
  [528, { cls: XgNotFoundError, code: 'XG_NOT_EDITABLE' }],
  [529, { cls: XgRequestError, code: 'XG_INVALID_REQUEST' }],
  [532, { cls: XgAccessError, code: 'XG_API_DISABLED', hint: 'enable the API (Backup & firmware > API) on the firewall' }],
  [534, { cls: XgAccessError, code: 'XG_IP_NOT_ALLOWED', hint: "add this host's source address to the firewall's API allow-list" }],
]);

/** Code-less statuses, recognised by their text (firmware wording varies, so patterns). */
const TEXT_TABLE: ReadonlyArray<[RegExp, number | Row]> = [
  [/authentication failure/i, { cls: XgAuthError, code: 'XG_AUTH' }],
  [/not allowed from the requester ip/i, 534],
  [/enable the api configuration/i, 532],
  [/input request (file|module) is invalid|invalid xml request|no api version/i, 529],
  [/transaction fail/i, { cls: XgOperationError, code: 'XG_TRANSACTION_FAIL' }],
];

/** Success codes (reference §5.2: 200 applied, 201 created, 202 renamed+updated, 216 successful). */
export const SUCCESS_CODES: ReadonlySet<number> = new Set([200, 201, 202, 216]);

export function isSuccessStatus(code: number | undefined): boolean {
  return code !== undefined && SUCCESS_CODES.has(code);
}

/** The one mapping from an XG status (code and/or text) to an error. */
export function errorForStatus(code: number | undefined, text: string | undefined, context: XgErrorContext = {}): XgError {
  let row: Row | undefined = code !== undefined ? STATUS_TABLE.get(code) : undefined;
  if (!row && text !== undefined) {
    for (const [re, target] of TEXT_TABLE) {
      if (!re.test(text)) continue;
      row = typeof target === 'number' ? STATUS_TABLE.get(target) : target;
      break;
    }
  }
  row ??= { cls: XgOperationError, code: code === undefined ? 'XG_NO_STATUS_CODE' : 'XG_FAILED' };
  const opts: XgErrorOptions = { ...context, code: row.code };
  if (opts.hint === undefined && row.hint !== undefined) opts.hint = row.hint;
  if (row.retryable !== undefined) opts.retryable = row.retryable;
  if (code !== undefined) opts.xgStatus = code;
  if (text !== undefined) opts.xgText = text;
  return new row.cls('Sophos XG refused the request', opts);
}
