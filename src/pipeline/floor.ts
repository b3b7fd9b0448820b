/**
 * The floor under ban targets (issue 11 item 7): what may never reach the firewall, whatever the
 * log says. Pure: no DNS, no clock; the firewall's own host is resolved by an injected function.
 *
 * Everything is compared in one 128-bit space with IPv4 mapped to ::ffff:a.b.c.d, and a ban
 * target is refused when it OVERLAPS a forbidden range or a never-block entry: a network that
 * contains the admin's /32 would block the admin, a never-block network that contains the ban
 * target says "not this one". Addresses are read by core/network.ts (the one parser, the one the
 * config schema validates neverBlock with), so an entry the config accepts is one the floor reads.
 */
import { normalizeAddress, type AddressFamily } from '../core/address.js';
import { formatIPv4Network, ipv4Network, networkFamily, overlaps, parseNetwork, type Network } from '../core/network.js';

/** Why a target is refused: stable strings for logs, status and metric labels. */
export type FloorReason =
  | 'not-an-address'
  | 'unspecified' // 0.0.0.0, :: (and networks holding them)
  | 'broadcast' // 255.255.255.255
  | 'multicast' // 224.0.0.0/4, ff00::/8
  | 'reserved' // 240.0.0.0/4 ("future use"; also holds the broadcast address)
  | 'shared-address-space' // 100.64.0.0/10, carrier-grade NAT: one address is many customers
  | 'never-block' // overlaps a never-block entry
  | 'never-block-embedded' // its embedded IPv4 (mapped, NAT64, 6to4) overlaps a never-block entry
  | 'too-wide'; // a network wider than the configured minimum prefix

export const FLOOR_REASONS: readonly FloorReason[] = [
  'not-an-address',
  'unspecified',
  'broadcast',
  'multicast',
  'reserved',
  'shared-address-space',
  'never-block',
  'never-block-embedded',
  'too-wide',
];

export type FloorVerdict = { allow: true } | { allow: false; reason: FloorReason; detail: string };

/** The floor check itself: one verdict per ban target. */
export type Floor = (address: string) => FloorVerdict;

export interface FloorOptions {
  /** Networks shorter than this are refused. Defaults: /16 IPv4, /32 IPv6. */
  minPrefix?: Partial<Record<AddressFamily, number>>;
  /** Addresses and networks never blocked (config neverBlock plus the firewall's own addresses). */
  neverBlock: readonly string[];
}

export const DEFAULT_MIN_PREFIX: Readonly<Record<AddressFamily, number>> = { IPv4: 16, IPv6: 32 };

/**
 * Forbidden ranges, in the order their reason is reported: 255.255.255.255 is also in
 * 240.0.0.0/4 and is reported as broadcast; 224.0.0.0/3 overlaps multicast first.
 */
const FORBIDDEN: ReadonlyArray<[string, FloorReason]> = [
  ['0.0.0.0', 'unspecified'],
  ['::', 'unspecified'],
  ['224.0.0.0/4', 'multicast'],
  ['ff00::/8', 'multicast'],
  ['255.255.255.255', 'broadcast'],
  ['240.0.0.0/4', 'reserved'],
  ['100.64.0.0/10', 'shared-address-space'],
];

/** IPv6 forms that carry an IPv4 address: the prefix, and the word where the IPv4 bits start. */
const EMBEDDINGS: ReadonlyArray<{ form: EmbeddedForm; prefix: string; word: number }> = [
  { form: 'mapped', prefix: '::ffff:0:0/96', word: 6 },
  { form: 'nat64', prefix: '64:ff9b::/96', word: 6 }, // RFC 6052 well-known prefix
  { form: '6to4', prefix: '2002::/16', word: 1 }, // RFC 3056: 2002:AABB:CCDD::/48
];

export type EmbeddedForm = 'mapped' | 'nat64' | '6to4';

export interface EmbeddedIPv4 {
  form: EmbeddedForm;
  /** The embedded IPv4 address or network, normalised ("10.1.2.3", "10.1.2.0/24", "0.0.0.0/0"). */
  ipv4: string;
}

interface Target {
  net: Network;
  family: AddressFamily;
  /** Prefix length in the family's own terms (32 / 128 for a single address). */
  prefix: number;
}

/** A ban target read by the one address parser (core/network.ts), as the config schema reads neverBlock. */
function toTarget(text: string): Target | undefined {
  const net = parseNetwork(text.trim());
  return net && { net, ...networkFamily(net) };
}

function mustNet(text: string, what: string): Network {
  const n = parseNetwork(text.trim());
  if (!n) throw new RangeError(`${what}: not an IP address or CIDR network: ${JSON.stringify(text)}`);
  return n;
}

