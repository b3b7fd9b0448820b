// A first start, or a start after the state was lost, knows nothing yet, and a state saved before
// the last lines (a crash, a full disk) lacks their bans: the owned hosts already on the firewall
// must not be removed (and re-added) while the log is being read back.
import { copyFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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
