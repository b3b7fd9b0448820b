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
import { pending, plan } from './planner.js';
import { retryDelay, type RetryOptions } from './backoff.js';
import { errorInfo, isPermanent, iso, type ErrorInfo, type PipelineLogger } from './log.js';
import { ListSync, type ListModeOptions } from './list-sync.js';
import { ListRetire } from './list-retire.js';

export interface ReconcilerOptions {
  firewall: string;
  port: FirewallPort;
  /** This firewall's groups. */
  targets: readonly GroupTarget[];
  /** Addresses per add/remove request. */
  maxBatch: number;
  retry: RetryOptions;
  resyncIntervalMs: number;
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
}

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
  /** Lists mode only. */
  lists?: ListSync;
  /** Hosts mode with retireLists only. */
  retire?: ListRetire;
  lastSuccess?: number;
  lastError?: ErrorInfo;
}

/** Errors that concern the whole firewall (credentials, API access): stop the run at once. */
const FIREWALL_WIDE = new Set(['XG_AUTH', 'XG_ACCESS', 'XG_API_DISABLED', 'XG_IP_NOT_ALLOWED']);

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
  /**
   * While true, owned hosts missing from the desired set are left on the firewall. Set when the
   * desired state starts empty (first start, lost state): until the log (and the seed) have been
   * read back, "not desired" only means "not known yet", and removing would lift live bans.
   */
  private holdRemovals: boolean;

  constructor(private readonly o: ReconcilerOptions) {
    this.holdRemovals = o.holdRemovals ?? false;
    for (const target of o.targets) {
      const lists = o.lists ? new ListSync(o.port, target.group, o.lists) : undefined;
      const retire = !o.lists && o.retireLists ? new ListRetire(o.port, target.group) : undefined;
      this.groups.set(target.key, { target, desired: new Set(), held: new Set(), known: undefined, ensured: false, ...(lists ? { lists } : {}), ...(retire ? { retire } : {}) });
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
        g.desired.add(address);
        // Already on the firewall as a string read back: keep one copy (see knownFrom).
        if (known?.delete(address)) known.add(address);
      } else g.desired.delete(address);
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
    // Groups that failed last go last, so one group the firewall keeps refusing (a family
    // mismatch, an address held by a foreign host) cannot starve the others.
    const order = [...this.groups.values()].sort((a, b) => Number(a.lastError !== undefined) - Number(b.lastError !== undefined));
    let first: unknown;
    for (const g of order) {
      try {
        await this.syncGroup(g);
        delete g.lastError;
      } catch (err) {
        g.lastError = errorInfo(err, this.now());
        // A failed read or group check: believe nothing until the next read. (A failed write
        // has already doubted just its own addresses.)
        if (!g.keepKnown) g.known = undefined;
        g.keepKnown = false;
        g.ensured = false;
        first ??= err;
        if (!isPermanent(err) || FIREWALL_WIDE.has(g.lastError.code)) break;
      }
    }
    if (first !== undefined) throw first;
  }

  private async syncGroup(g: GroupRuntime): Promise<void> {
    const { port, firewall, maxBatch, log } = this.o;
    const group = g.target.group;
    if (!g.ensured) {
      await port.ensureGroup(group);
      this.contact();
      g.ensured = true;
    }
    if (g.lists) return this.syncLists(g, g.lists);
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
      log.debug({ firewall, group: group.name, owned: known.size, foreign: st.foreign }, 'group read');
      if (g.retire) {
        await g.retire.read();
        this.contact();
      }
    }
    const steps = plan(g.desired, known, maxBatch, g.held);
    if (this.holdRemovals) steps.remove = [];
    let deferred: unknown;
    // Adds first: blocking a new attacker matters more than lifting an old block.
    for (const [op, chunks] of [['add', steps.add], ['remove', steps.remove]] as const) {
      for (const planned of chunks) {
        // Planned at the start of the pass: an Unban (held or not) or a re-Ban read since then must
        // not cost a write (issue 12: a 10,000-Unban burst went on adding the banned addresses for 40 s).
        const addresses = planned.filter((a) => (op === 'add' ? g.desired.has(a) : !g.desired.has(a) && !g.held.has(a)));
        if (addresses.length === 0) continue;
        const t0 = this.now();
        try {
          if (op === 'add') await port.addToGroup(group, addresses);
          else await port.removeFromGroup(group, addresses);
        } catch (err) {
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
          // A refused address must not hold back the rest; a transport failure ends the pass.
          if (FIREWALL_WIDE.has(errorInfo(err, 0).code)) throw err;
          deferred ??= err;
          continue;
        }
        this.contact();
        for (const a of addresses) {
          if (op === 'add') known.add(a);
          else known.delete(a);
        }
        g.lastSuccess = this.now();
        log.info(
          { firewall, group: group.name, family: group.family, count: addresses.length, addresses, durationMs: this.now() - t0 },
          op === 'add' ? 'ban applied' : 'unban applied',
        );
        this.o.onApplied?.({ key: g.target.key, firewall, group: group.name, family: group.family, op, addresses, at: this.now() });
      }
    }
    if (deferred !== undefined) throw deferred;
    if (g.retire?.count) {
      const stays = (a: string): boolean => g.desired.has(a) || g.held.has(a) || this.holdRemovals;
      for (const a of await g.retire.retire(known, stays, () => this.contact())) known.add(a);
    }
    g.lastSuccess = this.now();
  }

  /** Lists mode: one pass of the group's ListSync; `known` becomes what its lists and hosts hold. */
  private async syncLists(g: GroupRuntime, lists: ListSync): Promise<void> {
    const { firewall, maxBatch, log } = this.o;
    const group = g.target.group;
    // Forgotten by a resync or a failure: read again.
    if (!g.known) lists.forget();
    const t0 = this.now();
    const r = await lists.sync({ desired: g.desired, held: g.held, holdRemovals: this.holdRemovals, maxBatch, contact: () => this.contact() });
    g.known = lists.known;
    g.lastSuccess = this.now();
    const durationMs = this.now() - t0;
    for (const [op, addresses] of [['add', r.added], ['remove', r.removed]] as const) {
      if (addresses.length === 0) continue;
      log.info({ firewall, group: group.name, family: group.family, count: addresses.length, addresses, durationMs, writes: r.writes }, op === 'add' ? 'ban applied' : 'unban applied');
      this.o.onApplied?.({ key: g.target.key, firewall, group: group.name, family: group.family, op, addresses, at: this.now() });
    }
  }

  private contact(): void {
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
  }

  private failed(err: unknown): void {
    const { firewall, retry, scheduler, random, log } = this.o;
    this.failures++;
    const info = errorInfo(err, this.now());
    const permanent = isPermanent(err);
    if (!permanent) this.reachable = false;
    this.permanentError = permanent ? info : undefined;
    // An admin has to act on a permanent error: retry slowly, and say it loudly once, not every time.
    const delay = permanent ? retry.maxDelayMs : retryDelay(this.failures, retry, random);
    this.nextRetry = this.now() + delay;
    const sig = `${info.code}\u0000${info.message}`;
    const fields = { firewall, code: info.code, xgStatus: info.xgStatus, xgText: info.xgText, err: info.message, attempt: this.failures, retryInMs: delay };
    if (sig !== this.lastErrorSig) {
      if (permanent) log.error(fields, 'firewall refused the change; an admin must act (retrying at the maximum delay)');
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

function objectsOf(g: GroupRuntime): GroupObjects {
  if (!g.lists) return { mode: 'hosts', lists: g.retire?.count ?? 0, hosts: g.known?.size ?? 0, maxPerList: 0, meanPerList: 0 };
  const s = g.lists.stats();
  return { mode: 'lists', lists: s.lists, hosts: s.hosts, maxPerList: s.maxPerList, meanPerList: s.lists ? Math.round(s.addressesInLists / s.lists) : 0 };
}

/**
 * The owned set read back, holding the desired set's own strings where the two agree: read back,
 * every address is a new string, and with 100,000 addresses a second copy of each costs ~3 MB
 * for as long as the process runs.
 */
function knownFrom(owned: ReadonlySet<string>, desired: ReadonlySet<string>): Set<string> {
  const known = new Set<string>();
  for (const a of desired) if (owned.has(a)) known.add(a);
  for (const a of owned) if (!desired.has(a)) known.add(a);
  return known;
}
