/**
 * In-memory firewall: the same port semantics as the XML API client, for pipeline tests and
 * the contract suite. It models the XG's objects (hosts, groups, membership from either side)
 * closely enough that foreign objects and other sidecars' hosts can be seeded and checked.
 */
import type { AddressFamily } from '../core/address.js';
import type { FirewallPort, GroupRef, GroupState, ListWrite, OwnedHost, OwnedList } from './port.js';
import type { FirewallRuleView } from './port.js';
import { hostName, isOwnedName } from './naming.js';
import { canonical, familyOf } from './address.js';
import { XgConflictError, XgNotFoundError, XgValidationError, type XgError } from './errors.js';
import { MemoryLists } from './memory-lists.js';
import type { MemGroup, MemHost } from './memory-objects.js';

export type { MemGroup, MemHost };

export class MemoryFirewall {
  readonly hosts = new Map<string, MemHost>();
  readonly groups = new Map<string, MemGroup>();
  /** Firewall rules, in order; tests seed them (the port only reads them). */
  readonly rules: FirewallRuleView[] = [];
  /** Counts of write operations, for tests that check batching and no-op avoidance. */
  writes = 0;
  /** When set, every call fails with this error (outage simulation). */
  failWith: Error | undefined;
  /** Called after every object written (tests sample what is blocked at each step). */
  onChange: (() => void) | undefined;

  port(prefix: string): FirewallPort {
    return new MemoryPort(this, prefix);
  }

  /** Seed an object this sidecar does not own (an admin's host, another sidecar's host). */
  addForeignHost(name: string, address: string, family: AddressFamily, groups: string[] = []): void {
    this.hosts.set(name, { name, address, family, groups: new Set(groups) });
    for (const g of groups) this.groups.get(g)?.members.add(name);
  }

  addGroup(name: string, family: AddressFamily): void {
    if (!this.groups.has(name)) this.groups.set(name, { name, family, members: new Set() });
  }

  /** Seed an IPList host as an admin (or an earlier version, or a hand edit) would. */
  addListHost(name: string, entries: string[], family: AddressFamily, groups: string[] = []): void {
    this.hosts.set(name, { name, address: '', family, groups: new Set(groups), list: [...entries] });
    for (const g of groups) this.groups.get(g)?.members.add(name);
  }

  /** Addresses of all members of a group (owned or not); an IPList member shows as `?name`. */
  memberAddresses(group: string): string[] {
    const g = this.groups.get(group);
    if (!g) return [];
    return [...g.members].map((n) => this.hosts.get(n)?.address || `?${n}`).sort();
  }

  /** Every address the group blocks: its IP hosts' and its IPLists' entries, sorted, once each. */
  blockedBy(group: string): string[] {
    const out = new Set<string>();
    for (const n of this.groups.get(group)?.members ?? []) {
      const h = this.hosts.get(n);
      for (const a of h?.list ?? (h ? [h.address] : [])) out.add(canonical(a) ?? a);
    }
    return [...out].sort();
  }

  changed(): void {
    this.onChange?.();
  }
}

class MemoryPort implements FirewallPort {
  constructor(
    private readonly fw: MemoryFirewall,
    private readonly prefix: string,
  ) {}

  private check(): void {
    if (this.fw.failWith) throw this.fw.failWith;
  }

  async checkLogin(): Promise<void> {
    this.check();
  }

  async ensureGroup(group: GroupRef): Promise<void> {
    this.check();
    const g = this.fw.groups.get(group.name);
    if (g) {
      if (g.family !== group.family) {
        throw new XgValidationError(`IP host group ${group.name} exists with family ${g.family}, expected ${group.family}`, {
          code: 'XG_GROUP_FAMILY_MISMATCH',
          name: group.name,
        });
      }
      return;
    }
    this.fw.writes++;
    this.fw.addGroup(group.name, group.family);
  }

  async readGroup(group: GroupRef): Promise<GroupState> {
    this.check();
    const g = this.fw.groups.get(group.name);
    if (!g) return { exists: false, owned: new Set(), foreign: 0 };
    const owned = new Set<string>();
    let foreign = 0;
    for (const name of g.members) {
      const h = this.fw.hosts.get(name);
      const ours = h !== undefined && isOwnedName(this.prefix, name);
      // Owned IPLists (lists mode) are ours but hold no one address: neither owned here nor foreign.
      if (ours && !h.list) owned.add(h.address);
      else if (!ours) foreign++;
    }
    return { exists: true, owned, foreign };
  }

