/**
 * When the desired state is complete again after a start: the pipeline holds firewall removals
 * until the log (to its end, rotated files included) and, on a first start, the fail2ban-client
 * seed are read back. A safety timeout ends the wait for the parts that may never end (a stuck
 * seed), but not for a part that must end first: a log that was never read (missing, unreadable,
 * a mistyped path) justifies no removal, however long it takes.
 */
import type { SchedulerLike, Subscription } from 'rxjs';

export interface ReadBackOptions {
  scheduler: SchedulerLike;
  timeoutMs: number;
  /** Called once, with the reason. */
  onRelease: (why: string) => void;
}

export class ReadBack {
  private waits = 0;
  /** Parts the safety timeout does not override. */
  private hardWaits = 0;
  private timedOut = false;
  private released = false;
  private readonly safety: Subscription;

  constructor(private readonly o: ReadBackOptions) {
    this.safety = o.scheduler.schedule(() => this.timeout(), o.timeoutMs);
  }

  /** One more part to wait for; call before begin(). `hard`: the safety timeout does not end it. */
  expect(hard = false): void {
    this.waits++;
    if (hard) this.hardWaits++;
  }

  /** All parts are registered: with none, the state is complete already. */
  begin(): void {
    if (this.waits === 0) this.release('nothing to read back');
  }

  /** One part is read (`hard` as given to expect). Counted after the current push: the line (or seed event) that ended it must be in the snapshot. */
  done(why: string, hard = false): void {
    queueMicrotask(() => {
      this.waits--;
      if (hard) this.hardWaits--;
      if (this.waits <= 0) this.release(why);
      else if (this.timedOut && this.hardWaits <= 0) this.release(`${why} (after the read-back timeout)`);
    });
  }

  private timeout(): void {
    this.timedOut = true;
    if (this.hardWaits <= 0) this.release('read-back timeout');
  }

  release(why: string): void {
    if (this.released) return;
    this.released = true;
    this.safety.unsubscribe();
    this.o.onRelease(why);
  }

  stop(): void {
    this.safety.unsubscribe();
  }
}
