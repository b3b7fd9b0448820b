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
  retryOptions: RetryOptions;
  random: () => number;
  scheduler: SchedulerLike;
  log: PipelineLogger;
}

export class SaveQueue<J extends { state: PersistedState }> {
  private readonly jobs$ = new Subject<J>();
  private readonly finished: Promise<void>;
  private readonly persist: PersistStatus = { consecutiveFailures: 0 };
  private saving = false;
  private wanted = false;
  private closed = false;
  private drained: (() => void) | undefined;
  private retrySub: Subscription | undefined;

  constructor(private readonly o: SaveQueueOptions<J>) {
    if (o.checkpoint) this.persist.checkpoint = o.checkpoint;
    this.finished = new Promise<void>((resolve) => {
      this.jobs$.pipe(concatMap((job) => this.save(job))).subscribe({ complete: () => resolve() });
    });
  }

  /** A save is running (its snapshot is taken; later changes need another). */
  get busy(): boolean {
    return this.saving;
  }

  status(): PersistStatus {
    return { ...this.persist };
  }

  /** Save the current state: now if no save runs, else right after the running one. */
  request(): void {
    this.wanted = true;
    if (!this.saving) this.start();
  }

  /** No more retries; resolves once the last requested snapshot has reached the sink (or failed). */
  async close(): Promise<void> {
    this.closed = true;
    this.retrySub?.unsubscribe();
    this.retrySub = undefined;
    // A wanted save only exists while one runs: request() starts it at once otherwise.
    if (this.saving) await new Promise<void>((resolve) => (this.drained = resolve));
    this.jobs$.complete();
    await this.finished;
  }

  private start(): void {
    this.wanted = false;
    this.saving = true;
    this.jobs$.next(this.o.snapshot());
  }

  private save(job: J) {
    return defer(() => this.o.sink.save(job.state)).pipe(
      tap(() => this.succeeded(job.state)),
      catchError((err: unknown) => {
        this.failed(err);
        return EMPTY;
      }),
      finalize(() => {
        this.saving = false;
        this.o.settled(job);
        if (this.wanted) this.start();
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
    if (recovered) this.o.log.info({}, 'state saved again');
  }

  private failed(err: unknown): void {
    const { scheduler, log } = this.o;
    this.persist.consecutiveFailures++;
    this.persist.lastError = errorInfo(err, scheduler.now());
    const delay = retryDelay(this.persist.consecutiveFailures, this.o.retryOptions, this.o.random);
    log.error(
      { code: this.persist.lastError.code, err: this.persist.lastError.message, attempt: this.persist.consecutiveFailures, retryInMs: delay },
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
