/**
 * One HTTP exchange with the firewall: POST a form body, get the answer's text. Every failure
 * becomes a typed XgError: no complete answer within the timeout (XgTimeoutError), a refused
 * certificate, an answer over the dispatcher's size cap, an HTTP status other than 200, or any
 * other network error (XgTransportError).
 */
import { request, type Dispatcher } from 'undici';
import { XgError, XgTimeoutError, XgTransportError, type XgErrorContext } from './errors.js';

export interface PostOptions {
  /** Carries the TLS trust and the response size cap (tls.ts buildDispatcher). */
  dispatcher: Dispatcher;
  /** For the whole exchange, connect to last byte. */
  timeoutMs: number;
  ctx: XgErrorContext;
}

/** TLS verification failures: retrying cannot fix them, an admin must fix the trust settings. */
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

const TOO_LARGE = 'UND_ERR_RES_EXCEEDED_MAX_SIZE';

function errCode(e: unknown): string | undefined {
  const c = e && typeof e === 'object' ? (e as { code?: unknown }).code : undefined;
  return typeof c === 'string' ? c : undefined;
}

export async function postForm(url: string, form: Record<string, string>, opts: PostOptions): Promise<string> {
  const signal = AbortSignal.timeout(opts.timeoutMs);
  try {
    const res = await request(url, {
      method: 'POST',
      dispatcher: opts.dispatcher,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/xml' },
      body: new URLSearchParams(form).toString(),
      signal,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
    // Read to the end either way: the connection then goes back to the keep-alive pool.
    const body = await res.body.text();
    if (res.statusCode !== 200) {
      throw new XgTransportError(`HTTP ${res.statusCode} from the firewall`, { ...opts.ctx, code: 'XG_HTTP_STATUS' });
    }
    return body;
  } catch (e) {
    if (e instanceof XgError) throw e;
    throw transportError(e, signal.aborted, opts);
  }
}

function transportError(e: unknown, aborted: boolean, opts: PostOptions): XgError {
  const code = errCode(e);
  if (aborted || (code !== undefined && TIMEOUT_CODES.has(code))) {
    return new XgTimeoutError(`no complete answer from the firewall within ${opts.timeoutMs} ms`, {
      ...opts.ctx,
      cause: e,
      hint: 'a write may still have been applied; the next attempt re-reads first',
    });
  }
  if (code === TOO_LARGE) {
    return new XgTransportError('response over the size cap refused', {
      ...opts.ctx,
      code: 'XG_RESPONSE_TOO_LARGE',
      retryable: false,
      cause: e,
    });
  }
  const tlsCode = code ?? errCode((e as { cause?: unknown })?.cause);
  if (tlsCode !== undefined && TLS_CODES.has(tlsCode)) {
    return new XgTransportError(`the firewall certificate was refused (${tlsCode})`, {
      ...opts.ctx,
      code: 'XG_TLS',
      retryable: false,
      cause: e,
      hint: 'configure caFile or fingerprint256 (or insecure) for this firewall',
    });
  }
  const why = e instanceof Error ? `${code ?? e.name}: ${e.message}` : String(e);
  return new XgTransportError(`cannot reach the firewall (${why})`, { ...opts.ctx, cause: e });
}
