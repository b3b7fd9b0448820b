/**
 * Lists mode (issue 12) for one group: its addresses live in owned IPList hosts of at most
 * `listSize` addresses. One instance per group, driven by the Reconciler.
 *
 * It keeps in memory what it wrote (`lists`), so an unban never reads the group back: the
 * firewall is read (`readLists` once, plus `readGroup` for per-address hosts) only at start, after
 * a failure and at each resync. Each pass plans with planLists and sends the plan's stages per its
 * contract: every gain before any list loses or leaves, and per-address hosts (an older version,
 * the one-shot commands) are removed only once the lists holding their addresses are in the group.
 * A failed write forgets the view, so the next pass re-reads and plans again.
 */
import type { FirewallPort, GroupRef, ListWrite } from '../xg/port.js';
import { listNamer, type ListNamer } from '../core/list-name.js';
import { planLists, type ListPlan } from './packing.js';
import { chunk } from './planner.js';

/** A canonical network ("198.51.100.0/24"): /32 and /128 are already plain addresses. */
const isNetwork = (a: string): boolean => a.includes('/');

export interface ListModeOptions {
  /** Addresses per IPList host (1 … 1000). */
  listSize: number;
  /** The firewall's hostPrefix: list names are `${hostPrefix}${group}.listN`. */
  hostPrefix: string;
}

/** What one pass wrote, for the reconciler's logs and latency notices. */
export interface ListPassResult {
  added: string[];
  removed: string[];
  /** Requests sent (writeLists calls and per-address removals). */
  writes: number;
}

export interface ListSyncInput {
  desired: ReadonlySet<string>;
  /** Held unbans: kept where they are, never added. */
  held: ReadonlySet<string>;
  /** Removals held (desired state not complete yet): nothing that stands is taken away. */
  holdRemovals: boolean;
  /** Addresses per per-address removal request (migration from hosts mode). */
  maxBatch: number;
  /** Called after each acknowledged request (the reconciler records the contact). */
  contact: () => void;
  /**
   * Of the removals this pass would make (owned addresses neither desired nor held), those to keep
   * where they are: the removal breaker's held orphans. `owned`: addresses the group holds now.
   */
  keep?: (removals: readonly string[], owned: number) => ReadonlySet<string>;
}

export interface ListStats {
  /** IPList hosts in the group, as last read or written. */
  lists: number;
  /** Per-address hosts still in the group (migration leftovers, held ones). */
  hosts: number;
  /** The fullest list's address count. */
  maxPerList: number;
  /** Addresses over all lists (÷ lists: the mean per list). */
  addressesInLists: number;
}

export class ListSync {
  readonly namer: ListNamer;
  /** The owned lists in the group as last read or written; undefined: read before planning. */
  private lists: Map<string, string[]> | undefined;
  /** Owned per-address hosts in the group (their addresses). */
  private hosts = new Set<string>();
  /** Every address blocked through an owned object of the group: lists ∪ hosts. */
  private standing = new Set<string>();

  constructor(
    private readonly port: FirewallPort,
    private readonly group: GroupRef,
    private readonly o: ListModeOptions,
  ) {
    this.namer = listNamer(o.hostPrefix, group.name);
  }

  /** What the group holds (the reconciler's `known`); undefined until read. */
  get known(): Set<string> | undefined {
    return this.lists ? this.standing : undefined;
  }

  /** Believe nothing: the next pass reads the firewall again. */
  forget(): void {
    this.lists = undefined;
  }

  stats(): ListStats {
    let max = 0;
    let total = 0;
    for (const l of this.lists?.values() ?? []) {
      max = Math.max(max, l.length);
      total += l.length;
    }
    return { lists: this.lists?.size ?? 0, hosts: this.lists ? this.hosts.size : 0, maxPerList: max, addressesInLists: total };
  }

  /** One pass: read if needed, plan, write. Throws on the first failed request (the view is forgotten). */
  async sync(input: ListSyncInput): Promise<ListPassResult> {
    const result: ListPassResult = { added: [], removed: [], writes: 0 };
    try {
      const lists = this.lists ?? (await this.read(input, result));
      input = this.keeping(input);
      const target = this.target(lists, input);
      const plan = planLists({ current: lists, desired: target, listSize: this.o.listSize, namer: this.namer });
      await this.write(plan, target, input, result);
      this.lists = plan.lists;
      await this.addNetworks(input, result);
      await this.retireHosts(input, result);
    } catch (err) {
      this.forget();
      throw err;
    }
    return result;
  }

