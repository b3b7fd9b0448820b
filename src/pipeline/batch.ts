/** When to write: the batching window of the pipeline, as one RxJS operator. */
import { Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';

export type FlushReason = 'window' | 'size' | 'complete';

/**
 * Input: the pending difference (number of group changes not yet flushed) after each change.
 * The first value after quiet opens a window of `windowMs`; its end emits 'window'. A value of
 * `maxSize` or more emits 'size' at once and closes the window. Completion flushes an open window.
 * Unlike debounceTime, a steady stream of bans cannot postpone the write indefinitely.
 */
export function flushTriggers(windowMs: number, maxSize: number, scheduler: SchedulerLike): OperatorFunction<number, FlushReason> {
  return (source) =>
    new Observable<FlushReason>((sub) => {
      let timer: Subscription | undefined;
      const fire = (reason: FlushReason): void => {
        timer?.unsubscribe();
        timer = undefined;
        sub.next(reason);
      };
      const inner = source.subscribe({
        next: (pending) => {
          if (pending >= maxSize) fire('size');
          else timer ??= scheduler.schedule(() => fire('window'), windowMs);
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
