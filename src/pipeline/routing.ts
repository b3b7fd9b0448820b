/**
 * Which firewall groups an event feeds. Pure. Jail globs come from the shared core, the same
 * code the config validates them with, so the pipeline matches exactly what the config accepted.
 */
import { jailMatches } from '../core/glob.js';
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
