/**
 * The HTTPS transport of one firewall: an undici Agent (one keep-alive pool) built where the
 * program is wired and passed to the client. No global dispatcher, no NODE_TLS_REJECT_UNAUTHORIZED.
 *
 * Trust modes, strongest first:
 * - `fingerprint256`: the firewall's own self-signed certificate is accepted if and only if its
 *   SHA-256 fingerprint matches (checked on every new connection, TLS session reuse disabled so
 *   every connection presents its certificate). With `ca`/`caFile` as well, the chain must verify too.
 * - `ca`/`caFile`: normal verification (chain and host name) against that CA, e.g. the exported
 *   "Default" CA of the firewall.
 * - neither: the system CAs (a firewall with its factory certificate is refused).
 * - `insecure`: no verification at all; a warning is logged every time such a transport is built.
 *
 * The pool also caps the size of an answer (undici's maxResponseSize), and refuses a declared
 * Content-Length over the cap before reading any of the body.
 */
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { Agent, DecoratorHandler, buildConnector, errors, type Dispatcher } from 'undici';
import { XgTransportError } from './errors.js';
import type { XgLogger } from './log.js';

export interface TlsOptions {
  caFile?: string;
  ca?: string;
  fingerprint256?: string;
  insecure?: boolean;
  connectTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  /** Answers larger than this are refused (default MAX_RESPONSE_BYTES). */
  maxResponseBytes?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 30_000;
/**
 * Responses larger than this are refused rather than buffered. The start-up read-back of every
 * owned host is one answer of ~260 bytes a host (100,000 hosts: 26 MB), so the cap leaves room
 * for ~500,000; it only has to stop an endless or hostile body.
 */
export const MAX_RESPONSE_BYTES = 128 * 1024 * 1024;

type ResponseStartArgs = Parameters<NonNullable<Dispatcher.DispatchHandler['onResponseStart']>>;
const decorated = DecoratorHandler.prototype as unknown as { onResponseStart(...args: ResponseStartArgs): void };

/**
 * maxResponseSize counts the body as it arrives; a declared length over the cap is refused at
 * the headers instead, so a hostile answer is not read up to the cap first. Same error either way.
 */
function refuseDeclaredOver(max: number): Dispatcher.DispatcherComposeInterceptor {
  class DeclaredSizeCap extends DecoratorHandler {
    onResponseStart(...args: ResponseStartArgs): void {
      const declared = Number(args[2]['content-length'] ?? 0);
      if (declared > max) throw new errors.ResponseExceededMaxSizeError(`declared length ${declared} over ${max} bytes`);
      decorated.onResponseStart.apply(this, args);
    }
  }
  return (dispatch) => (opts, handler) => dispatch(opts, new DeclaredSizeCap(handler));
}

/** "AB:cd:…" / "abcd…" → "abcd…"; undefined when it is not 32 bytes of hex. */
export function normaliseFingerprint(fp: string): string | undefined {
  const hex = fp.replace(/[\s:]/g, '').toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}

/** "abcd…" → "AB:CD:…", the form openssl, the browser and the emulator print (and the config shows). */
export function colonHex(hex: string): string {
  return (hex.toUpperCase().match(/../g) ?? []).join(':');
}

export class TlsPinError extends XgTransportError {
  constructor(expected: string, actual: string | undefined) {
    super('the firewall certificate does not match the pinned SHA-256 fingerprint', {
      code: 'XG_TLS_PIN_MISMATCH',
      retryable: false,
      hint: `expected ${colonHex(expected)}, got ${actual !== undefined ? colonHex(actual) : 'no certificate'}`,
    });
  }
}

export function buildDispatcher(opts: TlsOptions, log?: XgLogger): Agent {
  const max = opts.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  // compose() returns the Agent itself behind a Proxy that swaps only `dispatch` (undici 7
  // lib/dispatcher/dispatcher.js), so it still is an Agent; its types just do not say so.
  return buildAgent(opts, max, log).compose(refuseDeclaredOver(max)) as unknown as Agent;
}

function buildAgent(opts: TlsOptions, maxResponseSize: number, log?: XgLogger): Agent {
  const ca = opts.ca ?? (opts.caFile !== undefined ? readFileSync(opts.caFile, 'utf8') : undefined);
  const timeout = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const keepAliveTimeout = opts.keepAliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS;
  const caOpt = ca !== undefined ? { ca } : {};

  if (opts.fingerprint256 !== undefined) {
    const pin = normaliseFingerprint(opts.fingerprint256);
    if (!pin) throw new RangeError('fingerprint256 must be 64 hex digits (colons optional)');
    const base = buildConnector({
      ...caOpt,
      timeout,
      // Without a CA the chain cannot verify (self-signed); the pin below is then the whole check.
      rejectUnauthorized: ca !== undefined,
      maxCachedSessions: 0,
    });
    const connect: buildConnector.connector = (o, cb) => {
      base(o, (err, socket) => {
        if (err || !socket) return cb(err ?? new Error('no socket'), null);
        const cert = (socket as TLSSocket).getPeerCertificate?.();
        const actual = cert?.fingerprint256 ? normaliseFingerprint(cert.fingerprint256) : undefined;
        if (actual !== pin) {
          socket.destroy();
          return cb(new TlsPinError(pin, actual), null);
        }
        cb(null, socket);
      });
    };
    return new Agent({ connect, keepAliveTimeout, maxResponseSize });
  }

  if (opts.insecure) {
    log?.warn('TLS verification of the firewall certificate is DISABLED (insecure: true); prefer caFile or fingerprint256');
    return new Agent({ connect: { timeout, rejectUnauthorized: false }, keepAliveTimeout, maxResponseSize });
  }
  return new Agent({ connect: { ...caOpt, timeout }, keepAliveTimeout, maxResponseSize });
}
