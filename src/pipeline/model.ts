/**
 * The desired state: which addresses each fail2ban jail holds, and from that (through routing)
 * which addresses each firewall group must contain. Pure: no I/O, time is a parameter.
 *
 * The model stores fail2ban's view (address → (source, jail) → entry) and projects it onto groups,
 * so the reference count per source and jail falls out naturally (an address stays in a group while
 * any jail of any source feeding that group holds it) and a changed mapping applies to the stored
 * bans after a restart.
 *
 * Sources (issue 13): a fleet's fail2ban hosts each log their own events; the source names the host
 * ('' = the single log of a one-host setup). Everything that belongs to one fail2ban server is kept
 * per source: its PID, its stop sequence, its jails' restores, the newest line time (each host has
 * its own clock and time zone). A restart, reload, jail stop or crash of one host only ever touches
 * the entries of that host; another host's hold on the same address keeps it blocked.
 *
 * Entry states:
 *  - active:    the jail bans the address.
 *  - unbanning: an Unban arrived but may be a stop-Unban (fail2ban ≤1.1.0 logs Unban for every
 *               ticket when a jail stops); held for stopUnbanWindowMs, then a real removal.
 *  - suspended: the jail (or the server) stopped with the ban still in fail2ban's database; stays
 *               blocked until the jail restarts and fails to re-announce it within restoreGraceMs
 *               of the jail's start or of its latest Restore Ban (a restore of thousands takes
 *               minutes, one line at a time), or for at most maxSuspendMs. A start with no stop
 *               before it (a server start with a new PID, or a jail start of a jail already seen
 *               started) means the host crashed: its entries are suspended the same way.
 * Per group an address is therefore in one of three classes:
 *  - desired: some jail feeding the group holds it active or suspended → must be on the firewall;
 *  - held:    only held unbans keep it → the firewall is left as it is (neither added nor removed)
 *             until the hold resolves, so neither a ban lifted at once nor a stop/start cycle
 *             ever causes a write;
 *  - absent:  must not be on the firewall.
 */
import { addressFamily, type AddressFamily } from '../core/address.js';
import { isValidSourceName } from '../core/source-name.js';
import type { F2bEvent } from '../parser/types.js';
import { timeOf } from './event-time.js';
import type { FloorReason, FloorVerdict } from './floor.js';
import { Router, type GroupMapping, type JailMatcher } from './routing.js';

export type EntryState = 'active' | 'unbanning' | 'suspended';

export interface JailEntry {
  state: EntryState;
  /** When the entry entered its state (scheduler ms). */
  at: number;
  /** Suspended only: removal deadline set when the jail started again. */
  restoreBy?: number;
}

export interface SuspendOptions {
  stopUnbanWindowMs: number;
  restoreGraceMs: number;
  maxSuspendMs: number;
}

export const DEFAULT_SUSPEND: SuspendOptions = { stopUnbanWindowMs: 5000, restoreGraceMs: 60_000, maxSuspendMs: 86_400_000 };

/**
 * What may be banned: the floor (floor.ts makeFloor) gives a verdict with its reason; a plain
 * never-block test (true = refused) is still accepted, for tools that have only a list.
 */
export type TargetCheck = (address: string) => FloorVerdict | boolean;

/** A Ban line this much older than the newest line already seen is history (a replaced log). */
export const DEFAULT_MAX_LINE_AGE_MS = 86_400_000;

export interface ModelOptions {
  groups: readonly GroupMapping[];
  neverBlock: TargetCheck;
  /**
   * Lines whose time stamp is more than this before the newest line seen (from the same source)
   * are not news: a log replaced by an older one (or a stale copy) must not bring back its bans
   * nor its unbans. Default DEFAULT_MAX_LINE_AGE_MS; 0 turns the check off.
   */
  maxLineAgeMs?: number;
  jailMatches?: JailMatcher;
  suspend: SuspendOptions;
}

export interface GroupChange {
  key: string;
  address: string;
  /** add: now desired; hold: was desired, now only held; remove: no longer desired nor held. */
  op: 'add' | 'hold' | 'remove';
}

