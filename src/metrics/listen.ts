/** Parsing of the metrics listen address ("127.0.0.1:9617", "[::1]:9617", ":9617"). */
import { isIPv4, isIPv6 } from 'node:net';

export const DEFAULT_LISTEN = '127.0.0.1:9617';

export class ListenError extends Error {
  readonly code = 'METRICS_LISTEN_INVALID';
  readonly retryable = false;

  constructor(value: string, why: string) {
    super(
      `invalid metrics listen address ${JSON.stringify(value)}: ${why} (expected HOST:PORT, [IPV6]:PORT or :PORT, e.g. "127.0.0.1:9617")`,
    );
    this.name = 'ListenError';
  }
}

export interface ListenAddress {
  /** undefined: every interface (":PORT"). */
  host: string | undefined;
  /** 0 lets the system pick a free port. */
  port: number;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function parseListen(value: string): ListenAddress {
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([^:]*)$/.exec(value);
  if (!m) {
    if (isIPv6(value) || isIPv6(value.replace(/:[^:]*$/, '')))
      throw new ListenError(value, 'an IPv6 address must be written in brackets, e.g. "[::1]:9617"');
    throw new ListenError(value, /^\[[^\]]*\]$/.test(value) ? 'the port is missing' : 'not HOST:PORT');
  }
  const [, v6, name, portText = ''] = m;
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65_535) throw new ListenError(value, `bad port ${JSON.stringify(portText)}`);
  const port = Number(portText);
  if (v6 !== undefined) {
    if (!isIPv6(v6)) throw new ListenError(value, `${JSON.stringify(v6)} is not an IPv6 address`);
    return { host: v6, port };
  }
  if (name === undefined || name === '') return { host: undefined, port };
  // "1.2.3" or "999.1.1.1" would pass as a host name; only real dotted quads may look numeric.
  const numeric = /^[\d.]+$/.test(name);
  if (numeric ? !isIPv4(name) : !HOSTNAME.test(name))
    throw new ListenError(value, `${JSON.stringify(name)} is not an IPv4 address or host name`);
  return { host: name, port };
}

/** Only this machine can reach it: 127.0.0.0/8, ::1, or 127.x in IPv4-mapped form (as the socket reports it). */
export function isLoopback(address: string): boolean {
  const v4 = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address;
  if (isIPv4(v4)) return v4.startsWith('127.');
  return isIPv6(address) && /^(?:0{0,4}:){7}0{0,3}1$|^::1$/i.test(address);
}

/**
 * The start-up warning when the endpoint is bound beyond loopback: it has no authentication, and
 * /status names the firewalls, groups and jails. Undefined on loopback.
 */
export function exposureWarning(boundAddress: string): string | undefined {
  if (isLoopback(boundAddress)) return undefined;
  const where = boundAddress === '::' || boundAddress === '0.0.0.0' ? 'every interface' : boundAddress;
  return `the metrics endpoint listens on ${where}, not only loopback: it has no authentication, so restrict who can reach it (firewall) or listen on 127.0.0.1`;
}
