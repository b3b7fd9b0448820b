// Virtual time: a VirtualTimeScheduler driven by hand (frame = ms); nothing waits on real time.
import { describe, expect, it } from 'vitest';
import { VirtualTimeScheduler } from 'rxjs';
import { Intake } from '../../src/pipeline/intake.js';
import { LatencyTracker } from '../../src/pipeline/latency-tracker.js';
import { DEFAULT_SUSPEND, DesiredModel, MODEL_VERSION } from '../../src/pipeline/model.js';
import { PendingChanges } from '../../src/pipeline/pending.js';
import { ban, jailStart, jailStop, restore, unban } from './events.js';
import { cp, DEFAULT_GROUPS, recordingLogger } from './harness.js';

const V4 = 'fw1/f2b-v4';
const HOLD = DEFAULT_SUSPEND.stopUnbanWindowMs;

function rig(o: { reader?: boolean } = {}) {
  const ts = new VirtualTimeScheduler();
  /** Read requests (requestRead calls), at their scheduler time. */
  const reads: number[] = [];
  const log = recordingLogger();
  const model = new DesiredModel({ groups: DEFAULT_GROUPS, neverBlock: (a) => a === '10.0.0.1', suspend: DEFAULT_SUSPEND });
  const pending = new PendingChanges();
  const latency = new LatencyTracker({ liveSince: 0, logTime: () => undefined, log });
  /** onDirty calls: `time:pending`. */
  const dirty: string[] = [];
  const intake = new Intake({
    model,
    pending,
    latency,
    checkpoint: cp(5),
    onDirty: (n) => dirty.push(`${ts.now()}:${n}`),
    scheduler: ts,
    log,
    ...(o.reader && { requestRead: () => reads.push(ts.now()) }),
  });
  const classes = () => Object.fromEntries([...(pending.takeUnshipped().get(V4) ?? [])]);
  return { ts, log, model, pending, intake, dirty, classes, reads };
}

