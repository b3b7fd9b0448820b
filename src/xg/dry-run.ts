/**
 * Dry-run adapter: reads go to the real port, writes are printed instead of performed and kept in
 * an overlay, so later reads show them and a dry-run pipeline converges (prints each change once)
 * instead of planning the same writes on every pass. Lines carry group names, families and
 * addresses only — never credentials.
 */
import { listNamer } from '../core/list-name.js';
import type { FirewallPort, GroupRef, GroupState, ListWrite, OwnedHost, OwnedList } from './port.js';
import type { FirewallRuleView } from './port.js';
import { hostName } from './naming.js';
import { familyOf } from './address.js';

export interface DryRunOptions {
  print: (line: string) => void;
  /** The wrapped port's host prefix, so listOwnedHosts can show the hosts that would exist. */
  hostPrefix: string;
}

interface Overlay {
  family: GroupRef['family'];
  created: boolean;
  added: Set<string>;
  removed: Set<string>;
}

export class DryRunPort implements FirewallPort {
  private readonly overlays = new Map<string, Overlay>();
  /** Lists mode: group → list name → the list as printed (null: deleted). */
  private readonly listOverlays = new Map<string, Map<string, OwnedList | null>>();

  constructor(
    private readonly inner: FirewallPort,
    private readonly opts: DryRunOptions,
  ) {}

  checkLogin(): Promise<void> {
    return this.inner.checkLogin();
  }

  async ensureGroup(group: GroupRef): Promise<void> {
    const state = await this.readGroup(group);
    if (state.exists) return;
    this.overlay(group).created = true;
    this.opts.print(`DRY-RUN create group=${group.name} family=${group.family}`);
  }

  async readGroup(group: GroupRef): Promise<GroupState> {
    const base = await this.inner.readGroup(group);
    const o = this.overlays.get(group.name);
    if (!o) return base;
    const owned = new Set(base.owned);
    for (const a of o.added) owned.add(a);
    for (const a of o.removed) owned.delete(a);
    return { exists: base.exists || o.created, owned, foreign: base.foreign };
  }

  async addToGroup(group: GroupRef, addresses: readonly string[]): Promise<void> {
    const state = await this.readGroup(group);
    const todo = [...new Set(addresses)].filter((a) => !state.owned.has(a));
    if (todo.length === 0) return;
    const o = this.overlay(group);
    for (const a of todo) {
      o.added.add(a);
      o.removed.delete(a);
    }
    this.opts.print(`DRY-RUN add group=${group.name} family=${group.family} addresses=${todo.join(',')}`);
  }

  async removeFromGroup(group: GroupRef, addresses: readonly string[]): Promise<void> {
    const state = await this.readGroup(group);
    const todo = [...new Set(addresses)].filter((a) => state.owned.has(a));
    if (todo.length === 0) return;
    const o = this.overlay(group);
    for (const a of todo) {
      o.removed.add(a);
      o.added.delete(a);
    }
    this.opts.print(`DRY-RUN remove group=${group.name} family=${group.family} addresses=${todo.join(',')}`);
  }

  async listOwnedHosts(): Promise<OwnedHost[]> {
    const hosts = new Map<string, OwnedHost>();
    const touched = new Set<string>();
    for (const h of await this.inner.listOwnedHosts()) hosts.set(h.address, { ...h, groups: [...h.groups] });
    for (const [group, o] of this.overlays) {
      for (const a of o.added) {
        const h = hosts.get(a) ?? { name: hostName(this.opts.hostPrefix, a), address: a, family: familyOf(a) ?? o.family, groups: [] };
        if (!h.groups.includes(group)) h.groups.push(group);
        hosts.set(a, h);
      }
      for (const a of o.removed) {
        const h = hosts.get(a);
        if (h) h.groups = h.groups.filter((g) => g !== group);
        touched.add(a);
      }
    }
    // A host that would be in no group would have been deleted by the real port.
    return [...hosts.values()].filter((h) => h.groups.length > 0 || !touched.has(h.address));
  }

  /** A read: forwarded (rules are never written by any adapter). */
  readRules(): Promise<FirewallRuleView[]> {
    return this.inner.readRules();
  }

  /** The lists as the real port reads them, with the steps printed so far applied on top. */
  async readLists(group: GroupRef): Promise<OwnedList[]> {
    const base = await this.inner.readLists(group);
    const o = this.listOverlays.get(group.name);
    if (!o) return base;
    const out = new Map(base.map((l) => [l.name, l]));
    for (const [name, l] of o) {
      if (l) out.set(name, { ...l, addresses: [...l.addresses] });
      else out.delete(name);
    }
    return [...out.values()].sort((a, b) => a.shard - b.shard);
  }

  /** Prints each step as it would be sent (one line per list) and remembers it; writes nothing. */
  async writeLists(group: GroupRef, steps: readonly ListWrite[]): Promise<void> {
    const namer = listNamer(this.opts.hostPrefix, group.name);
    let o = this.listOverlays.get(group.name);
    if (!o) this.listOverlays.set(group.name, (o = new Map()));
    for (const step of steps) {
      const shard = namer.shardOf(step.name);
      if (shard === undefined) throw new RangeError(`${step.name} is not one of ${group.name}'s lists`);
      if (step.op === 'delete') {
        this.opts.print(`DRY-RUN list delete group=${group.name} name=${step.name}`);
        o.set(step.name, null);
        continue;
      }
      const what = step.op === 'leave' ? 'leave' : `${step.op} addresses(${step.addresses.length})=${step.addresses.join(',')}`;
      this.opts.print(`DRY-RUN list ${what} group=${group.name} family=${group.family} name=${step.name}`);
      const l = { name: step.name, shard, addresses: [...step.addresses], member: step.op !== 'leave' };
      o.set(step.name, l);
    }
  }
  close(): Promise<void> {
    return this.inner.close();
  }

  private overlay(group: GroupRef): Overlay {
    let o = this.overlays.get(group.name);
    if (!o) {
      o = { family: group.family, created: false, added: new Set(), removed: new Set() };
      this.overlays.set(group.name, o);
    }
    return o;
  }
}
