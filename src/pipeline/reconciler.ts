/**
 * Drives one firewall toward the desired state. One instance per firewall, so an outage of one
 * never delays another. It keeps what it believes each group holds (`known`, read back from the
 * firewall at start, after every error and at every resync), writes only the difference, and
 * never drops desired entries: a failed run is simply run again later against the latest desired.
 */
import { defer, interval, timer, type SchedulerLike, type Subscription } from 'rxjs';
import type { FirewallPort } from '../xg/port.js';
import type { AddressFamily } from '../core/address.js';
import type { GroupTarget } from './routing.js';
import { chunk, diff, pending, type Plan } from './planner.js';
import type { RetryOptions } from './backoff.js';
import { errorInfo, isPermanent, iso, type ErrorInfo, type PipelineLogger } from './log.js';
import { failureKind, isFirewallWide, nextRetry, stateOf, type FailureKind, type FirewallState } from './retry-policy.js';
import { SetAside, type SetAsideEntry } from './set-aside.js';
import type { BreakerDecision, RemovalBreaker } from './breaker.js';
import { ListSync, type ListModeOptions } from './list-sync.js';
import { ListRetire } from './list-retire.js';

export interface ReconcilerOptions {
  firewall: string;
  port: FirewallPort;
  /** This firewall's groups. */
  targets: readonly GroupTarget[];
  /** Addresses per add/remove request. */
  maxBatch: number;
  retry: RetryOptions & { probeMaxDelayMs?: number };
  resyncIntervalMs: number;
  /** Refused addresses are tried again after this long (and at every resync); default 1 h. */
  setAsideRetryMs?: number;
  /** Removals no Unban asked for (orphans) pass this first; shared by all firewalls' groups. */
  breaker?: RemovalBreaker;
  /** Start with removals held until releaseRemovals() (see the field). */
  holdRemovals?: boolean;
  scheduler: SchedulerLike;
  random: () => number;
  log: PipelineLogger;
  /** Called whenever the status may have changed (run finished, failed, retry scheduled). */
  onChange?: () => void;
  /** Called after the firewall acknowledged one add/remove request (time: scheduler.now()). */
  onApplied?: (change: AppliedChange) => void;
  /** Lists mode (issue 12): the groups' addresses go into packed IPList hosts (list-sync.ts). Absent: one host per address. */
  lists?: ListModeOptions;
  /** Hosts mode after lists mode: owned IPList hosts are retired once per-address hosts hold their addresses (list-retire.ts). */
  retireLists?: boolean;
}

export interface AppliedChange {
  /** Group key (`firewall/group`). */
  key: string;
  firewall: string;
  group: string;
  family: AddressFamily;
  op: 'add' | 'remove';
  addresses: readonly string[];
  /** Scheduler time of the acknowledgement. */
  at: number;
}

export interface GroupStatus {
  firewall: string;
  group: string;
  family: AddressFamily;
  desired: number;
  /** Owned members on the firewall as last read/written; 0 until the first read. */
  applied: number;
  /** False until the group has been read back from the firewall. */
  synced: boolean;
  pendingAdds: number;
  pendingRemoves: number;
  lastSuccess?: string;
  lastError?: ErrorInfo;
  /** Addresses kept only by held/suspended entries (filled in by the sidecar). */
  suspended: number;
  /** Addresses the firewall refused for good, left out of the writes until retried. */
  setAside?: number;
  /** Orphan removals the breaker holds. */
  removalsHeld?: number;
  /** Owned objects in the group and addresses per object (issue 12). */
  objects?: GroupObjects;
}

export interface GroupObjects {
  mode: 'lists' | 'hosts';
  /** IPList hosts (lists mode). */
  lists: number;
  /** Per-address hosts (hosts mode; in lists mode, those not yet migrated or held). */
  hosts: number;
  /** Addresses in the fullest list, and on average per list (0 without lists). */
  maxPerList: number;
  meanPerList: number;
}

export interface FirewallStatus {
  firewall: string;
  reachable: boolean;
  lastContact?: string;
  consecutiveFailures: number;
  permanentError?: ErrorInfo;
  /** ISO time of the next retry while failing. */
  nextRetry?: string;
  /** What the last pass ran into: `auth-failed`/`api-access-denied` mean the firewall answered. */
  state?: FirewallState;
  /** Addresses refused for good and set aside (the first SET_ASIDE_LISTED). */
  setAside?: SetAsideEntry[];
}