/** Things worth a log line that are not group changes. */
export type Note =
  | { kind: 'unrouted' | 'invalid-address' | 'unknown-unban'; jail: string; address: string }
  /** Refused by the floor: never-block (also in an embedded form) or any other floor reason. */
  | { kind: 'never-block' | 'refused'; jail: string; address: string; reason: FloorReason; detail: string; groups: readonly string[] }
  /** The first of a run of lines older than maxLineAgeMs before the newest seen; `newest` is its time stamp. */
  | { kind: 'stale-log'; time: string; newest: string; source?: string }
  | { kind: 'no-ipv6-group'; jail: string; address: string; groups: string[] }
  | { kind: 'held' | 'suspended' | 'reactivated' | 'expired-unban' | 'not-restored' | 'max-suspend'; jail: string; address: string }
  /** A server start with a new PID and no stop sequence before it; `source` only for a named source. */
  | { kind: 'crash-restart'; pid: number; suspended: number; source?: string }
  /** A jail start of a jail seen started with no stop since (its host crashed and came back). */
  | { kind: 'jail-restart'; source: string; jail: string; suspended: number }
  | { kind: 'restore-grace'; jail: string; suspended: number }
  /** forget(): the source's `slots` were dropped; `removed` group changes lift what only it held. */
  | { kind: 'forgot'; source: string; slots: number; removed: number }
  /** A line its transport delivered again (intake's RepeatFilter): dropped; `run` counts from 1 per run of repeats. */
  | { kind: 'repeat'; source: string; line: string; run: number };

export interface Effects {
  changes: GroupChange[];
  notes: Note[];
  /** Earliest new deadline this step created (a timer must fire by then), if any. */
  deadline?: number;
}

export interface ModelCounters {
  neverBlocked: number;
  skippedIpv6: number;
  unrouted: number;
  invalid: number;
}

/** One source as status and metrics show it (DesiredModel.sources()). */
export interface SourceView {
  /** '' = the single log of a one-host setup. */
  source: string;
  /** (address, jail) holds of this source, in any state; kept up to date as slots come and go. */
  slots: number;
  /** Of these, held unbans and suspensions. */
  waiting: number;
  /** Last fail2ban-server PID seen from it. */
  pid?: number;
  /** Inside a stop sequence of its server. */
  stopping: boolean;
  /** Time stamp of its newest line (its own local time, ISO without offset), if it had one. */
  newestLine?: string;
  /** Events applied from it since this process started (stale ones included). */
  events: number;
  /** Scheduler time (epoch ms in production) of its last event; kept across restarts. */
  lastEventAt?: number;
}

/**
 * One source's fail2ban server as the model follows it. One per source (a few hundred bytes),
 * never one per address: memory grows with addresses, not with sources.
 */
interface SourceState {
  name: string;
  /** Last fail2ban-server PID seen. */
  pid: number | undefined;
  /** Inside a server stop sequence (Shutdown in progress / Stopping all jails … Exiting). */
  stopping: boolean;
  /** Time stamp (ms, fail2ban's local time read as UTC: only differences count) of the newest line. */
  newestLine: number | undefined;
  /** Inside a run of stale lines (reported once per run). */
  inStale: boolean;
  /**
   * jail → time of its start or of its latest Restore Ban since then: the grace of its suspended
   * entries runs from here, so a restore still under way (one line per ban, minutes for
   * thousands) never lets the grace lapse in its middle. Bounded by the number of jails.
   */
  restoring: Map<string, number>;
  /**
   * Jails seen started with no Jail stopped since. fail2ban logs "Jail 'x' started" again only
   * after "Jail 'x' stopped" (a reload says "reloaded"), so a start of one of these is a restart
   * after a crash even when no server start with a new PID was seen (a container's fixed PID).
   */
  started: Set<string>;
  /** jail → the one Holder every slot of this source and jail shares. */
  holders: Map<string, Holder>;
  /** Slots held, and of these not active: counted as they change (status reads them often). */
  slots: number;
  waiting: number;
  events: number;
  lastEventAt: number | undefined;
}

/** Who holds a slot: (source, jail), interned, with the jail's group keys at hand. */
interface Holder {
  source: SourceState;
  /** The cached jail name: every slot of a jail shares one string (each log line brings its own copy). */
  jail: string;
  info: JailInfo;
}

/**
 * One (source, jail)'s hold on one address. An address's slots form a short singly linked list
 * (almost always one slot): at 100,000 addresses a Map and an entry object per address cost ~30 MB
 * more. The holder is a shared object, so naming the source costs a slot nothing.
 */
interface Slot {
  by: Holder;
  state: EntryState;
  at: number;
  restoreBy: number | undefined;
  next: Slot | undefined;
}

/** Per jail name: the one string all its slots share, and the group keys it feeds per family. */
interface JailInfo extends Record<AddressFamily, readonly string[]> {
  name: string;
}

/** Addresses in the model are validated on the way in: a colon is enough to tell the family. */
const familyOf = (address: string): AddressFamily => (address.includes(':') ? 'IPv6' : 'IPv4');