  /**
   * The firewall as it stands. Owned lists outside the group (a crash, a hand edit) block nothing:
   * they are deleted first, so a new shard of the same name cannot collide with them.
   */
  private async read(input: ListSyncInput, result: ListPassResult): Promise<Map<string, string[]>> {
    const owned = await this.port.readLists(this.group);
    input.contact();
    const st = await this.port.readGroup(this.group);
    input.contact();
    // Deleted by hand since ensureGroup: create it again before lists join it.
    if (!st.exists) await this.port.ensureGroup(this.group);
    const lists = new Map<string, string[]>();
    const strays: ListWrite[] = [];
    for (const l of owned) {
      if (l.member) lists.set(l.name, l.addresses);
      else strays.push({ op: 'delete', name: l.name });
    }
    if (strays.length > 0) {
      await this.port.writeLists(this.group, strays);
      input.contact();
      result.writes++;
    }
    this.hosts = new Set(st.owned);
    this.standing = new Set(st.owned);
    for (const l of lists.values()) for (const a of l) this.standing.add(a);
    this.lists = lists;
    return lists;
  }

  /** The input with the removals its `keep` holds back added to `held` (kept, never added). */
  private keeping(input: ListSyncInput): ListSyncInput {
    if (!input.keep || input.holdRemovals) return input;
    const removals = [...this.standing].filter((a) => !input.desired.has(a) && !input.held.has(a));
    const kept = input.keep(removals, this.standing.size);
    if (kept.size === 0) return input;
    return { ...input, held: new Set([...input.held, ...kept]) };
  }

  /**
   * What the lists must hold: the desired set, plus what must stay (held unbans; anything while
   * removals are held). Networks are not in it: an IPList takes single addresses only (the XG
   * refuses a CIDR entry, 501), so they stay per-address Network hosts (addNetworks).
   */
  private target(lists: ReadonlyMap<string, readonly string[]>, input: ListSyncInput): Set<string> {
    const out = new Set<string>();
    for (const a of input.desired) if (!isNetwork(a)) out.add(a);
    for (const l of lists.values()) for (const a of l) if (input.holdRemovals || input.held.has(a)) out.add(a);
    return out;
  }

  /** The plan's stages per the packer's contract: gains first; the rest only after all of them landed. */
  private async write(plan: ListPlan, target: ReadonlySet<string>, input: ListSyncInput, result: ListPassResult): Promise<void> {
    const later = [...plan.group, ...plan.lose];
    const requests = plan.moved === 0 ? [[...plan.gain, ...later]] : [plan.gain, later];
    const before = this.lists ?? new Map<string, string[]>();
    for (const steps of requests) {
      if (steps.length === 0) continue;
      await this.port.writeLists(this.group, steps);
      input.contact();
      result.writes++;
    }
    for (const s of plan.gain) {
      if (s.op === 'delete') continue;
      for (const a of s.addresses) {
        if (this.standing.has(a)) continue;
        this.standing.add(a);
        result.added.push(a);
      }
    }
    // The plan's lists hold exactly `target`: what a rewritten list held outside it is gone.
    for (const s of [...plan.gain, ...later]) {
      for (const a of before.get(s.name) ?? []) {
        if (!target.has(a) && !this.hosts.has(a) && this.standing.delete(a)) result.removed.push(a);
      }
    }
  }

  /**
   * Desired networks (fail2ban's subnet bans) as per-address Network hosts, like hosts mode.
   * They leave through retireHosts once nothing keeps them.
   */
  private async addNetworks(input: ListSyncInput, result: ListPassResult): Promise<void> {
    const missing = [...input.desired].filter((a) => isNetwork(a) && !this.hosts.has(a)).sort();
    for (const batch of chunk(missing, input.maxBatch)) {
      await this.port.addToGroup(this.group, batch);
      input.contact();
      result.writes++;
      for (const a of batch) {
        this.hosts.add(a);
        if (!this.standing.has(a)) result.added.push(a);
        this.standing.add(a);
      }
    }
  }

  /**
   * Per-address hosts go once their address is in a list of the group (migration from hosts
   * mode), or when nothing keeps them (not desired, not held, removals not held).
   */
  private async retireHosts(input: ListSyncInput, result: ListPassResult): Promise<void> {
    if (this.hosts.size === 0) return;
    const inAnyList = new Set<string>();
    for (const l of this.lists?.values() ?? []) for (const a of l) if (this.hosts.has(a)) inAnyList.add(a);
    const retire = [...this.hosts]
      .filter((a) => inAnyList.has(a) || (!input.desired.has(a) && !input.held.has(a) && !input.holdRemovals))
      .sort();
    for (const batch of chunk(retire, input.maxBatch)) {
      await this.port.removeFromGroup(this.group, batch);
      input.contact();
      result.writes++;
      for (const a of batch) {
        this.hosts.delete(a);
        if (!inAnyList.has(a) && this.standing.delete(a)) result.removed.push(a);
      }
    }
  }
}
