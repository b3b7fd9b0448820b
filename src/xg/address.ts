/**
 * Addresses (as normalised by src/parser) ⇄ IPHost fields. Pure.
 * A single address is HostType IP; a CIDR network is HostType Network with the IPv4 mask dotted
 * and the IPv6 prefix as a length (reference §3.1).
 */
import ipaddr from 'ipaddr.js';
import type { AddressFamily } from '../parser/types.js';
import type { HostFields } from './xml.js';

export interface AddressFields {
  family: AddressFamily;
  hostType: 'IP' | 'Network';
  ipAddress: string;
  subnet?: string;
}

/** Family of an address or network; undefined when it is neither. */
export function familyOf(address: string): AddressFamily | undefined {
  const [ip, prefix, extra] = address.split('/');
  if (ip === undefined || extra !== undefined || !ipaddr.isValid(ip)) return undefined;
  const kind = ipaddr.parse(ip).kind();
  const fam: AddressFamily = kind === 'ipv6' ? 'IPv6' : 'IPv4';
  if (prefix !== undefined) {
    const n = Number(prefix);
    if (!/^\d{1,3}$/.test(prefix) || n > (fam === 'IPv6' ? 128 : 32)) return undefined;
  }
  if (fam === 'IPv4' && !ipaddr.IPv4.isValidFourPartDecimal(ip)) return undefined;
  return fam;
}

export function addressFields(address: string): AddressFields {
  const family = familyOf(address);
  if (!family) throw new RangeError(`not an IP address or CIDR network: ${address}`);
  const [ip = '', prefix] = address.split('/');
  if (prefix === undefined) return { family, hostType: 'IP', ipAddress: ip };
  const len = Number(prefix);
  const subnet = family === 'IPv4' ? ipaddr.IPv4.subnetMaskFromPrefixLength(len).toString() : String(len);
  return { family, hostType: 'Network', ipAddress: ip, subnet };
}

function normal(ip: string): string | undefined {
  return ipaddr.isValid(ip) ? ipaddr.parse(ip).toString() : undefined;
}

function prefixLength(subnet: string): number | undefined {
  const s = subnet.trim();
  if (/^\d{1,3}$/.test(s)) return Number(s);
  if (!ipaddr.IPv4.isValidFourPartDecimal(s)) return undefined;
  return ipaddr.IPv4.parse(s).prefixLengthFromSubnetMask() ?? undefined;
}

/**
 * The address a host object stands for, in the parser's normal form, read from its IPAddress
 * (and Subnet) fields — never from its name. Undefined for host types the sidecar never creates.
 */
export function addressOfHost(h: Pick<HostFields, 'hostType' | 'ipAddress' | 'subnet'>): string | undefined {
  if (h.ipAddress === undefined) return undefined;
  const ip = normal(h.ipAddress.trim());
  if (ip === undefined) return undefined;
  if (h.hostType === 'IP') return ip;
  if (h.hostType !== 'Network' || h.subnet === undefined) return undefined;
  const len = prefixLength(h.subnet);
  return len === undefined ? undefined : `${ip}/${len}`;
}

/** The parser's normal form of a valid address (compressed lower-case IPv6), so names and reads agree. */
export function canonical(address: string): string | undefined {
  if (!familyOf(address)) return undefined;
  const [ip = '', prefix] = address.split('/');
  const norm = normal(ip) ?? ip;
  return prefix === undefined ? norm : `${norm}/${Number(prefix)}`;
}
