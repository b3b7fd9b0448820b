/**
 * The pipeline: parsed fail2ban events → desired state (model) → durable snapshot → one
 * reconciler per firewall. Changes hit the model at once; the firewalls see the first change after
 * a quiet period at once, later ones at the end of a batching window (or when the difference
 * reaches maxSize), so a burst costs few requests, and a whole fail2ban restart (stop-Unbans held,
 * then Restore Bans) costs no firewall write.
 *
 * Durability: every flush hands the model snapshot plus the checkpoint of the last line whose
 * effects it contains to the StateSink BEFORE the firewalls are told. After `kill -9` the state is
 * loaded, the log resumes after the checkpoint and the reconcilers re-read the firewalls, so
 * nothing is lost. If saving fails, the persisted checkpoint does not advance (the lines are read
 * again after a restart) and the save is retried with backoff; firewall writes go ahead anyway,
 * because a correct firewall matters more than a current state file, and a replay converges.
 *
 * Time comes only from the injected scheduler.
 */
import { BehaviorSubject, catchError, concatMap, defer, EMPTY, filter, finalize, firstValueFrom, map, Subject, tap, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import type { F2bEvent } from '../parser/types.js';
import type { Checkpoint } from '../core/checkpoint.js';
import type { FirewallPort } from '../xg/port.js';
import { DEFAULT_SUSPEND, DesiredModel, type Effects, type ModelCounters, type ModelOptions, type Note, type SerializedModel, type SuspendOptions } from './model.js';
import { flushTriggers, type FlushReason } from './batch.js';
import { Reconciler, type AppliedChange, type DesiredClass, type FirewallStatus, type GroupStatus } from './reconciler.js';
import { BanLatency, localLogTime } from './latency.js';
import { DEFAULT_RETRY, retryDelay, type RetryOptions } from './backoff.js';
import { errorInfo, iso, type ErrorInfo, type PipelineLogger } from './log.js';
import type { GroupMapping, JailMatcher } from './routing.js';

export const STATE_VERSION = 1;

/** What the state file holds. */
export interface PersistedState {
  version: number;
  model: SerializedModel;
  /** Last log line whose effects are in `model`. */
  checkpoint?: Checkpoint;
  /** ISO time of the snapshot. */
  savedAt: string;
}

export interface StateSink {
  save(state: PersistedState): Promise<void>;
}

export interface PipelineInput {
  event?: F2bEvent;
  /** Checkpoint just after the line that carried `event` (or a line without an event). */
  checkpoint?: Checkpoint;
}

export interface BatchOptions {
  windowMs: number;
  /** Pending changes that force a flush before the window ends; also the addresses per request. */
  maxSize: number;
  /**
   * Flush the first change after a quiet period at once (batch.ts): a lone ban reaches the
   * firewall one write after its log line instead of a window later. Off: every change waits for
   * the window (most coalescing: a ban lifted within the window costs no write at all).
   */
  leading: boolean;
}

export interface PipelineOptions {
  groups: readonly GroupMapping[];
  neverBlock: (address: string) => boolean;
  jailMatches?: JailMatcher;
  batch?: Partial<BatchOptions>;
  suspend?: Partial<SuspendOptions>;
  retry?: Partial<RetryOptions>;
  resyncIntervalMs?: number;
  /** Start with firewall removals held until releaseRemovals(): for an empty (first or lost) state. */
  holdRemovals?: boolean;
  scheduler: SchedulerLike;
  random?: () => number;
  log: PipelineLogger;
}

export interface SidecarOptions extends PipelineOptions {
  /** One port per firewall id named in `groups`. */
  ports: ReadonlyMap<string, FirewallPort>;
  sink: StateSink;
  initial?: PersistedState;
  /**
   * Told after every add/remove the firewall acknowledged. Must not throw (it runs inside the
   * reconciler's pass); an exception is logged and ignored.
   */
  onApplied?: (change: AppliedNotice) => void;
  /** Log time (ms) of an event; default: fail2ban's local time stamp read in the host's zone. */
  logTime?: (ev: F2bEvent) => number | undefined;
}

export interface AppliedNotice extends AppliedChange {
  /**
   * Adds only: for each address whose Ban line was seen live (see ./latency.ts), the seconds from
   * that line's time stamp to this acknowledgement.
   */
  banToBlockSeconds: number[];
}

export interface PersistStatus {
  /** Checkpoint of the last successful save: where a restart resumes. */
  checkpoint?: Checkpoint;
  lastSave?: string;
  lastError?: ErrorInfo;
  consecutiveFailures: number;
}

export interface SidecarStatus {
  groups: GroupStatus[];
  firewalls: FirewallStatus[];
  persist: PersistStatus;
  counters: ModelCounters;
  /** Held unbans + suspensions across all jails. */
  waiting: number;
}

export interface Sidecar {
  push(input: PipelineInput): void;
  connect(input$: Observable<PipelineInput>): Subscription;
  status(): SidecarStatus;
  readonly status$: Observable<SidecarStatus>;
  /** The model (read-only use: tests, `replay`, status). */
  readonly model: DesiredModel;
  /** Resolves when no window is open, no save is running and every firewall equals desired. */
  idle(): Promise<void>;
  /**
   * With `holdRemovals`: everything pushed so far is the complete desired state (the log and the
   * seed are read back); once it is saved and handed over, stale hosts may be removed.
   */
  releaseRemovals(): void;
  /** Final snapshot, stop timers and reconcilers (in-flight requests are let finish). */
  stop(): Promise<void>;
}

interface SaveJob {
  state: PersistedState;
  /** releaseRemovals() was called before this snapshot: it holds the complete desired state. */
  release: boolean;
  /** group key → address → class: the changes up to the snapshot, for the reconcilers */
  changes: Map<string, Map<string, DesiredClass>>;
}

export const DEFAULT_BATCH: BatchOptions = { windowMs: 1000, maxSize: 50, leading: true };
export const DEFAULT_RESYNC_MS = 600_000;

export function createSidecar(opts: SidecarOptions): Sidecar {
  const { scheduler, log, sink } = opts;
  const batch = { ...DEFAULT_BATCH, ...opts.batch };
  const retry = { ...DEFAULT_RETRY, ...opts.retry };
  const random = opts.random ?? Math.random;
  const modelOpts: ModelOptions = { groups: opts.groups, neverBlock: opts.neverBlock, suspend: { ...DEFAULT_SUSPEND, ...opts.suspend } };
  if (opts.jailMatches) modelOpts.jailMatches = opts.jailMatches;

  const model = new DesiredModel(modelOpts);
  if (opts.initial) {
    if (opts.initial.version !== STATE_VERSION) throw new Error(`unsupported state file version ${opts.initial.version}`);
    model.load(opts.initial.model, scheduler.now());
  }

  const changed$ = new Subject<void>();
  const notify = (): void => changed$.next();

  const latency = new BanLatency(scheduler.now());
  const logTime = opts.logTime ?? localLogTime;
  let zoneWarned = false;
  const applied = (c: AppliedChange): void => {
    const banToBlockSeconds = c.op === 'add' ? latency.applied(c.key, c.addresses, c.at) : [];
    try {
      opts.onApplied?.({ ...c, banToBlockSeconds });
    } catch (err) {
      log.warn({ err: errorInfo(err, c.at).message }, 'onApplied hook failed');
    }
  };

  const reconcilers = new Map<string, Reconciler>();
  for (const t of model.router.targets()) {
    if (reconcilers.has(t.firewall)) continue;
    const port = opts.ports.get(t.firewall);
    if (!port) throw new Error(`no firewall port for "${t.firewall}" (named in a group mapping)`);
    reconcilers.set(
      t.firewall,
      new Reconciler({
        firewall: t.firewall,
        port,
        targets: model.router.targets().filter((x) => x.firewall === t.firewall),
        maxBatch: batch.maxSize,
        retry,
        resyncIntervalMs: opts.resyncIntervalMs ?? DEFAULT_RESYNC_MS,
        holdRemovals: opts.holdRemovals ?? false,
        scheduler,
        random,
        log,
        onChange: notify,
        onApplied: applied,
      }),
    );
  }
  const targetFirewall = new Map(model.router.targets().map((t) => [t.key, t.firewall]));

  // ---- model side ----
  let lastCheckpoint: Checkpoint | undefined = opts.initial?.checkpoint;
  /**
   * group key → address → net direction since the last flush (a ban undone in the window cancels
   * out). 'hold' counts as leaving: the firewall keeps the address, but a ban that is held before
   * its first write must not be written at all.
   */
  const delta = new Map<string, Map<string, 'add' | 'remove'>>();
  let pending = 0;
  let unflushed = false;
  let stopped = false;
  const persist: PersistStatus = { consecutiveFailures: 0 };
  if (lastCheckpoint) persist.checkpoint = lastCheckpoint;

  const trigger$ = new Subject<number>();
  const saves$ = new Subject<SaveJob>();

  let expiryAt: number | undefined;
  let expirySub: Subscription | undefined;
  let saveRetrySub: Subscription | undefined;

  const scheduleExpiry = (at: number | undefined): void => {
    if (at === undefined || stopped || (expiryAt !== undefined && expiryAt <= at)) return;
    expirySub?.unsubscribe();
    expiryAt = at;
    expirySub = scheduler.schedule(() => {
      expiryAt = undefined;
      expirySub = undefined;
      runExpiry();
    }, Math.max(0, at - scheduler.now()));
  };

  const runExpiry = (): void => {
    const fx = model.expire(scheduler.now());
    handle(fx);
    scheduleExpiry(fx.next);
    if (fx.changes.length) {
      unflushed = true;
      trigger$.next(pending);
    }
  };

  const handle = (fx: Effects): void => {
    for (const c of fx.changes) {
      let u = unshipped.get(c.key);
      if (!u) unshipped.set(c.key, (u = new Map()));
      u.set(c.address, c.op === 'add' ? 'desired' : c.op === 'hold' ? 'held' : 'absent');
      let m = delta.get(c.key);
      if (!m) delta.set(c.key, (m = new Map()));
      const op = c.op === 'add' ? 'add' : 'remove';
      const prev = m.get(c.address);
      if (prev === undefined) {
        m.set(c.address, op);
        pending++;
      } else if (prev !== op) {
        m.delete(c.address);
        pending--;
      }
      if (c.op !== 'add') latency.cancelled(c.key, c.address);
      log.debug({ group: c.key, address: c.address, op: c.op }, 'desired change');
    }
    for (const n of fx.notes) logNote(log, n);
    scheduleExpiry(fx.deadline);
  };

  const trackLatency = (ev: F2bEvent, fx: Effects, now: number): void => {
    if (ev.type !== 'ban' || !fx.changes.some((c) => c.op === 'add')) return;
    const t = logTime(ev);
    const verdict = latency.verdict(ev, t, now);
    if (verdict === 'future' && !zoneWarned) {
      zoneWarned = true;
      log.warn({ logTime: ev.isoTime, now: iso(now) }, 'fail2ban log time is ahead of this host: different time zones? ban-to-block latency not measured');
    }
    if (verdict !== 'live' || t === undefined) return;
    for (const c of fx.changes) if (c.op === 'add') latency.banned(c.key, c.address, t);
  };

  const push = (input: PipelineInput): void => {
    if (stopped) return;
    const now = scheduler.now();
    // A due timer may not have run yet (busy event loop): resolve it before the next line.
    if (expiryAt !== undefined && expiryAt <= now) {
      expirySub?.unsubscribe();
      expiryAt = undefined;
      runExpiry();
    }
    let changes = 0;
    if (input.event) {
      const fx = model.apply(input.event, now);
      handle(fx);
      changes = fx.changes.length;
      trackLatency(input.event, fx, now);
    }
    if (input.checkpoint) lastCheckpoint = input.checkpoint;
    if (changes > 0 || input.checkpoint) {
      unflushed = true;
      trigger$.next(pending);
    }
  };

  /*
   * At most one save in flight, its snapshot taken when it starts. Flushes that come while a
   * save runs only mark the state dirty: queueing one full snapshot per flush made a burst cost
   * O(bans x state size) in time and memory (10,000 bans held ~1 GB), and delayed the firewalls,
   * which only hear of a change once the save that contains it is done.
   */
  /** group key → address → latest class, since the last snapshot: handed over after its save. */
  let unshipped = new Map<string, Map<string, DesiredClass>>();
  let saving = false;
  let saveWanted = false;
  let drained: (() => void) | undefined;
  let releaseWanted = false;

  const flush = (reason: FlushReason | 'retry' | 'stop' | 'release'): void => {
    unflushed = false;
    log.debug({ reason, changes: pending, groups: delta.size }, 'flush');
    latency.prune(scheduler.now());
    delta.clear();
    pending = 0;
    saveWanted = true;
    if (!saving) startSave();
  };

  const startSave = (): void => {
    saveWanted = false;
    saving = true;
    const state: PersistedState = { version: STATE_VERSION, model: model.serialize(), savedAt: iso(scheduler.now()) };
    if (lastCheckpoint) state.checkpoint = lastCheckpoint;
    const changes = unshipped;
    unshipped = new Map();
    const release = releaseWanted;
    releaseWanted = false;
    saves$.next({ state, changes, release });
  };

  const handOver = (job: SaveJob): void => {
    const touched = new Set<Reconciler>();
    for (const [key, changes] of job.changes) {
      const r = reconcilers.get(targetFirewall.get(key) ?? '');
      if (!r) continue;
      r.updateDesired(key, changes);
      touched.add(r);
    }
    if (!stopped) for (const r of touched) r.kick();
    if (job.release) for (const r of reconcilers.values()) r.releaseRemovals();
  };

  let savesDone!: () => void;
  const savesFinished = new Promise<void>((resolve) => (savesDone = resolve));
  saves$
    .pipe(
      concatMap((job) =>
        defer(() => sink.save(job.state)).pipe(
          tap(() => {
            const recovered = persist.consecutiveFailures > 0;
            persist.consecutiveFailures = 0;
            delete persist.lastError;
            persist.lastSave = job.state.savedAt;
            if (job.state.checkpoint) persist.checkpoint = job.state.checkpoint;
            if (recovered) log.info({}, 'state saved again');
          }),
          catchError((err: unknown) => {
            saveFailed(err);
            return EMPTY;
          }),
          // Whether or not the save worked, the firewalls get the new desired state.
          finalize(() => {
            saving = false;
            handOver(job);
            if (saveWanted) startSave();
            else drained?.();
            notify();
          }),
        ),
      ),
    )
    .subscribe({ complete: () => savesDone() });

  const saveFailed = (err: unknown): void => {
    persist.consecutiveFailures++;
    persist.lastError = errorInfo(err, scheduler.now());
    const delay = retryDelay(persist.consecutiveFailures, retry, random);
    log.error(
      { code: persist.lastError.code, err: persist.lastError.message, attempt: persist.consecutiveFailures, retryInMs: delay },
      'saving the state failed: the checkpoint does not advance until a save succeeds',
    );
    if (stopped || saveRetrySub) return;
    saveRetrySub = scheduler.schedule(() => {
      saveRetrySub = undefined;
      if (!stopped) flush('retry');
    }, delay);
  };

  const triggerSub = trigger$.pipe(flushTriggers(batch.windowMs, batch.maxSize, scheduler, batch.leading)).subscribe((reason) => flush(reason));

  // ---- start-up: expiry timers and repair of every firewall against the loaded state ----
  for (const t of model.router.targets()) reconcilers.get(t.firewall)?.setDesired(t.key, model.desired.get(t.key) ?? [], model.held.get(t.key) ?? []);
  scheduleExpiry(model.nextDeadline());
  for (const r of reconcilers.values()) r.start();

  const status = (): SidecarStatus => {
    const groups: GroupStatus[] = [];
    const firewalls: FirewallStatus[] = [];
    for (const r of reconcilers.values()) {
      const s = r.status();
      firewalls.push(s.firewall);
      for (const g of s.groups) groups.push({ ...g, suspended: model.suspendedIn(`${g.firewall}/${g.group}`) });
    }
    return { groups, firewalls, persist: { ...persist }, counters: { ...model.counters }, waiting: model.waitingCount };
  };

  const isIdle = (): boolean => !unflushed && !saving && [...reconcilers.values()].every((r) => r.converged);
  const idle$ = new BehaviorSubject<void>(undefined);
  changed$.subscribe(() => idle$.next());

  return {
    model,
    push,
    connect: (input$) =>
      input$.subscribe({
        next: push,
        error: (err: unknown) => log.error({ err: errorInfo(err, scheduler.now()).message }, 'pipeline input failed'),
      }),
    status,
    status$: changed$.pipe(map(status)),
    releaseRemovals() {
      if (stopped) return;
      // Through a save, so the firewalls hear of the last read-back events before removals resume.
      releaseWanted = true;
      flush('release');
    },
    idle: () =>
      firstValueFrom(
        idle$.pipe(
          filter(() => isIdle()),
          map(() => undefined),
        ),
      ),
    async stop() {
      if (stopped) return;
      triggerSub.unsubscribe();
      flush('stop');
      stopped = true;
      expirySub?.unsubscribe();
      saveRetrySub?.unsubscribe();
      // The last snapshot must reach the sink before the save queue closes.
      // (A wanted save only exists while one runs: flush starts it at once otherwise.)
      if (saving) await new Promise<void>((resolve) => (drained = resolve));
      saves$.complete();
      await Promise.all([savesFinished, ...[...reconcilers.values()].map((r) => r.stop())]);
    },
  };
}

function logNote(log: PipelineLogger, n: Note): void {
  switch (n.kind) {
    case 'never-block':
      log.warn(n, 'ban ignored: address is in neverBlock');
      break;
    case 'no-ipv6-group':
      log.warn(n, 'IPv6 ban skipped for groups without an ipv6Name');
      break;
    case 'invalid-address':
      log.warn(n, 'ban ignored: not an IP address or network');
      break;
    case 'unrouted':
      log.debug(n, 'ban ignored: no group takes this jail');
      break;
    case 'crash-restart':
      log.warn(n, 'fail2ban restarted without a stop sequence: all bans suspended until their jails restore them');
      break;
    case 'not-restored':
    case 'max-suspend':
    case 'expired-unban':
      log.info(n, n.kind === 'expired-unban' ? 'unban confirmed' : n.kind === 'not-restored' ? 'suspended ban not restored: removing' : 'suspension too old: removing');
      break;
    default:
      log.debug(n, n.kind);
  }
}