/** How many set-aside addresses status lists (the count per group is always complete). */
const SET_ASIDE_LISTED = 100;
/** While removals are held, a pass looks this often whether the operator released them (no request unless released). */
const HOLD_POLL_MS = 5000;

/** An address's class in a group after a change (see the model): what updateDesired applies. */
export type DesiredClass = 'desired' | 'held' | 'absent';

interface GroupRuntime {
  target: GroupTarget;
  /** Owned by the reconciler, updated in place: a pass plans from it synchronously, so a change during the pass is seen by the next. */
  desired: Set<string>;
  /** Held unbans: left on the firewall if there, not added if not. */
  held: Set<string>;
  known: Set<string> | undefined;
  /** The last failure was a write whose addresses were already marked uncertain in `known`. */
  keepKnown?: boolean;
  ensured: boolean;
  /** Removed by an Unban/expiry (updateDesired 'absent') and not yet confirmed off the firewall: not orphans. */
  unbanned: Set<string>;
  /** A permanent refusal of the group itself (family mismatch, …): skipped until then, others go on. */
  blockedUntil?: number;
  /** Orphan removals the breaker held in the last pass, and the hold's token (logged once per token). */
  removalsHeld?: number;
  holdToken?: string | undefined;
  /** Lists mode only. */
  lists?: ListSync;
  /** Hosts mode with retireLists only. */
  retire?: ListRetire;
  lastSuccess?: number;
  lastError?: ErrorInfo;
}

/** Failed requests in a row after which a pass gives up: one lost answer is not an outage. */
const UNREACHABLE_STREAK = 3;

const firewallWide = (err: unknown): boolean => isFirewallWide(failureKind(errorInfo(err, 0).code, isPermanent(err)));

/** A refusal of the group object itself (missing, other family): no address of the batch is at fault. */
function isGroupError(err: unknown): boolean {
  const e = err as { entity?: unknown; code?: unknown };
  return e.entity === 'IPHostGroup' || (typeof e.code === 'string' && e.code.startsWith('XG_GROUP'));
}

export class Reconciler {
  private readonly groups = new Map<string, GroupRuntime>();
  private running: Promise<void> | undefined;
  private runSub: Subscription | undefined;
  private retrySub: Subscription | undefined;
  private resyncSub: Subscription | undefined;
  private dirty = false;
  private resyncWanted = false;
  private stopped = false;
  private failures = 0;
  private reachable = false;
  private lastContact: number | undefined;
  private permanentError: ErrorInfo | undefined;
  private lastErrorSig: string | undefined;
  private nextRetry: number | undefined;
  private lastKind: FailureKind | undefined;
  /** This pass landed at least one request: its failure restarts the back-off. */
  private progressed = false;
  /** Failed requests in a row in this pass: UNREACHABLE_STREAK of them end it (the firewall is gone). */
  private streak = 0;
  /** A transient failure this pass went past (its addresses are doubted and written again next pass). */
  private passError: unknown;
  private readonly setAside: SetAside;
  private wakeSub: Subscription | undefined;
  private wakeAt: number | undefined;
  /**
   * While true, owned hosts missing from the desired set are left on the firewall. Set when the
   * desired state starts empty (first start, lost state): until the log (and the seed) have been
   * read back, "not desired" only means "not known yet", and removing would lift live bans.
   */
  private holdRemovals: boolean;

  constructor(private readonly o: ReconcilerOptions) {
    this.holdRemovals = o.holdRemovals ?? false;
    this.setAside = new SetAside(o.setAsideRetryMs);
    for (const target of o.targets) {
      const lists = o.lists ? new ListSync(o.port, target.group, o.lists) : undefined;
      const retire = !o.lists && o.retireLists ? new ListRetire(o.port, target.group) : undefined;
      this.groups.set(target.key, {
        target,
        desired: new Set(),
        held: new Set(),
        known: undefined,
        ensured: false,
        unbanned: new Set(),
        ...(lists ? { lists } : {}),
        ...(retire ? { retire } : {}),
      });
    }
  }

