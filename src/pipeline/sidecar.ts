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
 * nothing is lost (save-queue.ts: what happens when saving fails).
 *
 * This file only wires the units, each with one job:
 *   intake.ts         inputs → model (+ its deadlines, expiry.ts) → pending changes
 *   pending.ts        the changes not yet flushed / not yet handed to the firewalls
 *   batch.ts          when to flush (the batching window)
 *   save-queue.ts     one save at a time, retry with backoff, persistence status
 *   firewall-set.ts   one reconciler per firewall; changes routed by group
 *   latency-tracker.ts ban-to-block latency and the onApplied hook
 *   status.ts         the status, assembled from the parts
 * Time comes only from the injected scheduler.
 */
import type { RemovalBreaker } from './breaker.js';
import { BehaviorSubject, filter, firstValueFrom, map, Subject, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import type { F2bEvent } from '../parser/types.js';
import type { FirewallPort } from '../xg/port.js';
import {
  DEFAULT_SUSPEND,
  DesiredModel,
  type GroupChange,
  type ModelOptions,
  type Note,
  type SuspendOptions,
  type TargetCheck,
} from './model.js';
import { flushTriggers, type FlushReason } from './batch.js';
import { DEFAULT_RETRY, type RetryOptions } from './backoff.js';
import { errorInfo, iso, type PipelineLogger } from './log.js';
import type { GroupMapping, JailMatcher } from './routing.js';
import { localLogTime } from './latency.js';
import { LatencyTracker, type AppliedNotice } from './latency-tracker.js';
import { STATE_VERSION, type PersistedState, type StateSink } from './persisted.js';
import { PendingChanges, type ChangeSet } from './pending.js';
import { Intake, type PipelineInput } from './intake.js';
import { SaveQueue } from './save-queue.js';
import { FirewallSet, type FirewallSetOptions } from './firewall-set.js';
import { assembleStatus, type SidecarStatus } from './status.js';

// The sidecar's vocabulary, in one place for its users (runtime, seed, tests).
export { STATE_VERSION, type PersistedState, type StateSink } from './persisted.js';
export type { AppliedNotice } from './latency-tracker.js';
export type { PipelineInput } from './intake.js';
export type { PersistStatus, SidecarStatus } from './status.js';

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
  /** The floor (floor.ts makeFloor), or a plain never-block test. */
  neverBlock: TargetCheck;
  /** Lines this much older than the newest seen are ignored (model.ts maxLineAgeMs). */
  maxLineAgeMs?: number;
  /** Every model note (metrics hooks). */
  onNote?: (note: Note) => void;
  jailMatches?: JailMatcher;
  batch?: Partial<BatchOptions>;
  suspend?: Partial<SuspendOptions>;
  retry?: Partial<RetryOptions>;
  resyncIntervalMs?: number;
  /** Start with firewall removals held until releaseRemovals(): for an empty (first or lost) state. */
  holdRemovals?: boolean;
  /** Removals no Unban asked for pass this first (issue 11 item 6); none: not checked. */
  breaker?: RemovalBreaker;
  /** Addresses the firewall refuses for good are tried again after this long (default 1 h). */
  setAsideRetryMs?: number;
  scheduler: SchedulerLike;
  random?: () => number;
  log: PipelineLogger;
}

export interface SidecarOptions extends PipelineOptions {
  /** One port per firewall id named in `groups`. */
  ports: ReadonlyMap<string, FirewallPort>;
  /** Per firewall: packed lists or per-address hosts (issue 12; absent: hosts). */
  modes?: FirewallSetOptions['modes'];
  sink: StateSink;
  initial?: PersistedState;
  /**
   * Told after every add/remove the firewall acknowledged. Must not throw (it runs inside the
   * reconciler's pass); an exception is logged and ignored.
   */
  onApplied?: (change: AppliedNotice) => void;
  /** Log time (ms) of an event; default: fail2ban's local time stamp read in the host's zone. */
  logTime?: (ev: F2bEvent) => number | undefined;
  /**
   * The input is a followed log (intake.ts requestRead): held unbans and restore graces are
   * resolved only once the log has been read through their deadline. The reader listens to
   * `readRequests` and answers with `readThrough` inputs.
   */
  readBarrier?: boolean;
}

