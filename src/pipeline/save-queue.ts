/**
 * The persistence queue: snapshots go to the StateSink one at a time, and a failed save is asked
 * for again after a back-off delay.
 *
 * At most one save is in flight, its snapshot taken when it starts. Requests that come while a
 * save runs only mark the state dirty: queueing one full snapshot per flush made a burst cost
 * O(bans x state size) in time and memory (10,000 bans held ~1 GB), and delayed the firewalls,
 * which only hear of a change once the save that contains it is done.
 *
 * If saving fails, the persisted checkpoint does not advance (the lines are read again after a
 * restart) and the save is retried with backoff; the job is handed on (`settled`) either way,
 * because a correct firewall matters more than a current state file, and a replay converges.
 * Saves are paced by their own cost: the next one starts no earlier than `spacing` times the last
 * one's duration after it ended. A save serialises the whole state, so back-to-back saves during a
 * catch-up (a flush every few lines) made reading a large log quadratic: at 76,000 addresses each
 * save took ~120 ms and saves plus their garbage were half of a 600,000-line catch-up. A cheap
 * save (a small state, a normal day) waits microseconds, so a lone ban is not delayed.
 * Time comes only from the injected scheduler.
 */
import { catchError, concatMap, defer, EMPTY, finalize, Subject, tap, type SchedulerLike, type Subscription } from 'rxjs';
import type { Checkpoint } from '../core/checkpoint.js';
import { retryDelay, type RetryOptions } from './backoff.js';
import { errorInfo, type PipelineLogger } from './log.js';
import type { PersistedState, StateSink } from './persisted.js';
import type { PersistStatus } from './status.js';

export interface SaveQueueOptions<J extends { state: PersistedState }> {
  sink: StateSink;
  /** Takes the snapshot to save: called when a save starts, not when it is requested. */
  snapshot: () => J;
  /** After every save, whether it worked or not (the job's changes go to the firewalls). */
  settled: (job: J) => void;
  /** Asks for a save again after a failure (the sidecar flushes, then requests). */
  retry: () => void;
  /** After each save, once the next one (if wanted) has started: status may have changed. */
  onChange: () => void;
  /** Checkpoint of the loaded state: where a restart resumes until the first save. */
  checkpoint?: Checkpoint;
  /** Same per feed (glob mode). */
  checkpoints?: Record<string, Checkpoint>;
  retryOptions: RetryOptions;
  /** The next save waits this many times the last save's duration (0: back to back). Default 4: saving takes at most a fifth of the time. */
  spacing?: number;
  random: () => number;
  scheduler: SchedulerLike;
  log: PipelineLogger;
}

const DEFAULT_SPACING = 4;

export class SaveQueue<J extends { state: PersistedState }> {
  private readonly jobs$ = new Subject<J>();
  private readonly finished: Promise<void>;
  private readonly persist: PersistStatus = { consecutiveFailures: 0 };
  private saving = false;
  private wanted = false;
  private closed = false;
  private drained: (() => void) | undefined;
  private retrySub: Subscription | undefined;
  /** A paced start is scheduled (counts as busy: a save is on its way). */
  private pacedSub: Subscription | undefined;
  /** Scheduler time before which the next save may not start. */
  private notBefore = 0;

  constructor(private readonly o: SaveQueueOptions<J>) {
    if (o.checkpoint) this.persist.checkpoint = o.checkpoint;
    if (o.checkpoints) this.persist.checkpoints = o.checkpoints;
    this.finished = new Promise<void>((resolve) => {
      this.jobs$.pipe(concatMap((job) => this.save(job))).subscribe({ complete: () => resolve() });
    });
  }

  /** A save is running (its snapshot is taken; later changes need another). */
  get busy(): boolean {
    return this.saving || this.pacedSub !== undefined;
  }

  status(): PersistStatus {
    return { ...this.persist };
  }

  /** Save the current state: now if no save runs, else right after the running one. */
  request(): void {
    this.wanted = true;
    if (!this.saving) this.startWhenDue();
  }

  /** No more retries; resolves once the last requested snapshot has reached the sink (or failed). */
  async close(): Promise<void> {
    this.closed = true;
    this.retrySub?.unsubscribe();
    this.retrySub = undefined;
    // The final snapshot does not wait for pacing.
    if (this.pacedSub) {
      this.pacedSub.unsubscribe();
      this.pacedSub = undefined;
      this.start();
    }
    // A wanted save only exists while one runs: request() starts it at once otherwise.
    if (this.saving) await new Promise<void>((resolve) => (this.drained = resolve));
    this.jobs$.complete();
    await this.finished;
  }

  /** Starts now, or schedules the start for when pacing allows (once). */
  private startWhenDue(): void {
    if (this.pacedSub) return;
    const wait = this.closed ? 0 : this.notBefore - this.o.scheduler.now();
    if (wait <= 0) return this.start();
    this.pacedSub = this.o.scheduler.schedule(() => {
      this.pacedSub = undefined;
      this.start();
    }, wait);
  }

  private start(): void {
    this.wanted = false;
    this.saving = true;
    this.began = this.o.scheduler.now();
    this.jobs$.next(this.o.snapshot());
  }

  /** Scheduler time the running save started (its snapshot included). */
  private began = 0;

  private save(job: J) {
    return defer(() => this.o.sink.save(job.state)).pipe(
      tap(() => this.succeeded(job.state)),
      catchError((err: unknown) => {
        this.failed(err);
        return EMPTY;
      }),
      finalize(() => {
        this.saving = false;
        const ended = this.o.scheduler.now();
        this.notBefore = ended + (this.o.spacing ?? DEFAULT_SPACING) * (ended - this.began);
        this.o.settled(job);
        if (this.wanted) this.startWhenDue();
        else this.drained?.();
        this.o.onChange();
      }),
    );
  }

  private succeeded(state: PersistedState): void {
    const recovered = this.persist.consecutiveFailures > 0;
    this.persist.consecutiveFailures = 0;
    delete this.persist.lastError;
    this.persist.lastSave = state.savedAt;
    if (state.checkpoint) this.persist.checkpoint = state.checkpoint;
    // A fresh object per snapshot (Intake.checkpoints), never changed after: shared safely.
    if (state.checkpoints) this.persist.checkpoints = state.checkpoints;
    if (recovered) this.o.log.info({}, 'state saved again');
  }

  private failed(err: unknown): void {
    const { scheduler, log } = this.o;
    this.persist.consecutiveFailures++;
    this.persist.lastError = errorInfo(err, scheduler.now());
    const delay = retryDelay(this.persist.consecutiveFailures, this.o.retryOptions, this.o.random);
    log.error(
      {
        code: this.persist.lastError.code,
        err: this.persist.lastError.message,
        attempt: this.persist.consecutiveFailures,
        retryInMs: delay,
      },
      'saving the state failed: the checkpoint does not advance until a save succeeds',
    );
    if (this.closed || this.retrySub) return;
    // close() cancels this timer, so a retry never runs after it.
    this.retrySub = scheduler.schedule(() => {
      this.retrySub = undefined;
      this.o.retry();
    }, delay);
  }
}