  get firewall(): string {
    return this.o.firewall;
  }

  /** Replaces a group's desired and held sets (copied). */
  setDesired(key: string, desired: Iterable<string>, held: Iterable<string> = []): void {
    const g = this.groups.get(key);
    if (!g) return;
    g.desired = new Set(desired);
    g.held = new Set(held);
  }

  /**
   * Applies the changes since the last hand-over. Copying the whole desired set at every save
   * cost O(state) per save: at 100,000 addresses a catch-up of the log made ~10 MB of garbage
   * per save, which V8 kept as heap long after.
   */
  updateDesired(key: string, changes: ReadonlyMap<string, DesiredClass>): void {
    const g = this.groups.get(key);
    if (!g) return;
    const known = g.known;
    for (const [address, c] of changes) {
      if (c === 'desired') {
        g.unbanned.delete(address);
        g.desired.add(address);
        // Already on the firewall as a string read back: keep one copy (see knownFrom).
        if (known?.delete(address)) known.add(address);
      } else {
        // An event (Unban, expiry) took it out: fail2ban's word, never held by the breaker.
        if (c === 'absent' && (!known || known.has(address))) g.unbanned.add(address);
        g.desired.delete(address);
      }
      if (c === 'held') g.held.add(address);
      else g.held.delete(address);
    }
  }

  /** The desired state is complete: removals may go ahead. */
  releaseRemovals(): void {
    if (!this.holdRemovals) return;
    this.holdRemovals = false;
    this.kick();
  }

  /** Starts the periodic resync and the first (start-up repair) run. */
  start(): void {
    this.resyncSub = interval(this.o.resyncIntervalMs, this.o.scheduler).subscribe(() => this.resync());
    this.kick();
  }

  /** Forget what we believe the firewall holds (hand edits, restores from backup) and reconcile. */
  resync(): void {
    // Applied when the next pass starts: a pass in flight keeps the view it is writing against.
    this.resyncWanted = true;
    this.setAside.clear();
    for (const g of this.groups.values()) delete g.blockedUntil;
    this.kick();
  }

  /** Something changed: run now, or after the running pass / the pending retry. */
  kick(): void {
    this.dirty = true;
    if (!this.stopped && !this.running && !this.retrySub) this.run();
  }

  /** Nothing running or scheduled, every group read back and equal to its desired set. */
  get converged(): boolean {
    if (this.running || this.retrySub || this.dirty) return false;
    for (const g of this.groups.values()) {
      if (!g.known) return false;
      const d = pending(g.desired, g.known, g.held);
      if (d.add || d.remove) return false;
    }
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.resyncSub?.unsubscribe();
    this.retrySub?.unsubscribe();
    this.retrySub = undefined;
    this.wakeSub?.unsubscribe();
    const inflight = this.running;
    this.runSub?.unsubscribe();
    // A request already on the wire is let finish, so close() does not cut it mid-way.
    await inflight?.catch(() => undefined);
  }

  status(): { firewall: FirewallStatus; groups: GroupStatus[] } {
    const firewall: FirewallStatus = { firewall: this.o.firewall, reachable: this.reachable, consecutiveFailures: this.failures };
    if (this.lastContact !== undefined) firewall.lastContact = iso(this.lastContact);
    if (this.permanentError) firewall.permanentError = this.permanentError;
    if (this.nextRetry !== undefined) firewall.nextRetry = iso(this.nextRetry);
    firewall.state = stateOf(this.lastKind);
    const aside = this.setAside.entries();
    if (aside.length > 0) firewall.setAside = aside.slice(0, SET_ASIDE_LISTED);
    const groups = [...this.groups.values()].map((g): GroupStatus => {
      const d = pending(g.desired, g.known, g.held);
      const s: GroupStatus = {
        firewall: this.o.firewall,
        group: g.target.group.name,
        family: g.target.group.family,
        desired: g.desired.size,
        applied: g.known?.size ?? 0,
        synced: g.known !== undefined,
        pendingAdds: d.add,
        pendingRemoves: d.remove,
        suspended: 0,
        objects: objectsOf(g),
      };
      const aside = this.setAside.count(g.target.key);
      if (aside > 0) s.setAside = aside;
      if (g.removalsHeld) s.removalsHeld = g.removalsHeld;
      if (g.lastSuccess !== undefined) s.lastSuccess = iso(g.lastSuccess);
      if (g.lastError) s.lastError = g.lastError;
      return s;
    });
    return { firewall, groups };
  }

