/**
 * The desired state: which addresses each fail2ban jail holds, and from that (through routing)
 * which addresses each firewall group must contain. Pure: no I/O, time is a parameter.
 *
 * The model stores fail2ban's view (address → jail → entry) and projects it onto groups, so the
 * per-jail reference count falls out naturally (an address stays in a group while any jail feeding
 * that group holds it) and a changed mapping applies to the stored bans after a restart.
 *
 * Entry states:
 *  - active:    the jail bans the address.
 *  - unbanning: an Unban arrived but may be a stop-Unban (fail2ban ≤1.1.0 logs Unban for every
 *               ticket when a jail stops); held for stopUnbanWindowMs, then a real removal.
 *  - suspended: the jail (or the server) stopped with the ban still in fail2ban's database; stays
 *               blocked until the jail restarts and fails to re-announce it within restoreGraceMs
 *               of the jail's start or of its latest Restore Ban (a restore of thousands takes
 *               minutes, one line at a time), or for at most maxSuspendMs.
 * Per group an address is therefore in one of three classes:
 *  - desired: some jail feeding the group holds it active or suspended → must be on the firewall;
 *  - held:    only held unbans keep it → the firewall is left as it is (neither added nor removed)
 *             until the hold resolves, so neither a ban lifted at once nor a stop/start cycle
 *             ever causes a write;
 *  - absent:  must not be on the firewall.
 */
import { addressFamily, type AddressFamily } from '../core/address.js';
import type { F2bEvent } from '../parser/types.js';
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
   * Lines whose time stamp is more than this before the newest line seen are not news: a log
   * replaced by an older one (or a stale copy) must not bring back its bans nor its unbans.
   * Default DEFAULT_MAX_LINE_AGE_MS; 0 turns the check off.
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
  | { kind: 'stale-log'; time: string; newest: string }
  | { kind: 'no-ipv6-group'; jail: string; address: string; groups: string[] }
  | { kind: 'held' | 'suspended' | 'reactivated' | 'expired-unban' | 'not-restored' | 'max-suspend'; jail: string; address: string }
  | { kind: 'crash-restart'; pid: number; suspended: number }
  | { kind: 'restore-grace'; jail: string; suspended: number };

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

/**
 * One jail's hold on one address. An address's slots form a short singly linked list (almost
 * always one slot): at 100,000 addresses a Map and an entry object per address cost ~30 MB more.
 */
interface Slot {
  jail: string;
  state: EntryState;
  at: number;
  restoreBy: number | undefined;
  next: Slot | undefined;
}

