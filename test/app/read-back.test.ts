// A first start, or a start after the state was lost, knows nothing yet, and a state saved before
// the last lines (a crash, a full disk) lacks their bans: the owned hosts already on the firewall
// must not be removed (and re-added) while the log is being read back.
import { copyFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VirtualTimeScheduler } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { backlogRead, logBacklog, ReadBack } from '../../src/app/read-back.js';
import type { Checkpoint } from '../../src/core/checkpoint.js';
import { f2bLine, startRig, waitFor, type Rig } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const N = 400;
/** Public addresses outside the default neverBlock list. */
const ip = (i: number) => `11.0.${i >> 8}.${i & 255}`;

describe('read-back after a lost state', () => {
  it('keeps the owned hosts that the log still bans; removes only what the log unbanned', async () => {
    const bans = Array.from({ length: N }, (_, i) => f2bLine('Ban', 'sshd', ip(i))).join('');
    const first = await startRig({ startAt: 'beginning', initialLog: bans });
    cleanups.push(() => first.close());
    await waitFor('every ban on the firewall', () => first.members().length === N, 60_000);
    await first.runtime.sidecar.idle();
    await first.stop();

    // The state is corrupt, its previous generation too (a disk error); meanwhile one address was unbanned.
    await writeFile(join(first.dir, 'state', 'state.json'), '{"version": 1, "mod');
    await rm(join(first.dir, 'state', 'state.json.prev'), { force: true });
    await first.append(f2bLine('Unban', 'sshd', ip(7)));
    const writesBefore = first.emu.stats.writes;

    const second: Rig = await startRig({ dir: first.dir, startAt: 'end' }, first.emu);
    cleanups.push(() => second.stop());
    await waitFor('the unbanned address removed', () => !second.members().some((m) => m.endsWith(`_${ip(7)}`)) && second.members().length === N - 1, 60_000);
    await second.runtime.sidecar.idle();

    // Without the hold the reconciler would remove all N hosts, then add N - 1 back: 2 x N/50 writes.
    const writes = second.emu.stats.writes - writesBefore;
    expect(writes).toBeGreaterThan(0);
    expect(writes).toBeLessThanOrEqual(3);
    expect(second.members().length).toBe(N - 1);
    expect(second.sink.text).toContain('desired state read back');
  }, 120_000);

  it('a state older than the log (saved before the last bans): those bans stay on the firewall during the read-back', async () => {
    const M = 200;
    const first = await startRig({ startAt: 'beginning', initialLog: Array.from({ length: N }, (_, i) => f2bLine('Ban', 'sshd', ip(i))).join('') });
    cleanups.push(() => first.close());
    await waitFor('the first bans on the firewall', () => first.members().length === N, 60_000);
    await first.runtime.sidecar.idle();
    await first.stop();
    const stateFile = join(first.dir, 'state', 'state.json');
    await copyFile(stateFile, `${stateFile}.old`);

    const second: Rig = await startRig({ dir: first.dir, startAt: 'end' }, first.emu);
    cleanups.push(() => second.stop());
    await second.append(Array.from({ length: M }, (_, i) => f2bLine('Ban', 'sshd', ip(N + i))).join(''));
    await waitFor('the later bans on the firewall', () => second.members().length === N + M, 60_000);
    await second.runtime.sidecar.idle();
    await second.stop();

    // As after a kill -9 whose last saves failed: the state on disk predates the last M bans.
    await copyFile(`${stateFile}.old`, stateFile);
    await rm(`${stateFile}.prev`, { force: true });
    const writesBefore = first.emu.stats.writes;
    const third: Rig = await startRig({ dir: first.dir, startAt: 'end' }, first.emu);
    cleanups.push(() => third.stop());
    await waitFor('the log read back', () => third.runtime.sidecar.status().groups.some((g) => g.desired === N + M), 60_000);
    await third.runtime.sidecar.idle();

    // Without the hold the reconciler removed the M hosts the old state did not know, then added them back.
    expect(third.emu.stats.writes - writesBefore).toBe(0);
    expect(third.members().length).toBe(N + M);
    expect(third.sink.text).toContain('desired state read back');
  }, 120_000);

  it('a first start with startAt: end and no seed removes stale owned hosts at once', async () => {
    const first = await startRig({ startAt: 'beginning', initialLog: f2bLine('Ban', 'sshd', ip(1)) });
    cleanups.push(() => first.close());
    await waitFor('the ban on the firewall', () => first.members().length === 1);
    await first.runtime.sidecar.idle();
    await first.stop();
    await rm(join(first.dir, 'state'), { recursive: true, force: true });

    // A clean first start (no state, not recovered): the config says "only new events", so the
    // stale host goes.
    const second = await startRig({ dir: first.dir, startAt: 'end' }, first.emu);
    cleanups.push(() => second.stop());
    await waitFor('the stale host removed', () => second.members().length === 0);
    expect(second.sink.text).toContain('nothing to read back');
  });
});