  private now(): number {
    return this.o.scheduler.now();
  }

  private run(): void {
    this.dirty = false;
    if (this.resyncWanted) {
      this.resyncWanted = false;
      for (const g of this.groups.values()) g.known = undefined;
    }
    const p = this.runOnce();
    this.running = p;
    this.runSub = defer(() => p).subscribe({
      complete: () => {
        this.running = undefined;
        this.succeeded();
        if (this.dirty && !this.stopped) this.run();
        else this.o.onChange?.();
      },
      error: (err: unknown) => {
        this.running = undefined;
        this.failed(err);
      },
    });
  }

  private async runOnce(): Promise<void> {
    this.progressed = false;
    this.streak = 0;
    this.passError = undefined;
    const now = this.now();
    // Groups that failed last go last, so one group the firewall keeps refusing cannot starve the
    // others; a group refused for good (a family mismatch) waits its own retry time.
    const order = [...this.groups.values()]
      .filter((g) => g.blockedUntil === undefined || g.blockedUntil <= now)
      .sort((a, b) => Number(a.lastError !== undefined) - Number(b.lastError !== undefined));
    let first: unknown;
    for (const g of order) {
      try {
        const skipped = await this.syncGroup(g);
        delete g.blockedUntil;
        if (skipped === undefined) delete g.lastError;
        else {
          g.lastError = errorInfo(skipped, this.now());
          this.passError ??= skipped;
        }
      } catch (err) {
        g.lastError = errorInfo(err, this.now());
        // A failed read or group check: believe nothing until the next read. (A failed write
        // has already doubted just its own addresses.)
        if (!g.keepKnown) g.known = undefined;
        g.keepKnown = false;
        g.ensured = false;
        if (failureKind(g.lastError.code, isPermanent(err)) === 'refused') {
          this.groupRefused(g, g.lastError);
          continue;
        }
        first ??= err;
        // The firewall refuses us as a whole, or is gone: the pass ends here.
        if (isPermanent(err) || this.streak >= UNREACHABLE_STREAK) break;
      }
    }
    this.scheduleWake();
    first ??= this.passError;
    if (first !== undefined) throw first;
  }

  /** One group refused for good: it waits the maximum delay, said once; the other groups go on. */
  private groupRefused(g: GroupRuntime, info: ErrorInfo): void {
    const delay = this.o.retry.maxDelayMs;
    const again = g.blockedUntil !== undefined;
    g.blockedUntil = this.now() + delay;
    const fields = {
      firewall: this.o.firewall,
      group: g.target.group.name,
      code: info.code,
      xgStatus: info.xgStatus,
      xgText: info.xgText,
      err: info.message,
      retryInMs: delay,
    };
    if (again) this.o.log.debug(fields, 'group still refused');
    else this.o.log.error(fields, 'firewall refused the group; an admin must act (the other groups go on; retrying at the maximum delay)');
  }

  /** A pass when the earliest refused group or set-aside address is due again. */
  private scheduleWake(): void {
    let at = this.setAside.nextDue();
    for (const g of this.groups.values())
      if (g.blockedUntil !== undefined && (at === undefined || g.blockedUntil < at)) at = g.blockedUntil;
    // Held removals: the operator's release is seen within seconds.
    if ([...this.groups.values()].some((g) => g.removalsHeld)) at = Math.min(at ?? Infinity, this.now() + HOLD_POLL_MS);
    if (at === this.wakeAt) return;
    this.wakeSub?.unsubscribe();
    this.wakeSub = undefined;
    this.wakeAt = at;
    if (at === undefined || this.stopped) return;
    this.wakeSub = timer(Math.max(0, at - this.now()), this.o.scheduler).subscribe(() => {
      this.wakeSub = undefined;
      this.wakeAt = undefined;
      this.kick();
    });
  }