const entryOf = (s: Slot): JailEntry =>
  s.restoreBy === undefined ? { state: s.state, at: s.at } : { state: s.state, at: s.at, restoreBy: s.restoreBy };

export class DesiredModel {
  readonly router: Router;
  /** address → its slots */
  private readonly slots = new Map<string, Slot>();
  /** group key → addresses that must be in the group */
  readonly desired = new Map<string, Set<string>>();
  /** group key → addresses kept only by held unbans: leave the firewall as it is */
  readonly held = new Map<string, Set<string>>();
  /** Index of the slots that are not active (slot → its address), so timers never scan everything. */
  private readonly waiting = new Map<Slot, string>();
  /** jail → family → group keys (routing is fixed for the model's life; route() would allocate). */
  private readonly keyCache = new Map<string, JailInfo>();
  /** source name → its server's state. */
  private readonly sourceMap = new Map<string, SourceState>();
  readonly counters: ModelCounters = { neverBlocked: 0, skippedIpv6: 0, unrouted: 0, invalid: 0 };

  constructor(readonly opts: ModelOptions) {
    this.router = new Router(opts.groups, opts.jailMatches);
    for (const t of this.router.targets()) {
      this.desired.set(t.key, new Set());
      this.held.set(t.key, new Set());
    }
  }

  /** Last fail2ban-server PID of the single log (source ''). */
  get pid(): number | undefined {
    return this.sourceMap.get('')?.pid;
  }

  /** Whether the single log's server (source '') is inside a stop sequence. */
  get stopping(): boolean {
    return this.sourceMap.get('')?.stopping ?? false;
  }

  /** Newest line time of the single log (source ''); see SourceState.newestLine. */
  get newestLine(): number | undefined {
    return this.sourceMap.get('')?.newestLine;
  }

  get waitingCount(): number {
    return this.waiting.size;
  }

  /** Addresses some jail of some source holds (in any state). */
  get size(): number {
    return this.slots.size;
  }

  /**
   * Every source seen (by name), with the slots it holds. The counts are kept as slots change, so
   * this costs O(sources), not O(addresses): status and metrics call it at every report.
   */
  sources(): SourceView[] {
    const out: SourceView[] = [];
    for (const s of this.sourceMap.values()) {
      const v: SourceView = { source: s.name, slots: s.slots, waiting: s.waiting, stopping: s.stopping, events: s.events };
      if (s.pid !== undefined) v.pid = s.pid;
      if (s.newestLine !== undefined) v.newestLine = new Date(s.newestLine).toISOString().slice(0, 23);
      if (s.lastEventAt !== undefined) v.lastEventAt = s.lastEventAt;
      out.push(v);
    }
    return out.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  }

  /** The entry of `jail` of `source` for `address`, as a copy. */
  entry(address: string, jail: string, source = ''): JailEntry | undefined {
    const by = this.sourceMap.get(source)?.holders.get(jail);
    const s = by && this.slot(address, by);
    return s && entryOf(s);
  }

  /** Every (address, source, jail) entry, as copies. */
  *list(): Generator<{ address: string; family: AddressFamily; source: string; jail: string; entry: JailEntry }> {
    for (const [address, first] of this.slots) {
      for (let s: Slot | undefined = first; s; s = s.next)
        yield { address, family: familyOf(address), source: s.by.source.name, jail: s.by.jail, entry: entryOf(s) };
    }
  }

  private slot(address: string, by: Holder): Slot | undefined {
    for (let s = this.slots.get(address); s; s = s.next) if (s.by === by) return s;
    return undefined;
  }

  private sourceOf(name: string): SourceState {
    let s = this.sourceMap.get(name);
    if (!s) {
      s = {
        name,
        pid: undefined,
        stopping: false,
        newestLine: undefined,
        inStale: false,
        restoring: new Map(),
        started: new Set(),
        holders: new Map(),
        slots: 0,
        waiting: 0,
        events: 0,
        lastEventAt: undefined,
      };
      this.sourceMap.set(name, s);
    }
    return s;
  }

  private holderOf(src: SourceState, jail: string): Holder {
    let h = src.holders.get(jail);
    if (!h) {
      const info = this.jailInfo(jail);
      src.holders.set(info.name, (h = { source: src, jail: info.name, info }));
    }
    return h;
  }

