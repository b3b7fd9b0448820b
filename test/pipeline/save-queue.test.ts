// Virtual time (VirtualClock); the sink's saves are promises the test settles by hand.
import { describe, expect, it } from 'vitest';
import { SaveQueue } from '../../src/pipeline/save-queue.js';
import { STATE_VERSION, type PersistedState, type StateSink } from '../../src/pipeline/persisted.js';
import { MODEL_VERSION } from '../../src/pipeline/model.js';
import { cp, recordingLogger, VirtualClock } from './harness.js';

interface Job {
  state: PersistedState;
  /** Snapshot number: which snapshot the queue took. */
  n: number;
}

/** A sink whose saves stay pending until finish(i) / fail(i). */
class ManualSink implements StateSink {
  readonly calls: { state: PersistedState; resolve: () => void; reject: (e: unknown) => void }[] = [];
  save(state: PersistedState): Promise<void> {
    return new Promise((resolve, reject) => this.calls.push({ state, resolve, reject }));
  }
  finish(i: number): void {
    this.calls[i]!.resolve();
  }
  fail(i: number, code = 'ENOSPC'): void {
    this.calls[i]!.reject(Object.assign(new Error(`${code}: simulated`), { code }));
  }
}

const RETRY = { initialDelayMs: 1000, maxDelayMs: 8000, multiplier: 2, jitter: 0.2 };

function rig(o: { checkpoint?: boolean; spacing?: number } = {}) {
  const clock = new VirtualClock();
  const sink = new ManualSink();
  const log = recordingLogger();
  const events: string[] = [];
  /** What the next snapshot will contain: its checkpoint offset. */
  const world = { offset: 0, taken: 0 };
  const q: SaveQueue<Job> = new SaveQueue<Job>({
    sink,
    snapshot: () => {
      const n = ++world.taken;
      events.push(`snapshot ${n}@${world.offset}`);
      const state: PersistedState = {
        version: STATE_VERSION,
        model: { version: MODEL_VERSION, stopping: false, entries: {} },
        savedAt: `t${clock.now}`,
        checkpoint: cp(world.offset),
      };
      return { state, n };
    },
    settled: (job) => events.push(`settled ${job.n}`),
    retry: () => {
      events.push(`retry@${clock.now}`);
      q.request();
    },
    onChange: () => events.push(`change busy=${q.busy}`),
    checkpoint: o.checkpoint ? cp(7) : undefined,
    retryOptions: RETRY,
    ...(o.spacing === undefined ? {} : { spacing: o.spacing }),
    // 0.5: no jitter either way, so delays are exact.
    random: () => 0.5,
    scheduler: clock.scheduler,
    log,
  });
  return { clock, sink, log, events, world, q };
}

