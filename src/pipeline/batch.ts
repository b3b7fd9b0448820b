/** When to write: the batching window of the pipeline, as one RxJS operator. */
import { Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';

export type FlushReason = 'quiet' | 'window' | 'size' | 'complete';

/**
 * Input: the pending difference (number of group changes not yet flushed) after each change; 0
 * when only the log position moved (a checkpoint to save, nothing for the firewalls).
 *
 * With `leading` (the default), flushes that carry changes are kept `windowMs` apart, like a
 * throttle with both edges:
 * - a change more than `windowMs` after the last such flush is flushed at once ('quiet'): a lone
 *   ban costs one write of latency, not a window plus a write;
 * - a change sooner than that waits until `windowMs` after the last flush ('window'), and
 *   everything arriving meanwhile goes in that one flush: a burst costs one request per window.
 * Without `leading`, the first change opens a window of `windowMs` and its end flushes (most
 * coalescing: a ban lifted within the window costs no write at all).
 * Either way: a checkpoint alone (0) opens a window of `windowMs` (saves stay bounded);
 * `maxSize` pending changes emit 'size' at once; completion flushes an open window; and unlike
 * debounceTime, a steady stream of changes cannot postpone the write indefinitely.
 */
export function flushTriggers(
  windowMs: number,
  maxSize: number,
  scheduler: SchedulerLike,
  leading = true,
): OperatorFunction<number, FlushReason> {
  return (source) =>
    new Observable<FlushReason>((sub) => {
      let timer: Subscription | undefined;
      let due = Infinity;
      let last = 0;
      let lastWriteAt = -Infinity;
      const fire = (reason: FlushReason): void => {
        timer?.unsubscribe();
        timer = undefined;
        due = Infinity;
        if (last > 0) lastWriteAt = scheduler.now();
        last = 0;
        sub.next(reason);
      };
      const schedule = (at: number): void => {
        timer?.unsubscribe();
        due = at;
        timer = scheduler.schedule(() => fire('window'), at - scheduler.now());
      };
      const inner = source.subscribe({
        next: (pending) => {
          last = pending;
          const now = scheduler.now();
          if (pending >= maxSize) fire('size');
          else if (!leading || pending === 0) {
            if (timer === undefined) schedule(now + windowMs);
          } else {
            const at = lastWriteAt + windowMs;
            if (at <= now) fire('quiet');
            else if (at < due) schedule(at);
          }
        },
        error: (err: unknown) => sub.error(err),
        complete: () => {
          if (timer) fire('complete');
          sub.complete();
        },
      });
      return () => {
        inner.unsubscribe();
        timer?.unsubscribe();
      };
    });
}