  /**
   * Applies one fail2ban event logged by `source` ('' = the single log) at time `now`. Resolve
   * due timers with expire(now) first.
   */
  apply(ev: F2bEvent, now: number, source = ''): Effects {
    const fx: Effects = { changes: [], notes: [] };
    const src = this.sourceOf(source);
    src.events++;
    src.lastEventAt = now;
    if (this.stale(src, ev, fx)) return fx;
    if (ev.pid !== undefined && ev.type !== 'server-start') src.pid = ev.pid;
    const jail = ev.jail;
    switch (ev.type) {
      case 'ban':
      case 'restore-ban':
      case 'already-banned':
        if (ev.type === 'restore-ban' && jail !== undefined && src.restoring.has(jail)) src.restoring.set(jail, now);
        if (jail !== undefined && ev.ip !== undefined) this.ban(this.holderOf(src, jail), ev.ip, ev.family, now, fx);
        break;
      case 'unban':
        if (jail !== undefined && ev.ip !== undefined) this.unban(src, jail, ev.ip, src.stopping ? 'suspended' : 'unbanning', now, fx);
        break;
      case 'repeal-ban':
        if (jail !== undefined && ev.ip !== undefined) this.unban(src, jail, ev.ip, 'suspended', now, fx);
        break;
      case 'jail-stop':
        if (jail !== undefined) this.jailStopped(src, jail, now, fx);
        break;
      case 'jail-start':
        if (jail !== undefined) this.jailStarted(src, jail, now, fx);
        break;
      case 'server-stopping':
        this.serverStopping(src, fx);
        break;
      case 'server-stop':
        // The server is gone cleanly: the next start is not a crash-restart.
        src.stopping = false;
        src.pid = undefined;
        src.started.clear();
        break;
      case 'server-start':
        this.serverStarted(src, ev.pid, now, fx);
        break;
      case 'log-reopened':
        break;
    }
    return fx;
  }

  /**
   * A line far older than the newest one seen from its source is history, not news: a log
   * replaced by a year-old one would otherwise push its standing bans (and lift live ones with its
   * Unbans). Per source: each host has its own clock and time zone. Lines without a time stamp
   * are always news.
   */
  private stale(src: SourceState, ev: F2bEvent, fx: Effects): boolean {
    const bound = this.opts.maxLineAgeMs ?? DEFAULT_MAX_LINE_AGE_MS;
    const t = timeOf(ev);
    if (Number.isNaN(t)) return false;
    if (bound > 0 && src.newestLine !== undefined && t < src.newestLine - bound) {
      if (!src.inStale) {
        const newest = new Date(src.newestLine).toISOString().slice(0, 23);
        fx.notes.push({ kind: 'stale-log', time: ev.isoTime ?? '', newest, ...(src.name && { source: src.name }) });
      }
      src.inStale = true;
      return true;
    }
    src.inStale = false;
    if (src.newestLine === undefined || t > src.newestLine) src.newestLine = t;
    return false;
  }

  /**
   * Retires a source (an operator's request: the host was decommissioned): drops every slot it
   * holds and everything the model kept about its server. The changes lift what only that source
   * held; an address another source (or another jail) still holds stays. Nothing waits on a
   * timer, so `_now` is only there to match apply/expire.
   */
  forget(source: string, _now: number): Effects & { slots: number } {
    const fx: Effects = { changes: [], notes: [] };
    const src = this.sourceMap.get(source);
    let slots = 0;
    if (src) {
      // Deleting the visited entry while iterating a Map is safe; the list is walked by `next`.
      for (const [address, first] of this.slots) {
        for (let s: Slot | undefined = first; s;) {
          const next: Slot | undefined = s.next;
          if (s.by.source === src) {
            this.remove(s, address, fx);
            slots++;
          }
          s = next;
        }
      }
      this.sourceMap.delete(source);
    }
    const removed = fx.changes.filter((c) => c.op === 'remove').length;
    fx.notes.push({ kind: 'forgot', source, slots, removed });
    return { ...fx, slots };
  }

  /** Resolves held unbans and suspensions whose time is up; returns the next deadline too. */
  expire(now: number): Effects & { next?: number } {
    const fx: Effects & { next?: number } = { changes: [], notes: [] };
    let next = Infinity;
    for (const e of [...this.waiting.keys()]) {
      const address = this.waiting.get(e);
      if (address === undefined) continue;
      if (e.state === 'active') {
        this.unwait(e);
        continue;
      }
      const d = this.deadlineOf(e);
      if (d <= now && this.extendGrace(e, now)) {
        next = Math.min(next, this.deadlineOf(e));
        continue;
      }
      if (d <= now) {
        const kind =
          e.state === 'unbanning' ? 'expired-unban' : e.restoreBy !== undefined && e.restoreBy <= now ? 'not-restored' : 'max-suspend';
        fx.notes.push({ kind, jail: e.by.jail, address });
        this.remove(e, address, fx);
      } else next = Math.min(next, d);
    }
    if (next !== Infinity) fx.next = next;
    return fx;
  }