const SEP = '\u0000';

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
  /** address → its jail slots */
  private readonly slots = new Map<string, Slot>();
  /** group key → addresses that must be in the group */
  readonly desired = new Map<string, Set<string>>();
  /** group key → addresses kept only by held unbans: leave the firewall as it is */
  readonly held = new Map<string, Set<string>>();
  /** Index of the entries that are not active (`jail\0address`), so timers never scan everything. */
  private readonly waiting = new Set<string>();
  /** jail → family → group keys (routing is fixed for the model's life; route() would allocate). */
  private readonly keyCache = new Map<string, JailInfo>();
  /** Last fail2ban-server PID seen. */
  pid: number | undefined;
  /** Time stamp (ms, fail2ban's local time read as UTC: only differences count) of the newest line seen. */
  newestLine: number | undefined;
  /** Inside a run of stale lines (reported once per run). */
  private inStale = false;
  /**
   * jail → time of its start or of its latest Restore Ban since then: the grace of its suspended
   * entries runs from here, so a restore still under way (one line per ban, minutes for
   * thousands) never lets the grace lapse in its middle. Bounded by the number of jails.
   */
  private readonly restoring = new Map<string, number>();
  /** Inside a server stop sequence (Shutdown in progress / Stopping all jails … Exiting). */
  stopping = false;
  readonly counters: ModelCounters = { neverBlocked: 0, skippedIpv6: 0, unrouted: 0, invalid: 0 };

  constructor(readonly opts: ModelOptions) {
    this.router = new Router(opts.groups, opts.jailMatches);
    for (const t of this.router.targets()) {
      this.desired.set(t.key, new Set());
      this.held.set(t.key, new Set());
    }
  }

  get waitingCount(): number {
    return this.waiting.size;
  }

  /** Addresses some jail holds (in any state). */
  get size(): number {
    return this.slots.size;
  }

  /** The entry of `jail` for `address`, as a copy. */
  entry(address: string, jail: string): JailEntry | undefined {
    const s = this.slot(address, jail);
    return s && entryOf(s);
  }

  /** Every (address, jail) entry, as copies. */
  *list(): Generator<{ address: string; family: AddressFamily; jail: string; entry: JailEntry }> {
    for (const [address, first] of this.slots) {
      for (let s: Slot | undefined = first; s; s = s.next) yield { address, family: familyOf(address), jail: s.jail, entry: entryOf(s) };
    }
  }

  private slot(address: string, jail: string): Slot | undefined {
    for (let s = this.slots.get(address); s; s = s.next) if (s.jail === jail) return s;
    return undefined;
  }

  /** Applies one fail2ban event at time `now`. Resolve due timers with expire(now) first. */
  apply(ev: F2bEvent, now: number): Effects {
    const fx: Effects = { changes: [], notes: [] };
    if (this.stale(ev, fx)) return fx;
    if (ev.pid !== undefined && ev.type !== 'server-start') this.pid = ev.pid;
    switch (ev.type) {
      case 'ban':
      case 'restore-ban':
      case 'already-banned':
        if (ev.type === 'restore-ban' && ev.jail !== undefined && this.restoring.has(ev.jail)) this.restoring.set(ev.jail, now);
        if (ev.jail !== undefined && ev.ip !== undefined) this.ban(ev.jail, ev.ip, ev.family, now, fx);
        break;
      case 'unban':
        if (ev.jail !== undefined && ev.ip !== undefined) this.unban(ev.jail, ev.ip, this.stopping ? 'suspended' : 'unbanning', now, fx);
        break;
      case 'repeal-ban':
        if (ev.jail !== undefined && ev.ip !== undefined) this.unban(ev.jail, ev.ip, 'suspended', now, fx);
        break;
      case 'jail-stop':
        if (ev.jail !== undefined) this.jailStopped(ev.jail, now, fx);
        break;
      case 'jail-start':
        if (ev.jail !== undefined) this.jailStarted(ev.jail, now, fx);
        break;
      case 'server-stopping':
        this.serverStopping(fx);
        break;
      case 'server-stop':
        // The server is gone cleanly: the next start is not a crash-restart.
        this.stopping = false;
        this.pid = undefined;
        break;
      case 'server-start':
        this.serverStarted(ev.pid, now, fx);
        break;
      case 'log-reopened':
        break;
    }
    return fx;
  }

  /**
   * A line far older than the newest one seen is history, not news: a log replaced by a year-old
   * one would otherwise push its standing bans (and lift live ones with its Unbans). Lines without
   * a time stamp are always news.
   */
  private stale(ev: F2bEvent, fx: Effects): boolean {
    const bound = this.opts.maxLineAgeMs ?? DEFAULT_MAX_LINE_AGE_MS;
    const t = ev.isoTime === undefined ? NaN : Date.parse(`${ev.isoTime}Z`);
    if (Number.isNaN(t)) return false;
    if (bound > 0 && this.newestLine !== undefined && t < this.newestLine - bound) {
      if (!this.inStale)
        fx.notes.push({ kind: 'stale-log', time: ev.isoTime ?? '', newest: new Date(this.newestLine).toISOString().slice(0, 23) });
      this.inStale = true;
      return true;
    }
    this.inStale = false;
    if (this.newestLine === undefined || t > this.newestLine) this.newestLine = t;
    return false;
  }

  /** Resolves held unbans and suspensions whose time is up; returns the next deadline too. */
  expire(now: number): Effects & { next?: number } {
    const fx: Effects & { next?: number } = { changes: [], notes: [] };
    let next = Infinity;
    for (const k of [...this.waiting]) {
      const [jail = '', address = ''] = k.split(SEP);
      const e = this.slot(address, jail);
      if (!e || e.state === 'active') {
        this.waiting.delete(k);
        continue;
      }
      const d = this.deadlineOf(e);
      if (d <= now && this.extendGrace(e, jail, now)) {
        next = Math.min(next, this.deadlineOf(e));
        continue;
      }
      if (d <= now) {
        const kind =
          e.state === 'unbanning' ? 'expired-unban' : e.restoreBy !== undefined && e.restoreBy <= now ? 'not-restored' : 'max-suspend';
        fx.notes.push({ kind, jail, address });
        this.remove(jail, address, fx);
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
  private extendGrace(e: Slot, jail: string, now: number): boolean {
    if (e.state !== 'suspended' || e.restoreBy === undefined || e.restoreBy > now) return false;
    const last = this.restoring.get(jail);
    if (last === undefined) return false;
    const by = last + this.opts.suspend.restoreGraceMs;
    if (by <= now || by <= e.restoreBy) return false;
    e.restoreBy = by;
    return this.deadlineOf(e) > now;
  }

  /** Earliest pending deadline (full scan of waiting entries), for start-up after a load. */
  nextDeadline(): number | undefined {
    let next = Infinity;
    for (const k of this.waiting) {
      const [jail = '', address = ''] = k.split(SEP);
      const e = this.slot(address, jail);
      if (e && e.state !== 'active') next = Math.min(next, this.deadlineOf(e));
    }
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
    // An address waits once per jail: count it once.
    const seen = new Set<string>();
    let n = 0;
    for (const k of this.waiting) {
      const address = k.slice(k.indexOf(SEP) + 1);
      if (seen.has(address) || !desired.has(address)) continue;
      seen.add(address);
      const family = familyOf(address);
      let live = false;
      for (let s = this.slots.get(address); s && !live; s = s.next) {
        live = s.state === 'active' && this.targetKeys(s.jail, family).includes(key);
      }
      if (!live) n++;
    }
    return n;
  }

  private classOf(address: string, key: string): 'desired' | 'held' | 'absent' {
    const family = familyOf(address);
    let held = false;
    for (let s = this.slots.get(address); s; s = s.next) {
      if (!this.targetKeys(s.jail, family).includes(key)) continue;
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

  private targetKeys(jail: string, family: AddressFamily): readonly string[] {
    return this.jailInfo(jail)[family];
  }

  private jailInfo(jail: string): JailInfo {
    let k = this.keyCache.get(jail);
    if (!k) {
      const r = this.router.route(jail);
      this.keyCache.set(jail, (k = { name: jail, IPv4: r.IPv4.map((t) => t.key), IPv6: r.IPv6.map((t) => t.key) }));
    }
    return k;
  }

  private ban(jail: string, address: string, fam: AddressFamily | undefined, now: number, fx: Effects): void {
    const family = fam ?? addressFamily(address);
    if (!family) {
      this.counters.invalid++;
      fx.notes.push({ kind: 'invalid-address', jail, address });
      return;
    }
    const existing = this.slot(address, jail);
    if (existing) {
      const was = existing.state;
      if (was !== 'active') {
        this.waiting.delete(jail + SEP + address);
        fx.notes.push({ kind: 'reactivated', jail, address });
        existing.at = now;
      }
      existing.state = 'active';
      existing.restoreBy = undefined;
      if (was === 'unbanning') this.refresh(address, this.targetKeys(jail, family), fx);
      return;
    }
    const verdict = verdictOf(this.opts.neverBlock(address));
    if (!verdict.allow) {
      const never = verdict.reason === 'never-block' || verdict.reason === 'never-block-embedded';
      if (never) this.counters.neverBlocked++;
      const groups = this.targetKeys(jail, family);
      fx.notes.push({ kind: never ? 'never-block' : 'refused', jail, address, reason: verdict.reason, detail: verdict.detail, groups });
      return;
    }
    const route = this.router.route(jail);
    if (family === 'IPv6' && route.noIpv6.length > 0) {
      this.counters.skippedIpv6++;
      fx.notes.push({ kind: 'no-ipv6-group', jail, address, groups: route.noIpv6.map((m) => `${m.firewall}/${m.name}`) });
    }
    const keys = this.targetKeys(jail, family);
    if (keys.length === 0) {
      if (route.noIpv6.length === 0) {
        this.counters.unrouted++;
        fx.notes.push({ kind: 'unrouted', jail, address });
      }
      return;
    }
    this.addSlot(address, jail, 'active', now, undefined);
    this.refresh(address, keys, fx);
  }

  private addSlot(address: string, jail: string, state: EntryState, at: number, restoreBy: number | undefined): void {
    // The cached name: every slot of a jail shares one string (each log line brings its own copy).
    this.slots.set(address, { jail: this.jailInfo(jail).name, state, at, restoreBy, next: this.slots.get(address) });
  }

  private unban(jail: string, address: string, to: 'unbanning' | 'suspended', now: number, fx: Effects): void {
    const e = this.slot(address, jail);
    if (!e) {
      fx.notes.push({ kind: 'unknown-unban', jail, address });
      return;
    }
    // A second Unban never shortens a suspension, and never restarts a running hold.
    if (e.state === 'suspended' || e.state === to) return;
    this.setWaiting(e, address, to, now, undefined, fx);
    fx.notes.push({ kind: to === 'unbanning' ? 'held' : 'suspended', jail, address });
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
    this.waiting.add(e.jail + SEP + address);
    if ((before === 'unbanning') !== (state === 'unbanning')) this.refresh(address, this.targetKeys(e.jail, familyOf(address)), fx);
    const d = this.deadlineOf(e);
    if (fx.deadline === undefined || d < fx.deadline) fx.deadline = d;
  }

  private *waitingOf(jail: string | undefined): Generator<[string, Slot]> {
    for (const k of [...this.waiting]) {
      const [j = '', address = ''] = k.split(SEP);
      if (jail !== undefined && j !== jail) continue;
      const e = this.slot(address, j);
      if (e) yield [address, e];
    }
  }

  private jailStopped(jail: string, now: number, fx: Effects): void {
    this.restoring.delete(jail);
    for (const [address, e] of this.waitingOf(jail)) {
      if (e.state !== 'unbanning') continue;
      this.setWaiting(e, address, 'suspended', now, undefined, fx);
      fx.notes.push({ kind: 'suspended', jail: e.jail, address });
    }
  }

  private jailStarted(jail: string, now: number, fx: Effects): void {
    this.restoring.set(jail, now);
    let n = 0;
    for (const [address, e] of this.waitingOf(jail)) {
      if (e.state !== 'suspended') continue;
      this.setWaiting(e, address, 'suspended', e.at, now + this.opts.suspend.restoreGraceMs, fx);
      n++;
    }
    if (n > 0) fx.notes.push({ kind: 'restore-grace', jail, suspended: n });
  }

  /**
   * Stop-Unbans come after "Shutdown in progress" / "Stopping all jails"; an Unban still held from
   * before is a real one (an expiry just before the stop) and must not be mistaken for a stop-Unban
   * by the Jail stopped lines that follow within the window.
   */
  private serverStopping(fx: Effects): void {
    this.stopping = true;
    this.restoring.clear();
    for (const [address, e] of this.waitingOf(undefined)) {
      if (e.state !== 'unbanning') continue;
      fx.notes.push({ kind: 'expired-unban', jail: e.jail, address });
      this.remove(e.jail, address, fx);
    }
  }

  private serverStarted(pid: number | undefined, now: number, fx: Effects): void {
    const crashed = !this.stopping && pid !== undefined && this.pid !== undefined && pid !== this.pid;
    this.stopping = false;
    if (pid !== undefined) this.pid = pid;
    if (!crashed) return;
    // No stop sequence: the old server died (SIGKILL, OOM). Its still-valid bans come back as
    // Restore Ban; the ones that ran out meanwhile never get a line. Suspending everything keeps
    // the firewall untouched and lets the jail-start grace sort one from the other.
    let n = 0;
    for (const [address, first] of this.slots) {
      for (let e: Slot | undefined = first; e; e = e.next) {
        if (e.state === 'suspended') continue;
        this.setWaiting(e, address, 'suspended', now, undefined, fx);
        n++;
      }
    }
    fx.notes.push({ kind: 'crash-restart', pid: pid ?? 0, suspended: n });
  }

  private remove(jail: string, address: string, fx: Effects): void {
    let prev: Slot | undefined;
    let s = this.slots.get(address);
    while (s && s.jail !== jail) {
      prev = s;
      s = s.next;
    }
    if (!s) return;
    if (prev) prev.next = s.next;
    else if (s.next) this.slots.set(address, s.next);
    else this.slots.delete(address);
    this.waiting.delete(jail + SEP + address);
    this.refresh(address, this.targetKeys(jail, familyOf(address)), fx);
  }

  // ---- persistence ----

  /** Plain-JSON snapshot (see SerializedModel). */
  serialize(): SerializedModel {
    const entries: SerializedModel['entries'] = {};
    for (const [address, first] of this.slots) {
      const jails: Record<string, JailEntry> = {};
      for (let s: Slot | undefined = first; s; s = s.next) jails[s.jail] = entryOf(s);
      entries[address] = jails;
    }
    const out: SerializedModel = { version: MODEL_VERSION, stopping: this.stopping, entries };
    if (this.pid !== undefined) out.pid = this.pid;
    if (this.newestLine !== undefined) out.newestLine = this.newestLine;
    return out;
  }

  /**
   * Restores a snapshot. Held unbans get a fresh window from `now`: after a restart the lines that
   * would decide them (a Jail stopped) are replayed from the log only now. Addresses that the
   * current config no longer routes, or now never blocks, are dropped (and so removed).
   */
  load(s: SerializedModel, now: number): void {
    if (s.version !== MODEL_VERSION) throw new Error(`unsupported state version ${String(s.version)} (expected ${MODEL_VERSION})`);
    this.stopping = s.stopping;
    this.pid = s.pid;
    // Kept across restarts: a log replaced by an old one while the sidecar was down is still old.
    if (typeof s.newestLine === 'number') this.newestLine = s.newestLine;
    for (const [address, jails] of Object.entries(s.entries)) {
      const family = addressFamily(address);
      if (!family || !verdictOf(this.opts.neverBlock(address)).allow) continue;
      for (const [jail, e] of Object.entries(jails)) {
        const keys = this.targetKeys(jail, family);
        if (keys.length === 0 || !isEntryState(e.state)) continue;
        const slot = this.slot(address, jail);
        const at = e.state === 'unbanning' ? now : e.at;
        if (slot) {
          slot.state = e.state;
          slot.at = at;
          slot.restoreBy = e.restoreBy;
        } else this.addSlot(address, jail, e.state, at, e.restoreBy);
        if (e.state !== 'active') this.waiting.add(jail + SEP + address);
        this.refresh(address, keys, undefined);
      }
    }
  }
}

export const MODEL_VERSION = 1;

/**
 * Version 1: `{ version: 1, pid?, stopping, entries: { [address]: { [jail]: { state, at, restoreBy? } } } }`.
 * Times are scheduler milliseconds (epoch ms in production).
 */
export interface SerializedModel {
  version: number;
  pid?: number;
  /** Newest line time seen (see DesiredModel.newestLine); optional, older states lack it. */
  newestLine?: number;
  stopping: boolean;
  entries: Record<string, Record<string, JailEntry>>;
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
