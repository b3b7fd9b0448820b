/**
 * Which firewall groups an event feeds. Pure. The config module offers the same helpers for the
 * CLI; the pipeline keeps its own tiny copies so it can be built and tested on its own.
 */
import ipaddr from 'ipaddr.js';
import type { AddressFamily } from '../parser/types.js';
import type { GroupRef } from '../xg/port.js';

export interface GroupMapping {
  /** Firewall id (key of the ports map). */
  firewall: string;
  /** IPv4 IP host group. */
  name: string;
  /** IPv6 IP host group; without it IPv6 bans of these jails are skipped (and counted). */
  ipv6Name?: string;
  /** Jail names or globs (`*`, `?`, `[...]`). */
  jails: readonly string[];
}

/** One group on one firewall: the unit the reconciler writes. */
export interface GroupTarget {
  /** `${firewall}/${group name}` */
  key: string;
  firewall: string;
  group: GroupRef;
}

export type JailMatcher = (patterns: readonly string[], jail: string) => boolean;

export function groupKey(firewall: string, name: string): string {
  return `${firewall}/${name}`;
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, end);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const globCache = new Map<string, RegExp>();

/** fnmatch-style jail matching: exact names, `*`, `?`, `[abc]`, `[!abc]`. */
export const jailMatches: JailMatcher = (patterns, jail) =>
  patterns.some((p) => {
    if (!/[*?[]/.test(p)) return p === jail;
    let re = globCache.get(p);
    if (!re) globCache.set(p, (re = globToRegExp(p)));
    return re.test(jail);
  });

/** Family of an address or CIDR network as written by the parser; undefined for anything else. */
export function addressFamily(address: string): AddressFamily | undefined {
  const parsed = parseCidr(address);
  if (!parsed) return undefined;
  return parsed[0].kind() === 'ipv6' ? 'IPv6' : 'IPv4';
}

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

function parseCidr(address: string): Cidr | undefined {
  try {
    if (address.includes('/')) return ipaddr.parseCIDR(address);
    if (!ipaddr.isValid(address)) return undefined;
    const ip = ipaddr.parse(address);
    return [ip, ip.kind() === 'ipv6' ? 128 : 32];
  } catch {
    return undefined;
  }
}

function unmapped(c: Cidr): Cidr {
  const [ip, len] = c;
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress() && len >= 96) {
    return [(ip as ipaddr.IPv6).toIPv4Address(), len - 96];
  }
  return c;
}

/**
 * Predicate "never block this": true when the address (or network) overlaps any listed
 * address/network. A /16 ban that contains an admin's /32 must not be applied either.
 */
export function makeNeverBlock(cidrs: readonly string[]): (address: string) => boolean {
  const nets = cidrs.map((c) => {
    const p = parseCidr(c.trim());
    if (!p) throw new RangeError(`neverBlock: not an IP address or CIDR network: ${c}`);
    return unmapped(p);
  });
  return (address) => {
    const p = parseCidr(address);
    if (!p) return false;
    const [ip, len] = unmapped(p);
    return nets.some(([nip, nlen]) => nip.kind() === ip.kind() && ip.match(nip as never, Math.min(len, nlen)));
  };
}

export interface JailRoute {
  IPv4: GroupTarget[];
  IPv6: GroupTarget[];
  /** Mappings that take this jail but have no IPv6 group. */
  noIpv6: GroupMapping[];
}

/**
 * Routing table jail → targets, cached per jail name (jail names are few; events are many).
 * Several mappings naming the same group on the same firewall merge into one target.
 */
export class Router {
  private readonly cache = new Map<string, JailRoute>();
  private readonly allTargets = new Map<string, GroupTarget>();

  constructor(
    private readonly mappings: readonly GroupMapping[],
    private readonly matches: JailMatcher = jailMatches,
  ) {
    for (const m of mappings) {
      for (const t of targetsOf(m)) this.allTargets.set(t.key, t);
    }
  }

  /** Every group of every mapping (v4 and v6), once. */
  targets(): GroupTarget[] {
    return [...this.allTargets.values()];
  }

  route(jail: string): JailRoute {
    let r = this.cache.get(jail);
    if (r) return r;
    r = { IPv4: [], IPv6: [], noIpv6: [] };
    const seen = new Set<string>();
    for (const m of this.mappings) {
      if (!this.matches(m.jails, jail)) continue;
      for (const t of targetsOf(m)) {
        if (seen.has(t.key)) continue;
        seen.add(t.key);
        r[t.group.family].push(t);
      }
      if (m.ipv6Name === undefined) r.noIpv6.push(m);
    }
    this.cache.set(jail, r);
    return r;
  }
}

function targetsOf(m: GroupMapping): GroupTarget[] {
  const out: GroupTarget[] = [{ key: groupKey(m.firewall, m.name), firewall: m.firewall, group: { name: m.name, family: 'IPv4' } }];
  if (m.ipv6Name !== undefined) {
    out.push({ key: groupKey(m.firewall, m.ipv6Name), firewall: m.firewall, group: { name: m.ipv6Name, family: 'IPv6' } });
  }
  return out;
}