  /**
   * A suspended entry whose restore grace ran out while its jail's restore is still under way (a
   * Restore Ban within the grace): move its deadline to the latest Restore Ban + grace. Lazily,
   * here, so a Restore Ban costs O(1) and not a pass over every suspended entry of its jail; the
   * maxSuspendMs bound still applies (deadlineOf). True when the entry got a later deadline.
   */
  private extendGrace(e: Slot, now: number): boolean {
    if (e.state !== 'suspended' || e.restoreBy === undefined || e.restoreBy > now) return false;
    const last = e.by.source.restoring.get(e.by.jail);
    if (last === undefined) return false;
    const by = last + this.opts.suspend.restoreGraceMs;
    if (by <= now || by <= e.restoreBy) return false;
    e.restoreBy = by;
    return this.deadlineOf(e) > now;
  }

  /** Earliest pending deadline (full scan of waiting entries), for start-up after a load. */
  nextDeadline(): number | undefined {
    let next = Infinity;
    for (const e of this.waiting.keys()) if (e.state !== 'active') next = Math.min(next, this.deadlineOf(e));
    return next === Infinity ? undefined : next;
  }

  /**
   * Addresses of a group kept only by suspended entries (desired, no jail holds them active).
   * Such an address has a suspended entry, so the waiting index (usually small) is enough: this
   * runs for every status report, and scanning every desired address there cost 100,000
   * allocations per report.
   */
  suspendedIn(key: string): number {
    const desired = this.desired.get(key);
    if (!desired || this.waiting.size === 0) return 0;
    // An address waits once per (source, jail): count it once.
    const seen = new Set<string>();
    let n = 0;
    for (const address of this.waiting.values()) {
      if (seen.has(address) || !desired.has(address)) continue;
      seen.add(address);
      const family = familyOf(address);
      let live = false;
      for (let s = this.slots.get(address); s && !live; s = s.next) {
        live = s.state === 'active' && s.by.info[family].includes(key);
      }
      if (!live) n++;
    }
    return n;
  }

  private classOf(address: string, key: string): 'desired' | 'held' | 'absent' {
    const family = familyOf(address);
    let held = false;
    for (let s = this.slots.get(address); s; s = s.next) {
      if (!s.by.info[family].includes(key)) continue;
      if (s.state !== 'unbanning') return 'desired';
      held = true;
    }
    return held ? 'held' : 'absent';
  }

  /** Re-derives the address's class in the given groups after one of its entries changed. */
  private refresh(address: string, keys: readonly string[], fx: Effects | undefined): void {
    for (const key of keys) {
      const desired = this.desired.get(key);
      const held = this.held.get(key);
      if (!desired || !held) continue;
      const prev = desired.has(address) ? 'desired' : held.has(address) ? 'held' : 'absent';
      const next = this.classOf(address, key);
      if (prev === next) continue;
      if (prev === 'desired') desired.delete(address);
      else if (prev === 'held') held.delete(address);
      if (next === 'desired') desired.add(address);
      else if (next === 'held') held.add(address);
      const op = next === 'desired' ? 'add' : next === 'held' ? 'hold' : 'remove';
      // absent → held cannot happen from events (entries are born active); nothing to write anyway.
      if (fx && !(prev === 'absent' && next === 'held')) fx.changes.push({ key, address, op });
    }
  }

  private deadlineOf(e: { state: EntryState; at: number; restoreBy?: number | undefined }): number {
    const s = this.opts.suspend;
    if (e.state === 'unbanning') return e.at + s.stopUnbanWindowMs;
    return Math.min(e.at + s.maxSuspendMs, e.restoreBy ?? Infinity);
  }

  private jailInfo(jail: string): JailInfo {
    let k = this.keyCache.get(jail);
    if (!k) {
      const r = this.router.route(jail);
      this.keyCache.set(jail, (k = { name: jail, IPv4: r.IPv4.map((t) => t.key), IPv6: r.IPv6.map((t) => t.key) }));
    }
    return k;
  }

