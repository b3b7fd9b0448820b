// Marble tests of the batching window (style of rxjs spec/operators/debounceTime-spec.ts).
import { describe, expect, it } from 'vitest';
import { TestScheduler } from 'rxjs/testing';
import { flushTriggers } from '../../src/pipeline/batch.js';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

const V = { a: 1, b: 2, c: 3, d: 1, e: 4 };
const R = { w: 'window', s: 'size', c: 'complete' } as const;

describe('flushTriggers', () => {
  it('the first change after quiet opens the window; its end flushes', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable, expectSubscriptions }) => {
      const e1 = hot('  -a-b-c---d------|', V);
      const e1subs = '  ^---------------!';
      const expected = '------w-------w-|';
      expectObservable(e1.pipe(flushTriggers(5, 50, ts))).toBe(expected, R);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('unlike debounce, a steady stream of changes cannot postpone the write', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      const e1 = hot('  -a-a-a-a-a-a-a-a-a-a-a-a', V);
      const expected = '------w-----w-----w-----w';
      expectObservable(e1.pipe(flushTriggers(5, 50, ts))).toBe(expected, R);
    });
  });

  it('reaching maxSize flushes at once and closes the window', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      // c brings the difference to 3: flush at once. d opens a new window that the completion flushes.
      const e1 = hot('  -a-b-c-----d---|', V);
      const expected = '-----s---------(c|)';
      expectObservable(e1.pipe(flushTriggers(6, 3, ts))).toBe(expected, R);
    });
  });

  it('works with windows in real units (1000 ms default)', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      const e1 = hot('  a 99ms b 99ms c', V);
      expectObservable(e1.pipe(flushTriggers(1000, 50, ts))).toBe('1000ms w', R);
    });
  });

  it('completion flushes an open window; an idle completion emits nothing', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      expectObservable(hot('-a--|', V).pipe(flushTriggers(10, 50, ts))).toBe('----(c|)', R);
      expectObservable(hot('----|', V).pipe(flushTriggers(10, 50, ts))).toBe('----|', R);
    });
  });

  it('unsubscribing cancels the window timer', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      const e1 = hot('  -a--------', V);
      const unsub = '   ---!';
      expectObservable(e1.pipe(flushTriggers(5, 50, ts)), unsub).toBe('---', R);
    });
  });

  it('propagates errors', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      expectObservable(hot('-a-#', V).pipe(flushTriggers(5, 50, ts))).toBe('---#', R);
    });
  });
});