export interface Sidecar {
  push(input: PipelineInput): void;
  connect(input$: Observable<PipelineInput>): Subscription;
  /** With readBarrier: a deadline is due and the log must be read through it (a poll, at once). */
  readonly readRequests: Observable<void>;
  status(): SidecarStatus;
  readonly status$: Observable<SidecarStatus>;
  /**
   * Emits whenever the status may have changed, without computing it: status() walks every group,
   * so a consumer that throttles (the status file) should throttle this and call status() itself.
   */
  readonly changed$: Observable<void>;
  /** The model (read-only use: tests, `replay`, status). */
  readonly model: DesiredModel;
  /** Resolves when no window is open, no save is running and every firewall equals desired. */
  idle(): Promise<void>;
  /**
   * Retires a source (a decommissioned host): drops every ban it holds, lifting those no other
   * source holds. Applied through the intake like an event (batched, saved, then reconciled); the
   * firewalls take the removals as fail2ban's word (an Unban), so the removal breaker never holds
   * them. Returns the slots dropped and the group changes (nothing after stop()).
   */
  forget(source: string): ForgetResult;
  /**
   * Start-up: a line of `source` read before this process started (just before its checkpoint),
   * so that a transport's replay of it (rsyslog after a reconnect) is dropped. Never applied.
   */
  remember(source: string, event: F2bEvent): void;
  /**
   * With `holdRemovals`: everything pushed so far is the complete desired state (the log and the
   * seed are read back); once it is saved and handed over, stale hosts may be removed.
   */
  releaseRemovals(): void;
  /** Final snapshot, stop timers and reconcilers (in-flight requests are let finish). */
  stop(): Promise<void>;
}

export interface ForgetResult {
  source: string;
  /** (address, jail) holds the source had. */
  slots: number;
  /** remove: lifted (only this source held it); hold: only held unbans of others keep it. */
  changes: GroupChange[];
}

/** A snapshot on its way to the sink, and what the firewalls learn once it is saved. */
interface SaveJob {
  state: PersistedState;
  /** releaseRemovals() was called before this snapshot: it holds the complete desired state. */
  release: boolean;
  /** The changes up to the snapshot, for the reconcilers. */
  changes: ChangeSet;
}

export const DEFAULT_BATCH: BatchOptions = { windowMs: 1000, maxSize: 50, leading: true };
export const DEFAULT_RESYNC_MS = 600_000;

/** The sidecar's two switches, shared by the wiring and its public face. */
interface Flags {
  stopped: boolean;
  /** releaseRemovals() was called since the last snapshot. */
  releaseWanted: boolean;
}

export function createSidecar(opts: SidecarOptions): Sidecar {
  const { scheduler, log } = opts;
  const batch = { ...DEFAULT_BATCH, ...opts.batch };
  const retry = { ...DEFAULT_RETRY, ...opts.retry };
  const random = opts.random ?? Math.random;
  const model = loadModel(opts);
  const flags: Flags = { stopped: false, releaseWanted: false };
  const changed$ = new Subject<void>();
  const notify = (): void => changed$.next();

  const latency = new LatencyTracker({ liveSince: scheduler.now(), logTime: opts.logTime ?? localLogTime, log, onApplied: opts.onApplied });
  const firewalls = new FirewallSet({
    targets: model.router.targets(),
    ports: opts.ports,
    ...(opts.modes ? { modes: opts.modes } : {}),
    maxBatch: batch.maxSize,
    retry,
    resyncIntervalMs: opts.resyncIntervalMs ?? DEFAULT_RESYNC_MS,
    holdRemovals: opts.holdRemovals ?? false,
    ...(opts.breaker && { breaker: opts.breaker }),
    ...(opts.setAsideRetryMs !== undefined && { setAsideRetryMs: opts.setAsideRetryMs }),
    scheduler,
    random,
    log,
    onChange: notify,
    onApplied: (c) => latency.applied(c),
  });
  const pending = new PendingChanges();
  const trigger$ = new Subject<number>();
  const readRequests = new Subject<void>();
  const intake = new Intake({
    model,
    pending,
    latency,
    checkpoint: opts.initial?.checkpoint,
    checkpoints: opts.initial?.checkpoints,
    onDirty: (n) => trigger$.next(n),
    scheduler,
    log,
    onNote: opts.onNote,
    ...(opts.readBarrier && { requestRead: () => readRequests.next() }),
  });
  const snapshot = (): SaveJob => {
    const state: PersistedState = { version: STATE_VERSION, model: model.serialize(), savedAt: iso(scheduler.now()) };
    if (intake.checkpoint) state.checkpoint = intake.checkpoint;
    const feeds = intake.checkpoints;
    if (feeds) state.checkpoints = feeds;
    const job = { state, changes: pending.takeUnshipped(), release: flags.releaseWanted };
    flags.releaseWanted = false;
    return job;
  };
  const saves = new SaveQueue<SaveJob>({
    sink: opts.sink,
    snapshot,
    // Whether or not the save worked, the firewalls get the new desired state.
    settled: (job) => firewalls.handOver(job.changes, job.release, !flags.stopped),
    retry: () => flush('retry'),
    onChange: notify,
    checkpoint: opts.initial?.checkpoint,
    checkpoints: opts.initial?.checkpoints,
    retryOptions: retry,
    random,
    scheduler,
    log,
  });
  const flush = (reason: FlushReason | 'retry' | 'stop' | 'release'): void => {
    log.debug({ reason, changes: pending.size, groups: pending.groups }, 'flush');
    latency.prune(scheduler.now());
    pending.flushed();
    saves.request();
  };
  const triggerSub = trigger$
    .pipe(flushTriggers(batch.windowMs, batch.maxSize, scheduler, batch.leading))
    .subscribe((reason) => flush(reason));

  // Start-up: expiry timers and repair of every firewall against the loaded state.
  firewalls.setDesired(model);
  intake.start();
  firewalls.start();
  return facade({ model, intake, pending, saves, firewalls, changed$, flags, flush, triggerSub, scheduler, log, readRequests });
}

