// Virtual time (TestScheduler in run mode, VirtualTimeScheduler by hand; 1 frame = 1 ms); nothing waits on real time.
import { describe, expect, it } from 'vitest';
import { VirtualTimeScheduler } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { ExpiryTimer } from '../../src/pipeline/expiry.js';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** A timer whose run records the time and may report a next deadline. */
function rig(ts: VirtualTimeScheduler, next: (number | undefined)[] = []) {
  const runs: number[] = [];
  const timer: ExpiryTimer = new ExpiryTimer(ts, () => {
    runs.push(ts.now());
    timer.schedule(next.shift());
  });
  return { timer, runs };
}

describe('ExpiryTimer', () => {
  it('one wake-up at the earliest deadline: a later one is covered, an earlier one replaces it', () => {
    const ts = scheduler();
    ts.run(({ flush }) => {
      const { timer, runs } = rig(ts);
      timer.schedule(50);
      timer.schedule(80);
      expect(timer.due).toBe(50);
      timer.schedule(30);
      expect(timer.due).toBe(30);
      flush();
      // Once: the run is expected to report what is left (here nothing).
      expect(runs).toEqual([30]);
      expect(timer.due).toBeUndefined();
    });
  });

  it('the run reports the next deadline, which is then scheduled', () => {
    const ts = scheduler();
    ts.run(({ flush }) => {
      const { timer, runs } = rig(ts, [70, undefined]);
      timer.schedule(20);
      flush();
      expect(runs).toEqual([20, 70]);
    });
  });

  it('a deadline already past runs at the next turn of the scheduler, not synchronously', () => {
    const ts = scheduler();
    ts.run(({ flush }) => {
      const { timer, runs } = rig(ts);
      const seenAtSchedule: number[][] = [];
      ts.schedule(() => {
        timer.schedule(10);
        seenAtSchedule.push([...runs]);
      }, 40);
      flush();
      expect(seenAtSchedule).toEqual([[]]);
      expect(runs).toEqual([40]);
    });
  });

  it('runIfDue runs a due wake-up whose timer has not fired, once', () => {
    const ts = new VirtualTimeScheduler();
    const { timer, runs } = rig(ts);
    timer.schedule(100);
    timer.runIfDue(99);
    expect(runs).toEqual([]);
    // The clock has passed the deadline but the scheduler has not run the timer yet (a busy loop).
    ts.frame = 150;
    timer.runIfDue(150);
    expect(runs).toEqual([150]);
    ts.flush();
    expect(runs).toEqual([150]);
  });

  it('stop cancels the wake-up and ignores later deadlines', () => {
    const ts = scheduler();
    ts.run(({ flush }) => {
      const { timer, runs } = rig(ts);
      timer.schedule(10);
      timer.stop();
      timer.schedule(5);
      timer.runIfDue(1000);
      flush();
      expect(runs).toEqual([]);
      expect(timer.due).toBeUndefined();
    });
  });
});