describe('Intake', () => {
  it('applies an event at once, records its changes and tells the window how much is pending', () => {
    const r = rig();
    expect(r.intake.checkpoint).toEqual(cp(5));
    r.intake.push({ event: ban('sshd', '192.0.2.1'), checkpoint: cp(100) });
    r.intake.push({ event: ban('sshd', '192.0.2.2') });
    expect(r.model.desired.get(V4)).toEqual(new Set(['192.0.2.1', '192.0.2.2']));
    expect(r.dirty).toEqual(['0:1', '0:2']);
    expect(r.pending.dirty).toBe(true);
    expect(r.intake.checkpoint).toEqual(cp(100));
    expect(r.classes()).toEqual({ '192.0.2.1': 'desired', '192.0.2.2': 'desired' });
    expect(r.log.at('debug').filter((e) => e.msg === 'desired change')).toHaveLength(2);
  });

  it('a line without a change still moves the checkpoint and asks for a save (0 pending); nothing at all asks for nothing', () => {
    const r = rig();
    r.intake.push({ checkpoint: cp(200) });
    r.intake.push({});
    // A never-blocked ban: a note, no change, no checkpoint.
    r.intake.push({ event: ban('sshd', '10.0.0.1') });
    expect(r.dirty).toEqual(['0:0']);
    expect(r.intake.checkpoint).toEqual(cp(200));
    expect(r.log.at('warn').map((e) => e.msg)).toEqual(['ban ignored: address is in neverBlock']);
  });

  it('a never-block address restored at every fail2ban restart is warned about once (and every note reaches onNote)', () => {
    const r = rig();
    const notes: string[] = [];
    const intake = new Intake({
      model: r.model,
      pending: r.pending,
      latency: new LatencyTracker({ liveSince: 0, logTime: () => undefined, log: r.log }),
      onDirty: () => undefined,
      scheduler: r.ts,
      log: r.log,
      onNote: (n) => notes.push(n.kind),
    });
    intake.push({ event: ban('sshd', '10.0.0.1') });
    for (let i = 0; i < 5; i++) {
      intake.push({ event: jailStop('sshd') });
      intake.push({ event: jailStart('sshd') });
      intake.push({ event: restore('sshd', '10.0.0.1') });
    }
    expect(r.log.at('warn').map((e) => e.msg)).toEqual(['ban ignored: address is in neverBlock']);
    expect(notes.filter((k) => k === 'never-block')).toHaveLength(6);
  });

  it("a held unban becomes a removal when its window ends, on the scheduler's timer", () => {
    const r = rig();
    r.intake.push({ event: ban('sshd', '192.0.2.1') });
    r.pending.flushed();
    r.classes();
    r.ts.schedule(() => r.intake.push({ event: unban('sshd', '192.0.2.1') }), 1000);
    r.ts.flush();
    expect(r.dirty).toEqual(['0:1', '1000:1', `${1000 + HOLD}:1`]);
    expect(r.classes()).toEqual({ '192.0.2.1': 'absent' });
    expect(r.log.at('info').map((e) => e.msg)).toEqual(['unban confirmed']);
  });

  it('an input after a deadline whose timer has not run yet sees the expiry first', () => {
    const r = rig();
    r.intake.push({ event: ban('sshd', '192.0.2.1') });
    r.intake.push({ event: unban('sshd', '192.0.2.1') });
    r.pending.flushed();
    // The clock passes the deadline without the scheduler running its timer (a busy loop).
    r.ts.frame = HOLD + 500;
    r.intake.push({ checkpoint: cp(300) });
    expect(r.dirty.slice(2)).toEqual([`${HOLD + 500}:1`, `${HOLD + 500}:1`]);
    expect(r.model.held.get(V4)?.size ?? 0).toBe(0);
    r.ts.flush();
    expect(r.dirty).toHaveLength(4);
  });

  it('start schedules the deadlines of a loaded state', () => {
    const r = rig();
    r.model.load({ version: MODEL_VERSION, stopping: false, entries: { '192.0.2.1': { sshd: { state: 'unbanning', at: 0 } } } }, 0);
    r.intake.start();
    r.ts.flush();
    expect(r.dirty).toEqual([`${HOLD}:1`]);
    expect(r.classes()).toEqual({ '192.0.2.1': 'absent' });
  });

  it('after stop, inputs are ignored and no deadline fires', () => {
    const r = rig();
    r.intake.push({ event: ban('sshd', '192.0.2.1') });
    r.intake.push({ event: unban('sshd', '192.0.2.1') });
    r.intake.stop();
    r.intake.push({ event: ban('sshd', '192.0.2.7'), checkpoint: cp(900) });
    r.ts.flush();
    expect(r.dirty).toEqual(['0:1', '0:0']);
    expect(r.intake.checkpoint).toEqual(cp(5));
    expect(r.model.desired.get(V4)?.has('192.0.2.7')).toBe(false);
  });
});

