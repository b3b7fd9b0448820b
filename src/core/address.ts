/**
 * The project's one address parser: strict validation and normalisation of the IDs fail2ban
 * prints after "Ban"/"Unban", and of every address the config, the model and the firewall
 * adapter handle, so all of them accept exactly the same texts.
 *
 * Hand-written rather than ipaddr.js/net because both are too lenient for a firewall feed:
 * ipaddr.js accepts "0x7f.1", "127.1" and zone ids, net.isIP accepts zone ids, and neither
 * handles CIDR normalisation the way we need. The tests use ipaddr.js and net as oracles.
 */

export type AddressFamily = 'IPv4' | 'IPv6';

export interface NormalizedAddress {
  /** Canonical text: "192.0.2.1", "2001:db8::1", "198.51.100.0/24", "2001:db8:1::/64". */
  ip: string;
  family: AddressFamily;
}

/** Why an ID is not accepted; stable strings, counted by callers. */
export type AddressRejection =
  | 'empty'
  | 'hostname' // letters/dots only: a DNS name (usedns = raw, <F-ID>, manual banip)
  | 'leading-zero' // "010.1.1.1": octal to inet_aton, decimal to others; glibc inet_pton rejects it too
  | 'zone-id' // "fe80::1%eth0": link-local scope means nothing to a remote firewall
  | 'bad-prefix' // "/33", "/abc"
  | 'not-an-ip';

export type AddressCheck = ({ ok: true } & NormalizedAddress) | { ok: false; reason: AddressRejection };

/** The normalised address, or undefined when `id` is not a strict IPv4/IPv6 address or network. */
export function normalizeAddress(id: string): NormalizedAddress | undefined {
  const r = checkAddress(id);
  return r.ok ? { ip: r.ip, family: r.family } : undefined;
}

/**
 * Like normalizeAddress, with the reason on failure. A network whose host bits are set
 * ("198.51.100.7/24") is masked to its network address, as fail2ban's own IPAddr does before it
 * logs or stores it; "/32" and "/128" collapse to the plain address.
 */
export function checkAddress(id: string): AddressCheck {
  const r = scanAddress(id);
  if (typeof r === 'string') return fail(r);
  if (r.v6) return fromIPv6(r.v6, r.prefix);
  return { ok: true, family: 'IPv4', ip: formatIPv4(r.v4, r.prefix) };
}

/** Family of a valid address or network (as checkAddress judges it); undefined for anything else. */
export function addressFamily(address: string): AddressFamily | undefined {
  const r = checkAddress(address);
  return r.ok ? r.family : undefined;
}

/** A dotted quad (strict, as in checkAddress) as an unsigned 32-bit number; undefined otherwise. */
export function ipv4Value(text: string): number | undefined {
  const v = parseIPv4(text, 0, text.length);
  return v < 0 ? undefined : v;
}

/**
 * A valid address split into its parts, not yet normalised: the IPv4 value or the eight IPv6
 * words, and the prefix length as written (-1 when none). checkAddress and parseNetwork
 * (./network.ts) both start here, so the config and the parser agree on what an address is.
 */
export type ScannedAddress = { v6?: undefined; v4: number; prefix: number } | { v6: number[]; v4?: undefined; prefix: number };

export function scanAddress(id: string): ScannedAddress | AddressRejection {
  if (id.length === 0) return 'empty';
  const slash = id.indexOf('/');
  const addr = slash < 0 ? id : id.slice(0, slash);
  let prefix = -1;
  if (slash >= 0) {
    prefix = parsePrefix(id, slash + 1);
    if (prefix < 0) return 'bad-prefix';
  }
  if (addr.includes(':')) {
    if (addr.includes('%')) return 'zone-id';
    const words = parseIPv6(addr);
    if (!words) return 'not-an-ip';
    if (prefix > 128) return 'bad-prefix';
    return { v6: words, prefix };
  }
  const v4 = parseIPv4(addr, 0, addr.length);
  if (v4 === LEADING_ZERO) return 'leading-zero';
  if (v4 < 0) return looksLikeHostname(addr) ? 'hostname' : 'not-an-ip';
  if (prefix > 32) return 'bad-prefix';
  return { v4, prefix };
}

function fail(reason: AddressRejection): AddressCheck {
  return { ok: false, reason };
}