  private ban(by: Holder, address: string, fam: AddressFamily | undefined, now: number, fx: Effects): void {
    const jail = by.jail;
    const family = fam ?? addressFamily(address);
    if (!family) {
      this.counters.invalid++;
      fx.notes.push({ kind: 'invalid-address', jail, address });
      return;
    }
    const existing = this.slot(address, by);
    if (existing) {
      const was = existing.state;
      if (was !== 'active') {
        this.unwait(existing);
        fx.notes.push({ kind: 'reactivated', jail, address });
        existing.at = now;
      }
      existing.state = 'active';
      existing.restoreBy = undefined;
      if (was === 'unbanning') this.refresh(address, by.info[family], fx);
      return;
    }
    const verdict = verdictOf(this.opts.neverBlock(address));
    if (!verdict.allow) {
      const never = verdict.reason === 'never-block' || verdict.reason === 'never-block-embedded';
      if (never) this.counters.neverBlocked++;
      const groups = by.info[family];
      fx.notes.push({ kind: never ? 'never-block' : 'refused', jail, address, reason: verdict.reason, detail: verdict.detail, groups });
      return;
    }
    const route = this.router.route(jail);
    if (family === 'IPv6' && route.noIpv6.length > 0) {
      this.counters.skippedIpv6++;
      fx.notes.push({ kind: 'no-ipv6-group', jail, address, groups: route.noIpv6.map((m) => `${m.firewall}/${m.name}`) });
    }
    const keys = by.info[family];
    if (keys.length === 0) {
      if (route.noIpv6.length === 0) {
        this.counters.unrouted++;
        fx.notes.push({ kind: 'unrouted', jail, address });
      }
      return;
    }
    this.addSlot(address, by, 'active', now, undefined);
    this.refresh(address, keys, fx);
  }

  private addSlot(address: string, by: Holder, state: EntryState, at: number, restoreBy: number | undefined): Slot {
    const s: Slot = { by, state, at, restoreBy, next: this.slots.get(address) };
    this.slots.set(address, s);
    by.source.slots++;
    return s;
  }

  /** Puts a slot in the waiting index (idempotent). */
  private wait(e: Slot, address: string): void {
    if (this.waiting.has(e)) return;
    this.waiting.set(e, address);
    e.by.source.waiting++;
  }

  private unwait(e: Slot): void {
    if (this.waiting.delete(e)) e.by.source.waiting--;
  }

  private unban(src: SourceState, jail: string, address: string, to: 'unbanning' | 'suspended', now: number, fx: Effects): void {
    const by = src.holders.get(jail);
    const e = by && this.slot(address, by);
    if (!e) {
      fx.notes.push({ kind: 'unknown-unban', jail, address });
      return;
    }
    // A second Unban never shortens a suspension, and never restarts a running hold.
    if (e.state === 'suspended' || e.state === to) return;
    this.setWaiting(e, address, to, now, undefined, fx);
    fx.notes.push({ kind: to === 'unbanning' ? 'held' : 'suspended', jail: e.by.jail, address });
  }

  private setWaiting(
    e: Slot,
    address: string,
    state: 'unbanning' | 'suspended',
    at: number,
    restoreBy: number | undefined,
    fx: Effects,
  ): void {
    const before = e.state;
    e.state = state;
    e.at = at;
    e.restoreBy = restoreBy;
    this.wait(e, address);
    if ((before === 'unbanning') !== (state === 'unbanning')) this.refresh(address, e.by.info[familyOf(address)], fx);
    const d = this.deadlineOf(e);
    if (fx.deadline === undefined || d < fx.deadline) fx.deadline = d;
  }

  /** The waiting slots of a source (of one jail, or all), from a copy of the index. */
  private *waitingOf(src: SourceState, jail: string | undefined): Generator<[string, Slot]> {
    if (src.waiting === 0) return;
    for (const e of [...this.waiting.keys()]) {
      if (e.by.source !== src || (jail !== undefined && e.by.jail !== jail)) continue;
      const address = this.waiting.get(e);
      if (address !== undefined) yield [address, e];
    }
  }

  /** Suspends every slot of the source (of one jail, or all) not suspended yet; returns how many. */
  private suspendAll(src: SourceState, jail: string | undefined, now: number, restoreBy: number | undefined, fx: Effects): number {
    let n = 0;
    if (src.slots === 0) return 0;
    for (const [address, first] of this.slots) {
      for (let e: Slot | undefined = first; e; e = e.next) {
        if (e.by.source !== src || e.state === 'suspended' || (jail !== undefined && e.by.jail !== jail)) continue;
        this.setWaiting(e, address, 'suspended', now, restoreBy, fx);
        n++;
      }
    }
    return n;
  }

