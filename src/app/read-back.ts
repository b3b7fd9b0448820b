/**
 * When the desired state is complete again after a start: the pipeline holds firewall removals
 * until the log (up to its size at start) and, on a first start, the fail2ban-client seed are read
 * back. A rotation during the read-back, or a safety timeout, also ends it: a huge log or a stuck
 * seed must not hold removals forever.
 */
import type { SchedulerLike, Subscription } from 'rxjs';
import type { Checkpoint } from '../core/checkpoint.js';

export interface ReadBackOptions {
  scheduler: SchedulerLike;
  timeoutMs: number;
  /** Called once, with the reason. */
  onRelease: (why: string) => void;
}

export class ReadBack {
  private waits = 0;
  private released = false;
  private readonly safety: Subscription;

  constructor(private readonly o: ReadBackOptions) {
    this.safety = o.scheduler.schedule(() => this.release('read-back timeout'), o.timeoutMs);
  }

  /** One more part to wait for; call before begin(). */
  expect(): void {
    this.waits++;
  }

  /** All parts are registered: with none, the state is complete already. */
  begin(): void {
    if (this.waits === 0) this.release('nothing to read back');
  }

  /** One part is read. Counted after the current push: the line (or seed event) that ended it must be in the snapshot. */
  done(why: string): void {
    queueMicrotask(() => {
      if (--this.waits <= 0) this.release(why);
    });
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

/** The log file as it was at start: the read-back of the log ends at its size, or when the path names another file. */
export interface LogBacklog {
  size: number;
  ino: number;
}

/**
 * What of the log is read back, given where reading starts (the checkpoint, else startAt) and the
 * file at start (`st`, undefined if missing); undefined when there is nothing before the end.
 */
export function logBacklog(from: Checkpoint | undefined, startAt: 'beginning' | 'end', st: { size: number; ino: number; dev: number } | undefined): LogBacklog | undefined {
  if (st === undefined || (from === undefined && startAt !== 'beginning')) return undefined;
  const readFrom = from !== undefined && from.ino === st.ino && from.dev === st.dev ? from.offset : 0;
  return st.size > readFrom ? { size: st.size, ino: st.ino } : undefined;
}

/** Whether the line that ends at `cp` completes the read-back of `backlog`. */
export function backlogRead(backlog: LogBacklog, cp: Checkpoint): boolean {
  return cp.offset >= backlog.size || cp.ino !== backlog.ino;
}