  /** Ensures and reads the group back when its view is not trusted; returns the view. */
  private async ensureOnce(g: GroupRuntime): Promise<void> {
    if (g.ensured) return;
    await this.o.port.ensureGroup(g.target.group);
    this.contact();
    g.ensured = true;
  }

  /** Ensures and reads the group back when its view is not trusted; returns the view. */
  private async readIfNeeded(g: GroupRuntime): Promise<Set<string>> {
    const { port, firewall, log } = this.o;
    const group = g.target.group;
    await this.ensureOnce(g);
    let known = g.known;
    if (!known) {
      const st = await port.readGroup(group);
      this.contact();
      if (!st.exists) {
        // Deleted by hand since ensureGroup: create it again before writing.
        await port.ensureGroup(group);
        this.contact();
      }
      known = g.known = st.exists ? knownFrom(st.owned, g.desired) : new Set<string>();
      for (const a of g.unbanned) if (!known.has(a)) g.unbanned.delete(a);
      log.debug({ firewall, group: group.name, owned: known.size, foreign: st.foreign }, 'group read');
      if (g.retire) {
        await g.retire.read();
        this.contact();
      }
    }
    return known;
  }

  /** Returns the transient failure of a write it went past, if any. */
  private async syncGroup(g: GroupRuntime): Promise<unknown> {
    if (g.lists) {
      await this.ensureOnce(g).catch((err: unknown) => {
        this.streak++;
        throw err;
      });
      return this.syncLists(g, g.lists);
    }
    const known = await this.readIfNeeded(g).catch((err: unknown) => {
      this.streak++;
      throw err;
    });
    const steps = this.planWrites(g, known);
    let skipped: unknown;
    // Adds first: blocking a new attacker matters more than lifting an old block.
    for (const [op, chunks] of [
      ['add', steps.add],
      ['remove', steps.remove],
    ] as const) {
      for (const planned of chunks) {
        // Planned at the start of the pass: an Unban (held or not) or a re-Ban read since then must
        // not cost a write (issue 12: a 10,000-Unban burst went on adding the banned addresses for 40 s).
        const addresses = planned.filter((a) => (op === 'add' ? g.desired.has(a) : !g.desired.has(a) && !g.held.has(a)));
        if (addresses.length === 0) continue;
        try {
          await this.write(g, known, op, addresses);
        } catch (err) {
          // One lost request is not an outage: go on with the next batch; this one is written
          // again by the retry pass (its addresses are doubted). Several in a row end the pass.
          if (isPermanent(err) || this.streak >= UNREACHABLE_STREAK) throw err;
          skipped ??= err;
        }
      }
    }
    if (skipped === undefined && g.retire?.count) {
      const stays = (a: string): boolean => g.desired.has(a) || g.held.has(a) || this.holdRemovals;
      for (const a of await g.retire.retire(known, stays, () => this.contact())) known.add(a);
    }
    if (skipped === undefined) g.lastSuccess = this.now();
    return skipped;
  }

  /** Lists mode: one pass of the group's ListSync; `known` becomes what its lists and hosts hold. */
  private async syncLists(g: GroupRuntime, lists: ListSync): Promise<unknown> {
    const { firewall, maxBatch, log } = this.o;
    const group = g.target.group;
    // Forgotten by a resync or a failure: read again.
    if (!g.known) lists.forget();
    const t0 = this.now();
    g.removalsHeld = 0;
    // Orphans in lists go through the breaker as in hosts mode; what it holds stays in the lists.
    const breaker = this.o.breaker;
    const keep = breaker
      ? (removals: readonly string[], owned: number): ReadonlySet<string> => new Set(this.throughBreaker(g, owned, removals).held)
      : undefined;
    const input = { desired: g.desired, held: g.held, holdRemovals: this.holdRemovals, maxBatch, contact: () => this.contact() };
    const r = await lists.sync(keep ? { ...input, keep } : input).catch((err: unknown) => {
      this.streak++;
      throw err;
    });
    this.progressed = true;
    this.streak = 0;
    g.known = lists.known;
    g.lastSuccess = this.now();
    const durationMs = this.now() - t0;
    for (const [op, addresses] of [
      ['add', r.added],
      ['remove', r.removed],
    ] as const) {
      if (addresses.length === 0) continue;
      log.info(
        { firewall, group: group.name, family: group.family, count: addresses.length, addresses, durationMs, writes: r.writes },
        op === 'add' ? 'ban applied' : 'unban applied',
      );
      this.o.onApplied?.({ key: g.target.key, firewall, group: group.name, family: group.family, op, addresses, at: this.now() });
    }
    return undefined;
  }

