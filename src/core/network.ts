/**
 * Networks and containment, for `neverBlock`. IPv4 is compared inside IPv6 as IPv4-mapped
 * (::ffff:a.b.c.d/96+len), so `::ffff:10.0.0.1` and an IPv6 network covering ::ffff:0:0/96 are
 * judged the same way as their IPv4 meaning. Addresses are read by the one parser (./address.ts).
 */
import { ipv4Value, scanAddress, type AddressFamily } from './address.js';

export interface Network {
  /** The network address as eight 16-bit words (IPv4 mapped), host bits cleared. */
  words: readonly number[];
  /** Prefix length in the 128-bit space. */
  bits: number;
}

/** "ADDRESS" or "ADDRESS/LEN", exactly as strict as the parser; undefined when invalid. */
export function parseNetwork(text: string): Network | undefined {
  const r = scanAddress(text);
  if (typeof r === 'string') return undefined;
  if (r.v6) return { words: masked(r.v6, r.prefix < 0 ? 128 : r.prefix), bits: r.prefix < 0 ? 128 : r.prefix };
  const bits = r.prefix < 0 ? 128 : 96 + r.prefix;
  return { words: masked([0, 0, 0, 0, 0, 0xffff, Math.floor(r.v4 / 65536), r.v4 % 65536], bits), bits };
}

function masked(words: readonly number[], bits: number): number[] {
  return words.map((w, i) => {
    const keep = Math.max(0, Math.min(16, bits - i * 16));
    return keep === 0 ? 0 : w & (0xffff << (16 - keep)) & 0xffff;
  });
}

/**
 * The family and prefix length a network has in its own terms. Inside ::ffff:0:0/96 it is IPv4,
 * as the parser normalises ::ffff:a.b.c.d to a.b.c.d: the same target, judged the same way.
 */
export function networkFamily(n: Network): { family: AddressFamily; prefix: number } {
  const mapped = n.bits >= 96 && n.words[5] === 0xffff && n.words.slice(0, 5).every((w) => w === 0);
  return mapped ? { family: 'IPv4', prefix: n.bits - 96 } : { family: 'IPv6', prefix: n.bits };
}

/** The IPv4 network `value/len` (value an unsigned 32-bit number), host bits cleared. */
export function ipv4Network(value: number, len: number): Network {
  if (!Number.isInteger(len) || len < 0 || len > 32) throw new RangeError(`not an IPv4 prefix length: ${len}`);
  const bits = 96 + len;
  return { words: masked([0, 0, 0, 0, 0, 0xffff, Math.floor(value / 65536) % 65536, value % 65536], bits), bits };
}

/** An IPv4 network (see networkFamily) as text: "10.1.2.3", "10.1.2.0/24". */
export function formatIPv4Network(n: Network): string {
  const [hi = 0, lo = 0] = n.words.slice(6);
  const text = [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
  return n.bits >= 128 ? text : `${text}/${n.bits - 96}`;
}

/** Two networks overlap when they agree on the shorter of their prefixes. */
export function overlaps(a: Network, b: Network): boolean {
  const bits = Math.min(a.bits, b.bits);
  const x = masked(a.words, bits);
  const y = masked(b.words, bits);
  return x.every((w, i) => w === y[i]);
}

/**
 * "Never block this": true when the address or network overlaps any listed one, so a /16 ban
 * containing an admin's /32 is refused too. Something that is not an address at all is also
 * refused (true): it cannot be blocked correctly, and the caller logs why it was skipped.
 * Throws RangeError on an invalid list entry (the config schema rejects those earlier).
 */
export function makeNeverBlock(cidrs: readonly string[]): (ip: string) => boolean {
  const nets = cidrs.map((c) => {
    const n = parseNetwork(c.trim());
    if (!n) throw new RangeError(`neverBlock: not an IP address or CIDR network: ${JSON.stringify(c)}`);
    return n;
  });
  return (ip) => {
    const n = parseNetwork(ip.trim());
    if (!n) return true;
    return nets.some((x) => overlaps(x, n));
  };
}

/** An IPv4 prefix length as a dotted mask: 24 → "255.255.255.0". */
export function ipv4Mask(len: number): string {
  if (!Number.isInteger(len) || len < 0 || len > 32) throw new RangeError(`not an IPv4 prefix length: ${len}`);
  const v = len === 0 ? 0 : 2 ** 32 - 2 ** (32 - len);
  return [24, 16, 8, 0].map((s) => Math.floor(v / 2 ** s) % 256).join('.');
}

/** A dotted mask as a prefix length ("255.255.255.0" → 24); undefined unless its ones are contiguous. */
export function ipv4MaskLength(mask: string): number | undefined {
  const v = ipv4Value(mask);
  if (v === undefined) return undefined;
  for (let len = 0; len <= 32; len++) {
    if ((len === 0 ? 0 : 2 ** 32 - 2 ** (32 - len)) === v) return len;
  }
  return undefined;
}