describe('Intake: repeats of a named source', () => {
  const stamped = (raw: string, isoTime: string) => ({ ...jailStart('sshd'), raw, isoTime });
  const start = stamped("2026-12-04T17:30:00.200002+00:00 web1 fail2ban.jail[100]: INFO Jail 'sshd' started", '2026-12-04T17:30:00.200');

  it('drops a line delivered again: not applied, counted, its checkpoint still moves', () => {
    const r = rig();
    r.intake.push({ event: ban('sshd', '192.0.2.1'), source: 'web1' });
    r.intake.push({ event: start, source: 'web1', feed: 'web1', checkpoint: cp(10) });
    r.intake.push({ event: start, source: 'web1', feed: 'web1', checkpoint: cp(20) });
    expect(r.intake.repeatsDropped).toBe(1);
    expect(r.intake.checkpoints).toEqual({ web1: cp(20) });
    expect(r.log.at('warn')).toEqual([]);
    expect(r.model.sources?.().find((s) => s.source === 'web1')).toBeDefined();
  });

  it('remember() primes the filter with a line read before a restart: its replay is dropped', () => {
    const r = rig();
    r.intake.remember('web1', start);
    r.intake.push({ event: ban('sshd', '192.0.2.1'), source: 'web1' });
    r.intake.push({ event: start, source: 'web1' });
    expect(r.intake.repeatsDropped).toBe(1);
    // Without priming, the same start after a ban would be a jail restart (warned).
    const fresh = rig();
    fresh.intake.push({ event: start, source: 'web1' });
    fresh.intake.push({ event: ban('sshd', '192.0.2.1'), source: 'web1' });
    fresh.intake.push({ event: { ...start, raw: `${start.raw} ` }, source: 'web1' });
    expect(fresh.log.at('warn').map((e) => e.obj.kind)).toEqual(['jail-restart']);
  });
});

describe('Intake with a reader (a followed log): deadlines wait until the log is read through them', () => {
  // The CI failure this guards against: fail2ban logged a jail's stop-Unbans and, 50 ms later,
  // "Jail 'sshd' stopped"; the second line was read after the hold window (a missed watcher
  // event waits for the 5 s poll), so the stop-Unbans had already been lifted.
  it('a stop line written before the hold ended but read after it still suspends the stop-Unbans', () => {
    const r = rig({ reader: true });
    r.intake.push({ event: ban('sshd', '192.0.2.1'), readThrough: 0 });
    r.intake.push({ event: unban('sshd', '192.0.2.1'), readThrough: 10 });
    r.ts.frame = HOLD + 3000;
    r.ts.flush();
    // The hold's timer fired: the log is read first, nothing is lifted yet.
    expect(r.reads).toEqual([HOLD]);
    expect(r.model.held.get(V4)?.size).toBe(1);
    // The read delivers the stop line (written at 50 ms), then says how far it has read.
    r.intake.push({ event: jailStop('sshd') });
    r.intake.push({ readThrough: HOLD + 3000 });
    expect(r.model.desired.get(V4)).toEqual(new Set(['192.0.2.1']));
    expect(r.log.at('info').map((e) => e.msg)).not.toContain('unban confirmed');
    expect(r.model.held.get(V4)?.size ?? 0).toBe(0);
  });

  it('without a stop in what was read, the held unban is lifted once the read covers its deadline', () => {
    const r = rig({ reader: true });
    r.intake.push({ event: ban('sshd', '192.0.2.1'), readThrough: 0 });
    r.intake.push({ event: unban('sshd', '192.0.2.1') });
    r.pending.flushed();
    r.classes();
    r.ts.frame = HOLD;
    r.ts.flush();
    expect(r.reads).toEqual([HOLD]);
    // A pass that began before the deadline does not cover it.
    r.intake.push({ readThrough: HOLD - 1 });
    expect(r.model.held.get(V4)?.size).toBe(1);
    r.intake.push({ readThrough: HOLD + 2 });
    expect(r.classes()).toEqual({ '192.0.2.1': 'absent' });
    expect(r.log.at('info').map((e) => e.msg)).toEqual(['unban confirmed']);
  });

  it('a loaded held unban is not lifted before the first read of the log, however late', () => {
    const r = rig({ reader: true });
    r.model.load({ version: MODEL_VERSION, stopping: false, entries: { '192.0.2.1': { sshd: { state: 'unbanning', at: 0 } } } }, 0);
    r.intake.start();
    r.ts.frame = 10 * HOLD;
    r.ts.flush();
    r.intake.push({ checkpoint: cp(300) });
    expect(r.model.held.get(V4)?.size).toBe(1);
    r.intake.push({ readThrough: 10 * HOLD });
    expect(r.model.held.get(V4)?.size ?? 0).toBe(0);
  });
});