  /** The writes of this pass: the difference, less set-aside addresses and removals held. */
  private planWrites(g: GroupRuntime, known: Set<string>): Plan {
    const key = g.target.key;
    this.setAside.prune(key, this.now(), g.desired);
    const d = diff(g.desired, known, g.held);
    const add = d.add.filter((a) => !this.setAside.has(key, 'add', a));
    let remove = d.remove.filter((a) => !this.setAside.has(key, 'remove', a));
    g.removalsHeld = 0;
    if (this.holdRemovals) remove = [];
    // Also with nothing to remove: a hold whose orphans are gone (config fixed) ends there.
    else if (this.o.breaker) remove = this.throughBreaker(g, known.size, remove).allowed.sort();
    return { add: chunk(add, this.o.maxBatch), remove: chunk(remove, this.o.maxBatch) };
  }

  /** Unban removals pass; orphans (no Unban behind them) go through the breaker. Returns its decision. */
  private throughBreaker(g: GroupRuntime, owned: number, remove: readonly string[]): BreakerDecision {
    const unbans = remove.filter((a) => g.unbanned.has(a));
    const orphans = remove.filter((a) => !g.unbanned.has(a));
    const decision = (this.o.breaker as RemovalBreaker).decide(g.target.key, { owned, unbans, orphans }, this.now());
    g.removalsHeld = decision.held.length;
    const hold = decision.hold;
    if (hold && hold.token !== g.holdToken) {
      this.o.log.warn(
        { firewall: this.o.firewall, group: g.target.group.name, count: hold.count, token: hold.token, reason: hold.reason },
        `removals held: ${hold.reason}; release with: f2b-sophosxg release -c CONFIG ${hold.token}`,
      );
    }
    g.holdToken = hold?.token;
    return decision;
  }

  /** One add/remove request; a permanent refusal is narrowed down by halves to the refused address(es). */
  private async write(g: GroupRuntime, known: Set<string>, op: 'add' | 'remove', addresses: readonly string[]): Promise<void> {
    const { port, firewall, log } = this.o;
    const group = g.target.group;
    const t0 = this.now();
    try {
      if (op === 'add') await port.addToGroup(group, addresses);
      else await port.removeFromGroup(group, addresses);
    } catch (err) {
      this.streak++;
      if (!isPermanent(err)) {
        // The batch may or may not have been applied: doubt only its addresses, so the retry
        // writes them again (both writes are idempotent) instead of re-reading the whole
        // group, which under a flaky firewall turned every error into a full re-read.
        for (const a of addresses) {
          if (op === 'add') known.delete(a);
          else known.add(a);
        }
        g.keepKnown = true;
        throw err;
      }
      // The firewall or the group as a whole refuses: nothing to narrow down.
      if (firewallWide(err) || isGroupError(err)) throw err;
      this.contact();
      if (addresses.length > 1) {
        // Both writes are idempotent: the halves that the firewall accepts land (again).
        const mid = Math.ceil(addresses.length / 2);
        await this.write(g, known, op, addresses.slice(0, mid));
        await this.write(g, known, op, addresses.slice(mid));
        return;
      }
      this.setAsideOne(g, op, addresses[0] as string, err);
      return;
    }
    this.contact();
    this.progressed = true;
    this.streak = 0;
    for (const a of addresses) {
      if (op === 'add') known.add(a);
      else {
        known.delete(a);
        g.unbanned.delete(a);
      }
    }
    g.lastSuccess = this.now();
    log.info(
      { firewall, group: group.name, family: group.family, count: addresses.length, addresses, durationMs: this.now() - t0 },
      op === 'add' ? 'ban applied' : 'unban applied',
    );
    this.o.onApplied?.({ key: g.target.key, firewall, group: group.name, family: group.family, op, addresses, at: this.now() });
  }