describe('SaveQueue', () => {
  it('one save at a time: requests during a save coalesce into one, whose snapshot is taken when it starts', async () => {
    const r = rig();
    r.world.offset = 10;
    r.q.request();
    expect(r.q.busy).toBe(true);
    r.world.offset = 20;
    r.q.request();
    r.world.offset = 30;
    r.q.request();
    await r.clock.settle();
    expect(r.sink.calls).toHaveLength(1);
    r.sink.finish(0);
    await r.clock.settle();
    // The second save holds everything up to the last request (30), not one snapshot per request.
    expect(r.sink.calls.map((c) => c.state.checkpoint?.offset)).toEqual([10, 30]);
    r.sink.finish(1);
    await r.clock.settle();
    expect(r.q.busy).toBe(false);
    // settled before the next save starts; onChange after it started (so idle() is not fooled).
    expect(r.events).toEqual(['snapshot 1@10', 'settled 1', 'snapshot 2@30', 'change busy=true', 'settled 2', 'change busy=false']);
    expect(r.q.status()).toEqual({ consecutiveFailures: 0, lastSave: 't0', checkpoint: cp(30) });
  });

  it('paces saves by their cost: the next starts no earlier than spacing × the last duration after it ended', async () => {
    const r = rig({ spacing: 4 });
    r.q.request();
    await r.clock.advance(100); // the first save takes 100 ms
    r.q.request();
    r.sink.finish(0);
    await r.clock.settle();
    // Wanted, but not before 100 + 4 × 100 = 500: busy meanwhile, so idle() is not fooled.
    expect(r.sink.calls).toHaveLength(1);
    expect(r.q.busy).toBe(true);
    await r.clock.advanceTo(499);
    expect(r.sink.calls).toHaveLength(1);
    await r.clock.advanceTo(500);
    expect(r.sink.calls).toHaveLength(2);
    // A save that took no time lets the next one start at once.
    r.sink.finish(1);
    await r.clock.settle();
    r.q.request();
    expect(r.sink.calls).toHaveLength(3);
  });

  it('spacing 0 saves back to back; close() does not wait for a paced start', async () => {
    const back = rig({ spacing: 0 });
    back.q.request();
    await back.clock.advance(100);
    back.q.request();
    back.sink.finish(0);
    await back.clock.settle();
    expect(back.sink.calls).toHaveLength(2);

    const r = rig({ spacing: 4 });
    r.q.request();
    await r.clock.advance(100);
    r.q.request();
    r.sink.finish(0);
    await r.clock.settle();
    expect(r.sink.calls).toHaveLength(1);
    const closed = r.q.close();
    await r.clock.settle();
    // The final snapshot starts at once, at virtual time 100, not 500.
    expect(r.sink.calls).toHaveLength(2);
    expect(r.clock.now).toBe(100);
    r.sink.finish(1);
    await closed;
  });

  it('status starts from the loaded checkpoint', () => {
    expect(rig({ checkpoint: true }).q.status()).toEqual({ consecutiveFailures: 0, checkpoint: cp(7) });
    expect(rig().q.status()).toEqual({ consecutiveFailures: 0 });
  });

  it('a failed save: reported, the checkpoint stays, the job is settled anyway, and a retry is asked for after the back-off', async () => {
    const r = rig({ checkpoint: true });
    r.world.offset = 10;
    r.q.request();
    r.sink.fail(0);
    await r.clock.settle();
    expect(r.events).toEqual(['snapshot 1@10', 'settled 1', 'change busy=false']);
    const st = r.q.status();
    expect(st).toMatchObject({ consecutiveFailures: 1, checkpoint: cp(7), lastError: { code: 'ENOSPC', message: 'ENOSPC: simulated' } });
    expect(r.log.at('error')).toEqual([
      {
        level: 'error',
        obj: { code: 'ENOSPC', err: 'ENOSPC: simulated', attempt: 1, retryInMs: 1000 },
        msg: 'saving the state failed: the checkpoint does not advance until a save succeeds',
      },
    ]);
    await r.clock.advanceTo(999);
    expect(r.events.filter((e) => e.startsWith('retry'))).toEqual([]);
    await r.clock.advanceTo(1000);
    expect(r.events.filter((e) => e.startsWith('retry'))).toEqual(['retry@1000']);
    // Second failure: twice the delay.
    r.sink.fail(1);
    await r.clock.advanceTo(2999);
    expect(r.events.filter((e) => e.startsWith('retry'))).toEqual(['retry@1000']);
    await r.clock.advanceTo(3000);
    expect(r.events.filter((e) => e.startsWith('retry'))).toEqual(['retry@1000', 'retry@3000']);
    r.world.offset = 40;
    r.sink.finish(2);
    await r.clock.settle();
    expect(r.q.status()).toEqual({ consecutiveFailures: 0, lastSave: 't3000', checkpoint: cp(10) });
    expect(r.log.at('info').map((e) => e.msg)).toEqual(['state saved again']);
  });

  it('failures while a retry is pending do not schedule a second one', async () => {
    const r = rig();
    r.q.request();
    r.sink.fail(0);
    await r.clock.settle();
    // A flush in the meantime brings its own save, which fails too.
    r.q.request();
    r.sink.fail(1);
    await r.clock.advanceTo(10_000);
    expect(r.events.filter((e) => e.startsWith('retry'))).toEqual(['retry@1000']);
    expect(r.q.status().consecutiveFailures).toBe(2);
  });

  it('close waits for the running save and the one wanted after it, then resolves; no retry after', async () => {
    const r = rig();
    r.q.request();
    r.q.request();
    let closed = false;
    void r.q.close().then(() => (closed = true));
    await r.clock.settle();
    expect(closed).toBe(false);
    r.sink.finish(0);
    await r.clock.settle();
    expect(closed).toBe(false);
    r.sink.fail(1);
    await r.clock.settle();
    expect(closed).toBe(true);
    await r.clock.advanceTo(60_000);
    expect(r.events.filter((e) => e.startsWith('retry'))).toEqual([]);
    expect(r.sink.calls).toHaveLength(2);
  });

  it('close cancels a pending retry; with nothing running it resolves at once', async () => {
    const r = rig();
    r.q.request();
    r.sink.fail(0);
    await r.clock.settle();
    await r.q.close();
    await r.clock.advanceTo(60_000);
    expect(r.events.filter((e) => e.startsWith('retry'))).toEqual([]);
  });
});
