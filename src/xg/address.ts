/**
 * Addresses (as normalised by src/core/address.ts) ⇄ IPHost fields. Pure.
 * A single address is HostType IP; a CIDR network is HostType Network with the IPv4 mask dotted
 * and the IPv6 prefix as a length (reference §3.1).
 */
import { addressFamily, normalizeAddress, type AddressFamily } from '../core/address.js';
import { ipv4Mask, ipv4MaskLength } from '../core/network.js';
import type { HostFields } from './request-xml.js';

export interface AddressFields {
  family: AddressFamily;
  hostType: 'IP' | 'Network';
  ipAddress: string;
  subnet?: string;
}

/** Family of an address or network (the core parser's verdict); undefined when it is neither. */
export const familyOf = addressFamily;

/** The IPHost fields for an address or network, written in the parser's normal form. */
export function addressFields(address: string): AddressFields {
  const n = normalizeAddress(address);
  if (!n) throw new RangeError(`not an IP address or CIDR network: ${address}`);
  const family = n.family;
  const [ip = '', prefix] = n.ip.split('/');
  if (prefix === undefined) return { family, hostType: 'IP', ipAddress: ip };
  const len = Number(prefix);
  const subnet = family === 'IPv4' ? ipv4Mask(len) : String(len);
  return { family, hostType: 'Network', ipAddress: ip, subnet };
}

function prefixLength(subnet: string): number | undefined {
  const s = subnet.trim();
  if (/^\d{1,3}$/.test(s)) return Number(s);
  return ipv4MaskLength(s);
}

/**
 * The address a host object stands for, in the parser's normal form, read from its IPAddress
 * (and Subnet) fields — never from its name. Undefined for host types the sidecar never creates.
 */
export function addressOfHost(h: Pick<HostFields, 'hostType' | 'ipAddress' | 'subnet'>): string | undefined {
  if (h.ipAddress === undefined) return undefined;
  const ip = h.ipAddress.trim();
  if (h.hostType === 'IP') return ip.includes('/') ? undefined : normalizeAddress(ip)?.ip;
  if (h.hostType !== 'Network' || h.subnet === undefined || ip.includes('/')) return undefined;
  const len = prefixLength(h.subnet);
  if (len === undefined) return undefined;
  // Host bits set ("10.0.0.5" with 255.0.0.0) is not a form the sidecar writes: not taken as ours.
  const plain = normalizeAddress(ip)?.ip;
  const net = normalizeAddress(`${ip}/${len}`)?.ip;
  return plain !== undefined && net !== undefined && net.startsWith(`${plain}/`) ? net : undefined;
}

/** The parser's normal form of a valid address (compressed lower-case IPv6), so names and reads agree. */
export function canonical(address: string): string | undefined {
  return normalizeAddress(address)?.ip;
}