  private setAsideOne(g: GroupRuntime, op: 'add' | 'remove', address: string, err: unknown): void {
    const info = errorInfo(err, this.now());
    if (!this.setAside.add(g.target.key, op, address, info, this.now())) return;
    this.o.log.error(
      {
        firewall: this.o.firewall,
        group: g.target.group.name,
        op,
        address,
        code: info.code,
        xgStatus: info.xgStatus,
        xgText: info.xgText,
        err: info.message,
      },
      `firewall refused ${op === 'add' ? 'to block' : 'to unblock'} this address for good: set aside (tried again hourly and at each resync); everything else goes on`,
    );
  }

  /** Addresses set aside (refused for good), all groups; for status. */
  setAsideEntries(): SetAsideEntry[] {
    return this.setAside.entries();
  }

  private contact(): void {
    this.streak = 0;
    this.reachable = true;
    this.lastContact = this.now();
  }

  private succeeded(): void {
    if (this.failures > 0 || this.permanentError) {
      this.o.log.info({ firewall: this.o.firewall, afterFailures: this.failures }, 'firewall in sync again');
    }
    this.failures = 0;
    this.permanentError = undefined;
    this.lastErrorSig = undefined;
    this.nextRetry = undefined;
    this.lastKind = undefined;
  }

  private failed(err: unknown): void {
    const { firewall, retry, scheduler, random, log } = this.o;
    const info = errorInfo(err, this.now());
    const permanent = isPermanent(err);
    const kind = failureKind(info.code, permanent);
    // Back-off belongs to what failed: a pass that landed a request starts the schedule over.
    const next = nextRetry(kind, this.failures, this.progressed, retry, random);
    this.failures = next.attempt;
    this.lastKind = kind;
    // A refused login or API access is an answer: the firewall is reachable, we are refused.
    if (isFirewallWide(kind)) this.contact();
    else if (!permanent) this.reachable = false;
    this.permanentError = permanent ? info : undefined;
    const delay = next.delayMs;
    this.nextRetry = this.now() + delay;
    const sig = `${info.code}\u0000${info.message}`;
    const fields = {
      firewall,
      code: info.code,
      xgStatus: info.xgStatus,
      xgText: info.xgText,
      err: info.message,
      attempt: this.failures,
      retryInMs: delay,
      ...(kind !== 'transient' && { state: stateOf(kind) }),
    };
    if (sig !== this.lastErrorSig) {
      if (kind === 'auth')
        log.error(
          fields,
          'the firewall refused the credentials; fix the password (its source is read again at each retry, every few seconds)',
        );
      else if (kind === 'access') log.error(fields, 'the firewall refused API access; an admin must act (probing every few seconds)');
      else if (permanent) log.error(fields, 'firewall refused the change; an admin must act');
      else log.warn(fields, 'firewall write failed, retrying');
    } else log.debug(fields, 'retry');
    this.lastErrorSig = sig;
    this.retrySub = timer(delay, scheduler).subscribe(() => {
      this.retrySub = undefined;
      this.nextRetry = undefined;
      if (!this.stopped) this.run();
    });
    this.o.onChange?.();
  }
}

/**
 * The owned set read back, holding the desired set's own strings where the two agree: read back,
 * every address is a new string, and with 100,000 addresses a second copy of each costs ~3 MB
 * for as long as the process runs.
 */
function objectsOf(g: GroupRuntime): GroupObjects {
  if (!g.lists) return { mode: 'hosts', lists: g.retire?.count ?? 0, hosts: g.known?.size ?? 0, maxPerList: 0, meanPerList: 0 };
  const s = g.lists.stats();
  return {
    mode: 'lists',
    lists: s.lists,
    hosts: s.hosts,
    maxPerList: s.maxPerList,
    meanPerList: s.lists ? Math.round(s.addressesInLists / s.lists) : 0,
  };
}

function knownFrom(owned: ReadonlySet<string>, desired: ReadonlySet<string>): Set<string> {
  const known = new Set<string>();
  for (const a of desired) if (owned.has(a)) known.add(a);
  for (const a of owned) if (!desired.has(a)) known.add(a);
  return known;
}
