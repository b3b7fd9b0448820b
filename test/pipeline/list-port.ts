// A small in-test firewall double for lists mode: per-address hosts and IPList hosts over Maps,
// every request delayed on the virtual scheduler, the group's blocked set sampled after every
// applied entity (the XG applies the entities of one request one by one).
import { firstValueFrom, timer, type SchedulerLike } from 'rxjs';
import type { FirewallPort, FirewallRuleView, GroupRef, GroupState, ListWrite, OwnedHost, OwnedList } from '../../src/xg/port.js';
import { listNamer } from '../../src/core/list-name.js';

export interface Request {
  kind: 'read' | 'write';
  method: string;
  at: number;
  /** Objects read, or list steps / addresses written. */
  objects: number;
}

class XgRefused extends Error {
  readonly retryable = false;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class ListPort implements FirewallPort {
  readonly groups = new Set<string>();
  /** IPList hosts: name → content and the groups it is in. */
  readonly lists = new Map<string, { addresses: string[]; groups: Set<string> }>();
  /** Per-address hosts: address → groups. */
  readonly hosts = new Map<string, Set<string>>();
  readonly requests: Request[] = [];
  /** Blocked set of the watched group after every applied entity. */
  readonly samples: Set<string>[] = [];
  watch: string | undefined;
  /** Fail the writeLists call with this index (0-based) at this step index. */
  failAt: { call: number; step: number } | undefined;
  private writeCalls = 0;

  constructor(
    private readonly scheduler: SchedulerLike,
    private readonly prefix = 'f2b_',
    readonly writeMs = 6000,
    readonly readMs = 1000,
  ) {}

  blocked(group: string): Set<string> {
    const out = new Set<string>();
    for (const l of this.lists.values()) if (l.groups.has(group)) for (const a of l.addresses) out.add(a);
    for (const [a, gs] of this.hosts) if (gs.has(group)) out.add(a);
    return out;
  }

  count(method: string): number {
    return this.requests.filter((r) => r.method === method).length;
  }

  async checkLogin(): Promise<void> {}

  async ensureGroup(group: GroupRef): Promise<void> {
    if (this.groups.has(group.name)) return this.request('read', 'ensureGroup', 1);
    await this.request('write', 'ensureGroup', 1);
    this.groups.add(group.name);
  }

  async readGroup(group: GroupRef): Promise<GroupState> {
    const owned = new Set([...this.hosts].filter(([, gs]) => gs.has(group.name)).map(([a]) => a));
    await this.request('read', 'readGroup', owned.size);
    return { exists: this.groups.has(group.name), owned, foreign: 0 };
  }

  async addToGroup(group: GroupRef, addresses: readonly string[]): Promise<void> {
    await this.request('write', 'addToGroup', addresses.length);
    for (const a of addresses) {
      const gs = this.hosts.get(a) ?? new Set<string>();
      gs.add(group.name);
      this.hosts.set(a, gs);
      this.sample();
    }
  }

  async removeFromGroup(group: GroupRef, addresses: readonly string[]): Promise<void> {
    await this.request('write', 'removeFromGroup', addresses.length);
    for (const a of addresses) {
      const gs = this.hosts.get(a);
      gs?.delete(group.name);
      if (gs?.size === 0) this.hosts.delete(a);
      this.sample();
    }
  }

  async readRules(): Promise<FirewallRuleView[]> {
    return [];
  }

  async listOwnedHosts(): Promise<OwnedHost[]> {
    return [];
  }

  async readLists(group: GroupRef): Promise<OwnedList[]> {
    const namer = listNamer(this.prefix, group.name);
    const out: OwnedList[] = [];
    for (const [name, l] of this.lists) {
      const shard = namer.shardOf(name);
      if (shard !== undefined) out.push({ name, shard, addresses: [...l.addresses], member: l.groups.has(group.name) });
    }
    await this.request('read', 'readLists', out.length);
    return out;
  }

  async writeLists(group: GroupRef, steps: readonly ListWrite[]): Promise<void> {
    const call = this.writeCalls++;
    await this.request('write', 'writeLists', steps.length);
    steps.forEach((s, i) => {
      if (this.failAt?.call === call && this.failAt.step === i) throw new XgRefused('XG_TEST', `step ${i} refused`);
      this.apply(group, s);
      this.sample();
    });
  }

  async close(): Promise<void> {}

  private apply(group: GroupRef, s: ListWrite): void {
    const l = this.lists.get(s.name);
    if (s.op === 'delete') {
      if (!l) return;
      if (l.groups.size > 0) throw new XgRefused('XG_IN_USE', `${s.name} is a group member (510)`);
      this.lists.delete(s.name);
      return;
    }
    if (s.addresses.some((a) => a.includes('/'))) throw new XgRefused('XG_INVALID', `${s.name}: a network in an IPList (501)`);
    if (s.addresses.length === 0 || s.addresses.length > 1000)
      throw new XgRefused('XG_INVALID', `${s.name}: ${s.addresses.length} addresses (501)`);
    if (s.op === 'create' && l) throw new XgRefused('XG_EXISTS', `${s.name} exists (502)`);
    if (s.op !== 'create' && !l) throw new XgRefused('XG_MISSING', `${s.name} does not exist`);
    const groups = new Set(l?.groups ?? []);
    if (s.op === 'leave') groups.delete(group.name);
    else groups.add(group.name);
    this.lists.set(s.name, { addresses: [...s.addresses], groups });
  }

  private sample(): void {
    if (this.watch) this.samples.push(this.blocked(this.watch));
  }

  private async request(kind: 'read' | 'write', method: string, objects: number): Promise<void> {
    await firstValueFrom(timer(kind === 'write' ? this.writeMs : this.readMs, this.scheduler));
    this.requests.push({ kind, method, at: this.scheduler.now(), objects });
  }
}
