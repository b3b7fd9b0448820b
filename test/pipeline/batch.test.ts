// Marble tests of the batching window (style of rxjs spec/operators/debounceTime-spec.ts).
import { describe, expect, it } from 'vitest';
import { TestScheduler } from 'rxjs/testing';
import { flushTriggers } from '../../src/pipeline/batch.js';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

const V = { a: 1, b: 2, c: 3, d: 1, e: 4, z: 0 };
const R = { q: 'quiet', w: 'window', s: 'size', c: 'complete' } as const;

describe('flushTriggers', () => {
  it('a change after quiet is flushed at once; changes within a window of a write wait until a window after it', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable, expectSubscriptions }) => {
      // a: quiet, at once. b: 2 frames after that write, waits until 6 and takes c along.
      // d: 3 frames after that, waits until 11.
      const e1 = hot('  -a-b-c---d------|', V);
      const e1subs = '  ^---------------!';
      const expected = '-q----w----w----|';
      expectObservable(e1.pipe(flushTriggers(5, 50, ts))).toBe(expected, R);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('unlike debounce, a steady stream of changes cannot postpone the write; writes stay a window apart', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      const e1 = hot('  -a-a-a-a-a-a-a-a-a-a-a-a', V);
      // At 11 and 21 a change and the end of the wait fall on one frame: the change flushes first.
      const expected = '-q----w----q----w----q----w';
      expectObservable(e1.pipe(flushTriggers(5, 50, ts))).toBe(expected, R);
    });
  });

  it('reaching maxSize flushes at once and closes the window', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      // a: quiet. b opens a window; c brings the difference to 3: at once. d comes a window after
      // that write: quiet again. e: 1 frame later, opens a window that the completion flushes.
      const e1 = hot('  -a-b-c-----de--|', { ...V, d: 1, e: 2 });
      const expected = '-q---s-----q---(c|)';
      expectObservable(e1.pipe(flushTriggers(6, 3, ts))).toBe(expected, R);
    });
  });

  it('works with windows in real units (1000 ms default)', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      const e1 = hot('  a 99ms b 99ms c 2000ms d', V);
      expectObservable(e1.pipe(flushTriggers(1000, 50, ts))).toBe('q 999ms w 1200ms q', R);
    });
  });

  it('a moved checkpoint alone (0 changes) opens a window but is no write: the next change is still quiet', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      expectObservable(hot('-z-----|', V).pipe(flushTriggers(5, 50, ts))).toBe('------w|', R);
      // The window opened by z ends; a comes after it and is flushed at once.
      expectObservable(hot('-z-----a--|', V).pipe(flushTriggers(5, 50, ts))).toBe('------wq--|', R);
      // a comes while z's window is open: quiet all the same, so at once (the checkpoint goes with it).
      expectObservable(hot('-z-z-a----|', V).pipe(flushTriggers(5, 50, ts))).toBe('-----q----|', R);
    });
  });

  it('a difference cancelled within the window (0 pending at its end) does not count as a write', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      // a: quiet write. b waits for 6 and is cancelled by z (net 0): the flush at 6 carries no
      // change, so d, a window after a's write, is quiet.
      expectObservable(hot('-a-b-z--d--|', V).pipe(flushTriggers(5, 50, ts))).toBe('-q----w-q--|', R);
    });
  });

  it('completion flushes an open window; an idle completion emits nothing', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      expectObservable(hot('-a-b|', V).pipe(flushTriggers(10, 50, ts))).toBe('-q--(c|)', R);
      expectObservable(hot('-a--|', V).pipe(flushTriggers(10, 50, ts))).toBe('-q--|', R);
      expectObservable(hot('----|', V).pipe(flushTriggers(10, 50, ts))).toBe('----|', R);
    });
  });

  it('unsubscribing cancels the window timer', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      const e1 = hot('  -a-b------', V);
      const unsub = '   -----!';
      expectObservable(e1.pipe(flushTriggers(5, 50, ts)), unsub).toBe('-q---', R);
    });
  });

  it('with leading off, every change waits for a window opened by the first one', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      const e1 = hot('  -a-b-c---d------|', V);
      const expected = '------w-------w-|';
      expectObservable(e1.pipe(flushTriggers(5, 50, ts, false))).toBe(expected, R);
    });
  });

  it('propagates errors', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      expectObservable(hot('-a-#', V).pipe(flushTriggers(5, 50, ts))).toBe('-q-#', R);
    });
  });
});