const EMBEDDING_NETS = EMBEDDINGS.map((e) => ({ ...e, net: mustNet(e.prefix, 'embedding') }));

/** The IPv4 network an IPv6 target carries, if it lies in (or covers) a translation prefix. */
function embeddedOf(net: Network): { form: EmbeddedForm; net: Network } | undefined {
  for (const e of EMBEDDING_NETS) {
    if (!overlaps(net, e.net)) continue;
    // A network that covers the whole prefix covers every IPv4 address embedded in it.
    const len = Math.max(0, Math.min(32, net.bits - e.word * 16));
    const value = (net.words[e.word] ?? 0) * 65536 + (net.words[e.word + 1] ?? 0);
    return { form: e.form, net: ipv4Network(value, len) };
  }
  return undefined;
}

/**
 * The IPv4 address (or network) an IPv6 target carries in IPv4-mapped (::ffff:a.b.c.d), NAT64
 * (64:ff9b::a.b.c.d) or 6to4 (2002:aabb:ccdd::/48) form: blocking it blocks that IPv4 host's
 * traffic, so never-block must apply to it. Undefined for plain IPv4 and other IPv6.
 */
export function embeddedIPv4(address: string): EmbeddedIPv4 | undefined {
  const t = toTarget(address);
  if (!t || t.family === 'IPv4') return undefined;
  const e = embeddedOf(t.net);
  return e && { form: e.form, ipv4: formatIPv4Network(e.net) };
}

/** Builds the floor check. Throws RangeError on an invalid never-block entry or minimum prefix. */
export function makeFloor(opts: FloorOptions): Floor {
  const minPrefix = { ...DEFAULT_MIN_PREFIX, ...opts.minPrefix };
  for (const [family, max] of [
    ['IPv4', 32],
    ['IPv6', 128],
  ] as const) {
    const v = minPrefix[family];
    if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`minPrefix.${family} must be an integer 0..${max}, got ${v}`);
  }
  const forbidden = FORBIDDEN.map(([text, reason]) => ({ text, reason, net: mustNet(text, 'floor') }));
  const never = opts.neverBlock.map((text) => ({ text, net: mustNet(text, 'neverBlock') }));
  return (address) => {
    const p = toTarget(address);
    if (!p) return refuse('not-an-address', 'not a strict IPv4/IPv6 address or network');
    const bad = forbidden.find((f) => overlaps(f.net, p.net));
    if (bad) return refuse(bad.reason, `overlaps ${bad.text}`);
    const nb = never.find((n) => overlaps(n.net, p.net));
    if (nb) return refuse('never-block', `overlaps never-block ${nb.text}`);
    const emb = p.family === 'IPv6' ? embeddedOf(p.net) : undefined;
    if (emb) {
      const hit = never.find((n) => overlaps(n.net, emb.net));
      if (hit)
        return refuse('never-block-embedded', `${emb.form} form of ${formatIPv4Network(emb.net)}, which overlaps never-block ${hit.text}`);
    }
    if (p.prefix < minPrefix[p.family]) return refuse('too-wide', `/${p.prefix} is wider than the minimum /${minPrefix[p.family]}`);
    return { allow: true };
  };
}

function refuse(reason: FloorReason, detail: string): FloorVerdict {
  return { allow: false, reason, detail };
}

/** The firewall's host could not be turned into never-block entries. */
export class FirewallHostError extends Error {
  readonly code = 'FIREWALL_HOST_UNRESOLVED';
  /** DNS may answer later; an unparsable URL is the config's fault (the schema rejects it first). */
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FirewallHostError';
    this.retryable = retryable;
  }
}

/** Resolves a host name to its addresses (dns.promises.lookup with all: true, mapped to strings). */
export type HostResolver = (host: string) => Promise<readonly string[]>;

/**
 * Never-block entries for the firewall itself, from its API URL: an IP literal as it is (IPv6 in
 * brackets too), a host name through `resolve`. Blocking the firewall's own address on the
 * firewall would cut the sidecar off from it (and the admins from its web UI).
 */
export async function firewallNeverBlock(url: string, resolve: HostResolver): Promise<string[]> {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch (err) {
    throw new FirewallHostError(`firewall URL is not a URL: ${JSON.stringify(url)}`, false, { cause: err });
  }
  const literal = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const direct = normalizeAddress(literal);
  if (direct) return [direct.ip];
  let found: readonly string[];
  try {
    found = await resolve(host);
  } catch (err) {
    throw new FirewallHostError(`cannot resolve the firewall host ${host}`, true, { cause: err });
  }
  const ips = [...new Set(found.map((a) => normalizeAddress(a)?.ip).filter((a): a is string => a !== undefined))];
  if (ips.length === 0) throw new FirewallHostError(`the firewall host ${host} resolved to no IP address`, true);
  return ips;
}