  private jailStopped(src: SourceState, jail: string, now: number, fx: Effects): void {
    src.restoring.delete(jail);
    src.started.delete(jail);
    for (const [address, e] of this.waitingOf(src, jail)) {
      if (e.state !== 'unbanning') continue;
      this.setWaiting(e, address, 'suspended', now, undefined, fx);
      fx.notes.push({ kind: 'suspended', jail: e.by.jail, address });
    }
  }

  private jailStarted(src: SourceState, jail: string, now: number, fx: Effects): void {
    const graceEnd = now + this.opts.suspend.restoreGraceMs;
    if (src.started.has(jail)) {
      // Started again with no stop: the host's fail2ban died and came back. Its bans that are
      // still valid come back as Restore Ban within the grace; the others are lifted after it.
      const n = this.suspendAll(src, jail, now, graceEnd, fx);
      fx.notes.push({ kind: 'jail-restart', source: src.name, jail, suspended: n });
    }
    src.started.add(this.jailInfo(jail).name);
    src.restoring.set(jail, now);
    let n = 0;
    for (const [address, e] of this.waitingOf(src, jail)) {
      if (e.state !== 'suspended') continue;
      this.setWaiting(e, address, 'suspended', e.at, graceEnd, fx);
      n++;
    }
    if (n > 0) fx.notes.push({ kind: 'restore-grace', jail, suspended: n });
  }

  /**
   * Stop-Unbans come after "Shutdown in progress" / "Stopping all jails"; an Unban still held from
   * before is a real one (an expiry just before the stop) and must not be mistaken for a stop-Unban
   * by the Jail stopped lines that follow within the window.
   */
  private serverStopping(src: SourceState, fx: Effects): void {
    src.stopping = true;
    src.restoring.clear();
    for (const [address, e] of this.waitingOf(src, undefined)) {
      if (e.state !== 'unbanning') continue;
      fx.notes.push({ kind: 'expired-unban', jail: e.by.jail, address });
      this.remove(e, address, fx);
    }
  }

  private serverStarted(src: SourceState, pid: number | undefined, now: number, fx: Effects): void {
    const crashed = !src.stopping && pid !== undefined && src.pid !== undefined && pid !== src.pid;
    src.stopping = false;
    if (pid !== undefined) src.pid = pid;
    if (!crashed) return;
    // No stop sequence: the old server died (SIGKILL, OOM). Its still-valid bans come back as
    // Restore Ban; the ones that ran out meanwhile never get a line. Suspending everything of this
    // source keeps the firewall untouched and lets the jail-start grace sort one from the other.
    // Its jails start afresh: their starts are the grace's start, not another restart.
    src.started.clear();
    const n = this.suspendAll(src, undefined, now, undefined, fx);
    fx.notes.push({ kind: 'crash-restart', pid: pid ?? 0, suspended: n, ...(src.name && { source: src.name }) });
  }

  private remove(e: Slot, address: string, fx: Effects): void {
    let prev: Slot | undefined;
    let s = this.slots.get(address);
    while (s && s !== e) {
      prev = s;
      s = s.next;
    }
    if (!s) return;
    if (prev) prev.next = s.next;
    else if (s.next) this.slots.set(address, s.next);
    else this.slots.delete(address);
    s.by.source.slots--;
    this.unwait(s);
    this.refresh(address, s.by.info[familyOf(address)], fx);
  }

  // ---- persistence ----

  /** Plain-JSON snapshot (see SerializedModel): version 1 while only the single log ('') is known. */
  serialize(): SerializedModel {
    const entries = new Map<SourceState, SerializedSource['entries']>();
    for (const [address, first] of this.slots) {
      for (let s: Slot | undefined = first; s; s = s.next) {
        let bySource = entries.get(s.by.source);
        if (!bySource) entries.set(s.by.source, (bySource = {}));
        (bySource[address] ??= {})[s.by.jail] = entryOf(s);
      }
    }
    const part = (src: SourceState | undefined): SerializedSource => {
      const out: SerializedSource = { stopping: src?.stopping ?? false, entries: (src && entries.get(src)) ?? {} };
      if (src?.pid !== undefined) out.pid = src.pid;
      if (src?.newestLine !== undefined) out.newestLine = src.newestLine;
      if (src && src.started.size > 0) out.started = [...src.started];
      if (src?.lastEventAt !== undefined) out.lastEventAt = src.lastEventAt;
      return out;
    };
    const sources: Record<string, SerializedSource> = {};
    let named = 0;
    for (const src of this.sourceMap.values()) {
      if (src.name === '') continue;
      sources[src.name] = part(src);
      named++;
    }
    const top = part(this.sourceMap.get(''));
    return named === 0 ? { version: 1, ...top } : { version: MODEL_VERSION, ...top, sources };
  }