function parsePrefix(s: string, from: number): number {
  const len = s.length - from;
  if (len < 1 || len > 3) return -1;
  let n = 0;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

const LEADING_ZERO = -2;

/**
 * Dotted quad only: exactly four decimal parts 0..255. Returns the unsigned 32-bit value, -1 if
 * malformed, LEADING_ZERO for "010.1.1.1" (well-formed but ambiguous).
 */
function parseIPv4(s: string, from: number, to: number): number {
  let value = 0;
  let parts = 0;
  let i = from;
  let leadingZero = false;
  while (parts < 4) {
    const start = i;
    let n = 0;
    while (i < to) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      n = n * 10 + c;
      i++;
      if (i - start > 3) return -1;
    }
    const digits = i - start;
    if (digits === 0 || n > 255) return -1;
    if (digits > 1 && s.charCodeAt(start) === 48) leadingZero = true;
    value = value * 256 + n;
    parts++;
    if (parts < 4) {
      if (i >= to || s.charCodeAt(i) !== 46) return -1;
      i++;
    }
  }
  if (i !== to) return -1;
  return leadingZero ? LEADING_ZERO : value;
}

function formatIPv4(v: number, prefix: number): string {
  let value = v;
  if (prefix >= 0 && prefix < 32) {
    // Mask with arithmetic: bitwise ops in JS are signed 32-bit.
    const block = 2 ** (32 - prefix);
    value = Math.floor(value / block) * block;
  }
  const text = `${Math.floor(value / 16777216) % 256}.${Math.floor(value / 65536) % 256}.${Math.floor(value / 256) % 256}.${value % 256}`;
  return prefix >= 0 && prefix < 32 ? `${text}/${prefix}` : text;
}

function looksLikeHostname(s: string): boolean {
  // Labels of letters/digits/hyphens (any script), at least one letter somewhere.
  return /^(?=.*\p{L})[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?)*\.?$/u.test(s);
}

/** Eight 16-bit words, or undefined. Accepts one "::" and a trailing dotted quad (strict). */
function parseIPv6(s: string): number[] | undefined {
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return undefined;
  const head = dbl < 0 ? s : s.slice(0, dbl);
  const tail = dbl < 0 ? '' : s.slice(dbl + 2);
  const a = parseWords(head, dbl < 0);
  const b = dbl < 0 ? [] : parseWords(tail, true);
  if (!a || !b) return undefined;
  if (dbl < 0) return a.length === 8 ? a : undefined;
  // "::" stands for at least one zero word (RFC 4291 §2.2; inet_pton agrees).
  const fill = 8 - a.length - b.length;
  if (fill < 1) return undefined;
  return [...a, ...new Array<number>(fill).fill(0), ...b];
}

function parseWords(s: string, mayEndWithIPv4: boolean): number[] | undefined {
  if (s === '') return [];
  const parts = s.split(':');
  const out: number[] = [];
  for (let k = 0; k < parts.length; k++) {
    const p = parts[k] as string;
    if (k === parts.length - 1 && mayEndWithIPv4 && p.includes('.')) {
      const v4 = parseIPv4(p, 0, p.length);
      if (v4 < 0) return undefined;
      out.push(Math.floor(v4 / 65536), v4 % 65536);
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
    out.push(parseInt(p, 16));
  }
  return out;
}

function fromIPv6(words: number[], prefix: number): AddressCheck {
  const w = words.slice();
  if (prefix >= 0 && prefix < 128) {
    for (let i = 0; i < 8; i++) {
      const keep = Math.max(0, Math.min(16, prefix - i * 16));
      w[i] = keep === 0 ? 0 : (w[i] as number) & (0xffff << (16 - keep)) & 0xffff;
    }
  }
  const mapped = w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff;
  if (mapped && (prefix < 0 || prefix >= 96)) {
    // fail2ban logs ::ffff:a.b.c.d as a.b.c.d; the firewall must see the same key.
    const v4 = (w[6] as number) * 65536 + (w[7] as number);
    return { ok: true, family: 'IPv4', ip: formatIPv4(v4, prefix < 0 ? -1 : prefix - 96) };
  }
  const text = formatIPv6(w);
  return { ok: true, family: 'IPv6', ip: prefix >= 0 && prefix < 128 ? `${text}/${prefix}` : text };
}

/** RFC 5952 §4.2.3: the longest run of two or more zero words (the first on a tie); start -1 when none. */
export function longestZeroRun(w: ArrayLike<number>): { start: number; len: number } {
  let start = -1;
  let len = 1;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > len) {
      start = i;
      len = j - i;
    }
    i = j;
  }
  return { start, len };
}

/** RFC 5952: lower case, no leading zeros, the longest (first on tie) run of ≥2 zero words as "::". */
function formatIPv6(w: number[]): string {
  const { start: bestStart, len: bestLen } = longestZeroRun(w);
  const hex = (from: number, to: number) =>
    w
      .slice(from, to)
      .map((x) => x.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}
