// A first start, or a start after the state was lost, knows nothing yet, and a state saved before
// the last lines (a crash, a full disk) lacks their bans: the owned hosts already on the firewall
// must not be removed (and re-added) while the log is being read back.
import { copyFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VirtualTimeScheduler } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { ReadBack } from '../../src/app/read-back.js';
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
    const first = await startRig({ objects: 'hosts', startAt: 'beginning', initialLog: bans });
    cleanups.push(() => first.close());
    await waitFor('every ban on the firewall', () => first.members().length === N, 60_000);
    await first.runtime.sidecar.idle();
    await first.stop();

    // The state is corrupt, its previous generation too (a disk error); meanwhile one address was unbanned.
    await writeFile(join(first.dir, 'state', 'state.json'), '{"version": 1, "mod');
    await rm(join(first.dir, 'state', 'state.json.prev'), { force: true });
    await first.append(f2bLine('Unban', 'sshd', ip(7)));
    const writesBefore = first.emu.stats.writes;

    const second: Rig = await startRig({ objects: 'hosts', dir: first.dir, startAt: 'end' }, first.emu);
    cleanups.push(() => second.stop());
    await waitFor(
      'the unbanned address removed',
      () => !second.members().some((m) => m.endsWith(`_${ip(7)}`)) && second.members().length === N - 1,
      60_000,
    );
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
    const first = await startRig({
      objects: 'hosts',
      startAt: 'beginning',
      initialLog: Array.from({ length: N }, (_, i) => f2bLine('Ban', 'sshd', ip(i))).join(''),
    });
    cleanups.push(() => first.close());
    await waitFor('the first bans on the firewall', () => first.members().length === N, 60_000);
    await first.runtime.sidecar.idle();
    await first.stop();
    const stateFile = join(first.dir, 'state', 'state.json');
    await copyFile(stateFile, `${stateFile}.old`);

    const second: Rig = await startRig({ objects: 'hosts', dir: first.dir, startAt: 'end' }, first.emu);
    cleanups.push(() => second.stop());
    await second.append(Array.from({ length: M }, (_, i) => f2bLine('Ban', 'sshd', ip(N + i))).join(''));
    await waitFor('the later bans on the firewall', () => second.members().length === N + M, 60_000);
    await second.runtime.sidecar.idle();
    await second.stop();

    // As after a kill -9 whose last saves failed: the state on disk predates the last M bans.
    await copyFile(`${stateFile}.old`, stateFile);
    await rm(`${stateFile}.prev`, { force: true });
    const writesBefore = first.emu.stats.writes;
    const third: Rig = await startRig({ objects: 'hosts', dir: first.dir, startAt: 'end' }, first.emu);
    cleanups.push(() => third.stop());
    await waitFor('the log read back', () => third.runtime.sidecar.status().groups.some((g) => g.desired === N + M), 60_000);
    await third.runtime.sidecar.idle();

    // Without the hold the reconciler removed the M hosts the old state did not know, then added them back.
    expect(third.emu.stats.writes - writesBefore).toBe(0);
    expect(third.members().length).toBe(N + M);
    expect(third.sink.text).toContain('desired state read back');
  }, 120_000);

  // Issue 11, item 5: before, all 100 owned hosts were removed within seconds ("startAt: end" skipped
  // every Ban of the log and the reconciler lifted what the empty state did not hold).
  it('a deleted stateDir with startAt: end lifts no ban: the desired state is rebuilt from the log first', async () => {
    const M = 100;
    const first = await startRig({
      objects: 'hosts',
      startAt: 'beginning',
      initialLog: Array.from({ length: M }, (_, i) => f2bLine('Ban', 'sshd', ip(i))).join(''),
    });
    cleanups.push(() => first.close());
    await waitFor('every ban on the firewall', () => first.members().length === M, 60_000);
    await first.runtime.sidecar.idle();
    await first.stop();
    await rm(join(first.dir, 'state'), { recursive: true, force: true });
    await first.append(f2bLine('Unban', 'sshd', ip(3)));
    const writesBefore = first.emu.stats.writes;

    let fewest = M;
    const sampler = setInterval(() => (fewest = Math.min(fewest, first.members().length)), 5);
    const second = await startRig({ objects: 'hosts', dir: first.dir, startAt: 'end' }, first.emu);
    cleanups.push(() => second.stop());
    await waitFor('the unbanned address removed', () => second.members().length === M - 1, 60_000);
    await second.runtime.sidecar.idle();
    clearInterval(sampler);
    // A starved 5 ms timer may never have run after the removal: one last sample.
    fewest = Math.min(fewest, second.members().length);
    expect(second.members()).not.toContain(`f2b_${ip(3)}`);
    expect(second.members().length).toBe(M - 1);
    expect(fewest).toBe(M - 1); // never fewer: nothing lifted and re-added
    expect(second.emu.stats.writes - writesBefore).toBeLessThanOrEqual(2); // the one removal (unassign, delete)
    expect(second.sink.text).toMatch(/desired state read back.*log read back/);
  }, 120_000);

  it('a missing log (a mistyped log.path) never justifies a removal: held until the log is read', async () => {
    const M = 6;
    const first = await startRig({
      objects: 'hosts',
      startAt: 'beginning',
      initialLog: Array.from({ length: M }, (_, i) => f2bLine('Ban', 'sshd', ip(i))).join(''),
    });
    cleanups.push(() => first.close());
    await waitFor('every ban on the firewall', () => first.members().length === M, 60_000);
    await first.runtime.sidecar.idle();
    await first.stop();
    await rm(join(first.dir, 'state'), { recursive: true, force: true });
    await rename(first.logPath, `${first.logPath}.elsewhere`);
    const writesBefore = first.emu.stats.writes;

    const second = await startRig({ objects: 'hosts', dir: first.dir, startAt: 'end' }, first.emu);
    cleanups.push(() => second.stop());
    await waitFor('the missing-log warning', () => second.sink.text.includes('FILE_MISSING'), 10_000).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${second.sink.text}`);
    });
    // Several reconcile passes' worth of real time (batch window 100 ms, retries ≤ 400 ms).
    await new Promise((r) => setTimeout(r, 1500));
    expect(second.members().length).toBe(M);
    expect(second.emu.stats.writes - writesBefore).toBe(0);
    expect(second.sink.text).not.toContain('desired state read back');

    await rename(`${first.logPath}.elsewhere`, first.logPath);
    await waitFor('the read-back', () => second.sink.text.includes('desired state read back'), 30_000);
    await second.runtime.sidecar.idle();
    expect(second.members().length).toBe(M);
    expect(second.emu.stats.writes - writesBefore).toBe(0);
  }, 120_000);
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

  it('the timeout does not end a hard part (the log never read); the hard part ending then releases', async () => {
    const g = gate(1000);
    g.rb.expect(true);
    g.rb.expect();
    g.rb.begin();
    g.scheduler.flush();
    expect(g.released).toEqual([]);
    g.rb.done('log read back', true);
    await microtasks();
    expect(g.released).toEqual([{ why: 'log read back (after the read-back timeout)', at: 1000 }]);
  });

  it('a hard part done before the timeout: the timeout then releases the soft rest', async () => {
    const g = gate(1000);
    g.rb.expect(true);
    g.rb.expect();
    g.rb.begin();
    g.rb.done('log read back', true);
    await microtasks();
    expect(g.released).toEqual([]);
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