  /**
   * Restores a snapshot (version 1: everything is the single log's). Held unbans get a fresh
   * window from `now`: after a restart the lines that would decide them (a Jail stopped) are
   * replayed from the log only now. Addresses that the current config no longer routes, or now
   * never blocks, are dropped (and so removed).
   */
  load(s: SerializedModel, now: number): void {
    if (s.version !== 1 && s.version !== MODEL_VERSION)
      throw new Error(`unsupported state version ${String(s.version)} (expected 1 or ${MODEL_VERSION})`);
    this.loadSource('', s, now);
    if (s.version === 1 || !s.sources) return;
    for (const [name, part] of Object.entries(s.sources)) if (isValidSourceName(name)) this.loadSource(name, part, now);
  }

  private loadSource(name: string, p: SerializedSource, now: number): void {
    const empty = !p.stopping && p.pid === undefined && p.newestLine === undefined && p.lastEventAt === undefined && !p.started?.length;
    if (name === '' && empty && Object.keys(p.entries).length === 0) return;
    const src = this.sourceOf(name);
    src.stopping = p.stopping;
    src.pid = p.pid;
    // Kept across restarts: a log replaced by an old one while the sidecar was down is still old.
    if (typeof p.newestLine === 'number') src.newestLine = p.newestLine;
    if (typeof p.lastEventAt === 'number') src.lastEventAt = p.lastEventAt;
    for (const jail of p.started ?? []) src.started.add(this.jailInfo(jail).name);
    for (const [address, jails] of Object.entries(p.entries)) {
      const family = addressFamily(address);
      if (!family || !verdictOf(this.opts.neverBlock(address)).allow) continue;
      for (const [jail, e] of Object.entries(jails)) {
        const by = this.holderOf(src, jail);
        const keys = by.info[family];
        if (keys.length === 0 || !isEntryState(e.state)) continue;
        const at = e.state === 'unbanning' ? now : e.at;
        let slot = this.slot(address, by);
        if (slot) {
          slot.state = e.state;
          slot.at = at;
          slot.restoreBy = e.restoreBy;
        } else slot = this.addSlot(address, by, e.state, at, e.restoreBy);
        if (e.state !== 'active') this.wait(slot, address);
        else this.unwait(slot);
        this.refresh(address, keys, undefined);
      }
    }
  }
}

/** The newest serialization version written (see SerializedModel); version 1 is still read and written. */
export const MODEL_VERSION = 2;

/**
 * One source's part of a snapshot:
 * `{ pid?, newestLine?, stopping, started?, lastEventAt?, entries: { [address]: { [jail]: { state, at, restoreBy? } } } }`.
 * `started`: jails seen started with no stop since (optional; older states lack it).
 */
export interface SerializedSource {
  pid?: number;
  /** Newest line time seen (see SourceState.newestLine); optional, older states lack it. */
  newestLine?: number;
  stopping: boolean;
  started?: string[];
  /** Scheduler time of the source's last event (a silent host shows in status); optional. */
  lastEventAt?: number;
  entries: Record<string, Record<string, JailEntry>>;
}

/**
 * Version 1: `{ version: 1, ...SerializedSource }`, all of it the single log's (source '').
 * Version 2: `{ version: 2, ...SerializedSource, sources: { [name]: SerializedSource } }`: the top
 * level is still source '', each named source has its own part. Source and jail names are only
 * ever object keys, never parsed out of a string, so any jail name round-trips. Version 1 is
 * written while no named source is known, so a one-host state stays readable by older releases.
 * Times are scheduler milliseconds (epoch ms in production).
 */
export interface SerializedModel extends SerializedSource {
  version: number;
  sources?: Record<string, SerializedSource>;
}

/** A TargetCheck's answer as a verdict (a plain true means "in neverBlock"). */
export function verdictOf(r: FloorVerdict | boolean): FloorVerdict {
  if (r === true) return { allow: false, reason: 'never-block', detail: 'in neverBlock' };
  return r === false ? { allow: true } : r;
}

function isEntryState(s: unknown): s is EntryState {
  return s === 'active' || s === 'unbanning' || s === 'suspended';
}

export function serializeModel(model: DesiredModel): SerializedModel {
  return model.serialize();
}

export function deserializeModel(s: SerializedModel, opts: ModelOptions, now: number): DesiredModel {
  const m = new DesiredModel(opts);
  m.load(s, now);
  return m;
}