interface Parts {
  model: DesiredModel;
  intake: Intake;
  pending: PendingChanges;
  saves: SaveQueue<SaveJob>;
  firewalls: FirewallSet;
  /** Emits whenever the status may have changed. */
  changed$: Subject<void>;
  flags: Flags;
  flush: (reason: 'stop' | 'release') => void;
  triggerSub: Subscription;
  scheduler: SchedulerLike;
  log: PipelineLogger;
  readRequests: Subject<void>;
}

/** The Sidecar interface over the wired parts. */
function facade(p: Parts): Sidecar {
  const { model, intake, flags, log, scheduler } = p;
  const status = (): SidecarStatus => assembleStatus({ firewalls: p.firewalls.status(), persist: p.saves.status(), model });
  const isIdle = (): boolean => !p.pending.dirty && !p.saves.busy && p.firewalls.converged;
  const idle$ = new BehaviorSubject<void>(undefined);
  p.changed$.subscribe(() => idle$.next());
  return {
    model,
    push: (input) => intake.push(input),
    connect: (input$) =>
      input$.subscribe({
        next: (input) => intake.push(input),
        error: (err: unknown) => log.error({ err: errorInfo(err, scheduler.now()).message }, 'pipeline input failed'),
      }),
    readRequests: p.readRequests.asObservable(),
    remember: (source, event) => intake.remember(source, event),
    forget(source) {
      const fx = intake.forget(source);
      return { source, slots: fx.slots, changes: fx.changes };
    },
    status,
    status$: p.changed$.pipe(map(status)),
    changed$: p.changed$.asObservable(),
    releaseRemovals() {
      if (flags.stopped) return;
      // Through a save, so the firewalls hear of the last read-back events before removals resume.
      flags.releaseWanted = true;
      p.flush('release');
    },
    idle: () =>
      firstValueFrom(
        idle$.pipe(
          filter(isIdle),
          map(() => undefined),
        ),
      ),
    async stop() {
      if (flags.stopped) return;
      p.triggerSub.unsubscribe();
      p.flush('stop');
      flags.stopped = true;
      intake.stop();
      // The last snapshot must reach the sink before the reconcilers stop.
      await p.saves.close();
      await p.firewalls.stop();
    },
  };
}

/** The model, with the loaded state if there is one. */
function loadModel(opts: SidecarOptions): DesiredModel {
  const modelOpts: ModelOptions = { groups: opts.groups, neverBlock: opts.neverBlock, suspend: { ...DEFAULT_SUSPEND, ...opts.suspend } };
  if (opts.jailMatches) modelOpts.jailMatches = opts.jailMatches;
  if (opts.maxLineAgeMs !== undefined) modelOpts.maxLineAgeMs = opts.maxLineAgeMs;
  const model = new DesiredModel(modelOpts);
  if (opts.initial) {
    if (opts.initial.version !== STATE_VERSION) throw new Error(`unsupported state file version ${opts.initial.version}`);
    model.load(opts.initial.model, opts.scheduler.now());
  }
  return model;
}