describe('ReadBack (the gate, on virtual time)', () => {
  const gate = (timeoutMs = 600_000) => {
    const scheduler = new VirtualTimeScheduler();
    const released: { why: string; at: number }[] = [];
    const rb = new ReadBack({ scheduler, timeoutMs, onRelease: (why) => void released.push({ why, at: scheduler.now() }) });
    return { scheduler, released, rb };
  };
  const microtasks = () => new Promise<void>((r) => queueMicrotask(r));

  it('with nothing to wait for, releases at begin()', () => {
    const g = gate();
    g.rb.begin();
    expect(g.released).toEqual([{ why: 'nothing to read back', at: 0 }]);
  });

  it('releases once every part is done, after the current push, and only once', async () => {
    const g = gate();
    g.rb.expect();
    g.rb.expect();
    g.rb.begin();
    g.rb.done('log read back');
    await microtasks();
    expect(g.released).toEqual([]);
    g.rb.done('seed read');
    expect(g.released).toEqual([]); // not synchronously: the line that ended it is pushed first
    await microtasks();
    expect(g.released).toEqual([{ why: 'seed read', at: 0 }]);
    g.rb.release('again');
    g.scheduler.flush();
    expect(g.released).toHaveLength(1);
  });

  it('releases at the safety timeout when a part never ends, and not before', () => {
    const g = gate(1000);
    g.rb.expect();
    g.rb.begin();
    g.scheduler.maxFrames = 999;
    g.scheduler.flush();
    expect(g.released).toEqual([]);
    g.scheduler.maxFrames = Infinity;
    g.scheduler.flush();
    expect(g.released).toEqual([{ why: 'read-back timeout', at: 1000 }]);
  });

  it('stop() cancels the safety timeout', () => {
    const g = gate(1000);
    g.rb.expect();
    g.rb.begin();
    g.rb.stop();
    g.scheduler.flush();
    expect(g.released).toEqual([]);
  });
});

describe('logBacklog / backlogRead', () => {
  const st = { size: 500, ino: 7, dev: 1 };
  const cp = (offset: number, ino = 7, dev = 1): Checkpoint => ({ path: '/l', dev, ino, offset, head: '' });

  it('is the file size when reading starts before it', () => {
    expect(logBacklog(undefined, 'beginning', st)).toEqual({ size: 500, ino: 7 });
    expect(logBacklog(cp(100), 'end', st)).toEqual({ size: 500, ino: 7 });
    // The checkpoint's file is another one: the current file is read from 0.
    expect(logBacklog(cp(500, 8), 'end', st)).toEqual({ size: 500, ino: 7 });
    expect(logBacklog(cp(500, 7, 2), 'end', st)).toEqual({ size: 500, ino: 7 });
  });

  it('is nothing when reading starts at the end, at the checkpoint = size, or the file is missing or empty', () => {
    expect(logBacklog(undefined, 'end', st)).toBeUndefined();
    expect(logBacklog(cp(500), 'end', st)).toBeUndefined();
    expect(logBacklog(cp(0), 'beginning', undefined)).toBeUndefined();
    expect(logBacklog(undefined, 'beginning', { ...st, size: 0 })).toBeUndefined();
  });

  it('is read once a line ends at or past its size, or comes from another file (a rotation)', () => {
    const b = { size: 500, ino: 7 };
    expect(backlogRead(b, cp(499))).toBe(false);
    expect(backlogRead(b, cp(500))).toBe(true);
    expect(backlogRead(b, cp(10, 9))).toBe(true);
  });
});