  async addToGroup(group: GroupRef, input: readonly string[]): Promise<void> {
    this.check();
    // Like the client: one address has one spelling, so '2001:DB8::1' and '2001:db8::1' are one host.
    const addresses = [...new Set(input.map((a) => canonical(a) ?? a))];
    for (const address of addresses) {
      const fam = familyOf(address);
      if (fam !== group.family) {
        throw new XgValidationError(`${fam ?? 'invalid'} address ${address} cannot join ${group.family} group ${group.name}`, {
          code: fam ? 'XG_FAMILY_MISMATCH' : 'XG_BAD_ADDRESS',
          name: address,
        });
      }
    }
    const g = this.fw.groups.get(group.name);
    if (!g) throw new XgNotFoundError(`IP host group ${group.name} does not exist`, { code: 'XG_GROUP_MISSING', name: group.name });
    let changed = false;
    const conflicts: XgError[] = [];
    for (const address of addresses) {
      const name = hostName(this.prefix, address);
      let h = this.fw.hosts.get(name);
      if (!h) {
        // Like the XG (503): a second host with the same address is refused, whoever owns the first.
        if ([...this.fw.hosts.values()].some((o) => o.address === address)) {
          conflicts.push(
            new XgConflictError(`address ${address} is already held by an IP host this sidecar does not own`, {
              code: 'XG_FOREIGN_HOLDER',
              xgStatus: 503,
              name,
            }),
          );
          continue;
        }
        h = { name, address, family: group.family, groups: new Set() };
        this.fw.hosts.set(name, h);
        changed = true;
        this.fw.changed();
      } else if (h.address !== address) {
        // Like the client: a host under our name that holds another address is never rewritten.
        conflicts.push(
          new XgConflictError(`host ${name} exists but holds ${h.address} instead of ${address}`, { code: 'XG_HOST_MISMATCH', name }),
        );
        continue;
      }
      if (!h.groups.has(g.name)) {
        h.groups.add(g.name);
        g.members.add(name);
        changed = true;
        this.fw.changed();
      }
    }
    if (changed) this.fw.writes++;
    if (conflicts[0]) throw conflicts[0];
  }

  async removeFromGroup(group: GroupRef, input: readonly string[]): Promise<void> {
    this.check();
    const g = this.fw.groups.get(group.name);
    let changed = false;
    for (const address of new Set(input.map((a) => canonical(a) ?? a))) {
      const name = hostName(this.prefix, address);
      const h = this.fw.hosts.get(name);
      if (!h || !isOwnedName(this.prefix, name) || h.address !== address) continue;
      if (g && h.groups.delete(g.name)) {
        g.members.delete(name);
        changed = true;
        this.fw.changed();
      }
      if (h.groups.size === 0) {
        this.fw.hosts.delete(name);
        changed = true;
        this.fw.changed();
      }
    }
    if (changed) this.fw.writes++;
  }

  async listOwnedHosts(): Promise<OwnedHost[]> {
    this.check();
    return [...this.fw.hosts.values()]
      .filter((h) => isOwnedName(this.prefix, h.name) && !h.list)
      .map((h) => ({ name: h.name, address: h.address, family: h.family, groups: [...h.groups] }));
  }

  async readRules(): Promise<FirewallRuleView[]> {
    this.check();
    return this.fw.rules.map((r) => ({ ...r, sourceNetworks: [...r.sourceNetworks], destinationNetworks: [...r.destinationNetworks] }));
  }

  async readLists(group: GroupRef): Promise<OwnedList[]> {
    this.check();
    return new MemoryLists(this.fw, this.prefix, group).read();
  }

  async writeLists(group: GroupRef, steps: readonly ListWrite[]): Promise<void> {
    this.check();
    if (steps.length === 0) return;
    this.fw.writes++;
    new MemoryLists(this.fw, this.prefix, group).write(steps);
  }
  async close(): Promise<void> {}
}
