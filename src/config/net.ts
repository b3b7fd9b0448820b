/**
 * Addresses and networks for `neverBlock`. IPv4 is compared inside IPv6 as IPv4-mapped
 * (::ffff:a.b.c.d/96+len), so `::ffff:10.0.0.1` and an IPv6 network covering ::ffff:0:0/96 are
 * judged the same way as their IPv4 meaning.
 */
import ipaddr from 'ipaddr.js';

export interface Network {
  /** The address in IPv6 form (IPv4 mapped). */
  ip: ipaddr.IPv6;
  /** Prefix length in the 128-bit space. */
  bits: number;
}

/**
 * Strict parse of "ADDRESS" or "ADDRESS/LEN": IPv4 only as four decimal parts (ipaddr.js would
 * also take "10" or "0x0a.1"), no zone index. Undefined when invalid.
 */
export function parseNetwork(text: string): Network | undefined {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const lenText = slash < 0 ? undefined : text.slice(slash + 1);
  if (lenText !== undefined && !/^\d{1,3}$/.test(lenText)) return undefined;
  if (addr.includes('%')) return undefined;
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  if (ipaddr.IPv4.isValidFourPartDecimal(addr)) ip = ipaddr.IPv4.parse(addr);
  else if (ipaddr.IPv6.isValid(addr)) ip = ipaddr.IPv6.parse(addr);
  else return undefined;
  const max = ip.kind() === 'ipv4' ? 32 : 128;
  const len = lenText === undefined ? max : Number(lenText);
  if (len > max) return undefined;
  return ip.kind() === 'ipv4'
    ? { ip: (ip as ipaddr.IPv4).toIPv4MappedAddress(), bits: 96 + len }
    : { ip: ip as ipaddr.IPv6, bits: len };
}

/** Two networks overlap when they agree on the shorter of their prefixes. */
export function overlaps(a: Network, b: Network): boolean {
  return a.ip.match(b.ip, Math.min(a.bits, b.bits));
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
