/**
 * One wake-up for the model's deadlines (held unbans, suspensions): always at the earliest one
 * known, so a single timer serves every deadline. Time comes only from the injected scheduler.
 */
import type { SchedulerLike, Subscription } from 'rxjs';

export class ExpiryTimer {
  private at: number | undefined;
  private sub: Subscription | undefined;
  private stopped = false;

  constructor(
    private readonly scheduler: SchedulerLike,
    /** Runs when the wake-up is due; it reports the next deadline through schedule(). */
    private readonly run: () => void,
  ) {}

  /** Earliest pending wake-up (scheduler ms), if any. */
  get due(): number | undefined {
    return this.at;
  }

  /** Wake up by `at`; a wake-up already set for then or earlier covers it. */
  schedule(at: number | undefined): void {
    if (at === undefined || this.stopped || (this.at !== undefined && this.at <= at)) return;
    this.sub?.unsubscribe();
    this.at = at;
    this.sub = this.scheduler.schedule(
      () => {
        this.at = undefined;
        this.sub = undefined;
        this.run();
      },
      Math.max(0, at - this.scheduler.now()),
    );
  }

  /**
   * Runs a wake-up that is due at `now` but whose timer has not fired yet (a busy event loop):
   * the next input must see the model as of its own time.
   */
  runIfDue(now: number): void {
    if (this.at === undefined || this.at > now) return;
    this.sub?.unsubscribe();
    this.sub = undefined;
    this.at = undefined;
    this.run();
  }

  stop(): void {
    this.stopped = true;
    this.sub?.unsubscribe();
    this.sub = undefined;
    this.at = undefined;
  }
}
