/**
 * Issue 6, "nothing lost": the real `run` process under crashes, rotations, firewall faults, bad
 * credentials, damaged state and a full disk. Every case ends with the firewall's owned members
 * equal to what the log says — nothing lost, nothing extra. Random schedules come from a printed
 * seed (F2B_FAULT_SEED=<n> replays one).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  allOutput,
  GROUP_V4,
  GROUP_V6,
  type Proc,
  secretForms,
  seeded,
  sleep,
  v4s,
  v6s,
  waitFor,
  type World,
  worldPerTest,
} from '../helpers/sidecar.js';

const SEED = Number(process.env.F2B_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`fault schedule seed: ${SEED} (replay with F2B_FAULT_SEED=${SEED})`);

const { open, passwords } = worldPerTest();

const statusOf = async (w: World) => (await w.readStatus())?.firewalls[0];

describe('nothing lost: the real run process under faults', () => {
  it('kill -9 at random points during a 5,000-ban burst (at least 20 kills)', async () => {
    const rnd = seeded(SEED);
    const w = await open({ maxSize: 250, batchSize: 125, emulator: { faults: { writeLatencyMs: 5 } } });
    let p = await w.start();
    const points: string[] = [];
    let kills = 0;
    for (let chunk = 0; chunk < 20; chunk++) {
      await w.log.ban(v4s(240, chunk * 240));
      await w.log.ban(v6s(10, chunk * 10), 'nginx');
      // Some earlier bans end, so "nothing extra" is tested too.
      if (chunk > 0) await w.log.unban(Array.from({ length: 8 }, () => v4s(1, Math.floor(rnd() * chunk * 240))[0] as string));
      const r = rnd();
      const writesBefore = w.emu.stats.writes;
      if (r < 0.3) {
        // Anywhere once it is up: reading the log, the start-up reads of the firewall, a save.
        await waitFor(
          () => /sidecar started/.test(p.output()) || p.child.exitCode !== null,
          15_000,
          () => p.output(),
        );
        await sleep(Math.floor(rnd() * 500));
        points.push('t');
      } else {
        // In the middle of writing a batch to the firewall.
        await waitFor(
          () => w.emu.stats.writes > writesBefore || p.child.exitCode !== null,
          15_000,
          () => p.output().slice(-2000),
        );
        await sleep(Math.floor(rnd() * 150));
        points.push('w');
      }
      expect(p.child.exitCode, p.output().slice(-2000)).toBeNull();
      await p.kill9();
      kills++;
      p = await w.start();
    }
    await w.converged(p, 60_000);
    const exp = w.log.expected();
    console.log(
      `${kills} kills (${points.join('')}; t = timed, w = during a write); ${exp.v4.size} + ${exp.v6.size} addresses; ${w.emu.stats.writes} writes`,
    );
    expect(kills).toBeGreaterThanOrEqual(20);
    expect(exp.v4.size + exp.v6.size).toBeGreaterThan(4800);
    expect(w.owned(GROUP_V6).size).toBe(200);
  }, 150_000);

  it('rename and copytruncate rotation every few hundred lines during a burst, with a kill -9 between rename and reopen', async () => {
    const w = await open();
    let p = await w.start();
    await w.log.ban(['192.0.2.1']);
    await w.caughtUp(p);
    for (let r = 0; r < 6; r++) {
      await w.log.ban(v4s(300, r * 300));
      await w.log.unban(v4s(10, r * 300 + 5));
      // copytruncate loses what the reader had not read when the copy was taken (by nature);
      // a rename loses nothing unless the file is renamed away before it was ever opened.
      await w.caughtUp(p);
      if (r % 2 === 0) await w.log.rotateRename();
      else await w.log.rotateCopyTruncate();
      await w.log.ban(v6s(20, r * 20));
      if (r === 2) {
        // The process dies with its checkpoint in the renamed file; the rest of it is read at restart.
        await p.kill9();
        await w.log.ban(v4s(50, 9000));
        p = await w.start();
      }
    }
    await w.converged(p);
    expect(w.owned(GROUP_V4).size).toBe(6 * 290 + 50 + 1);
    expect(w.owned(GROUP_V6).size).toBe(120);
  }, 90_000);

  it('firewall faults: random 5xx, connection resets (before and after commit), answers slower than the timeout, down then up', async () => {
    const w = await open({ requestTimeoutMs: 1000, emulator: { faults: { random: seeded(SEED + 1) } } });
    const f = w.emu.faults;
    const p = await w.start();
    Object.assign(f, { http5xxRate: 0.1, resetRate: 0.05, resetAfterCommitRate: 0.05 });
    const tFaulty = Date.now();
    await w.log.ban(v4s(1000));
    await w.log.ban(v6s(50));
    await w.log.unban(v4s(100, 300));
    await w.converged(p, 60_000);
    console.log(`converged through random 5xx/resets in ${Date.now() - tFaulty} ms (${w.emu.stats.requests} requests)`);
    Object.assign(f, { http5xxRate: 0, resetRate: 0, resetAfterCommitRate: 0 });

    f.hangMs = 2500;
    await w.log.ban(v4s(200, 2000));
    await waitFor(
      async () => (await statusOf(w))?.reachable === false,
      20_000,
      () => p.output().slice(-2000),
    );
    expect(p.output()).toMatch(/XG_TIMEOUT|timed out|timeout/i);
    f.hangMs = 0;
    await w.converged(p, 60_000);

    f.down = true;
    await w.log.unban(v4s(50));
    await w.log.ban(v6s(30, 50));
    await waitFor(
      async () => (await statusOf(w))?.reachable === false,
      20_000,
      () => p.output().slice(-2000),
    );
    f.down = false;
    await w.converged(p, 30_000);
    expect(w.owned(GROUP_V4).size).toBe(1050);
    expect(w.owned(GROUP_V6).size).toBe(80);
  }, 120_000);

  it('a wrong password: the process keeps running, status shows the auth error; the fixed password file is picked up without a restart', async () => {
    const w = await open({ passwordFrom: 'file' });
    await writeFile(w.passwordFile, 'not-the-password\n');
    const p = await w.start();
    await w.log.ban(v4s(100));
    await waitFor(
      async () => (await statusOf(w))?.permanentError?.code === 'XG_AUTH',
      20_000,
      () => p.output().slice(-2000),
    );
    expect(p.child.exitCode).toBeNull();
    expect(w.owned(GROUP_V4).size).toBe(0);
    expect(w.emu.stats.authFailures).toBeGreaterThan(0);
    const st = await w.cli(['status', '-c', w.configPath]);
    expect(st.code).toBe(1);
    expect(st.stdout).toMatch(/ERROR XG_AUTH/);
    // Fixed in place: the next retry after an auth failure reads the file again, no restart.
    await writeFile(w.passwordFile, `${w.password}\n`);
    await w.converged(p);
    expect(w.owned(GROUP_V4).size).toBe(100);
    expect(p.output()).toMatch(/its source now holds another one/);
    expect((await statusOf(w))?.permanentError).toBeUndefined();
    expect(await p.stop()).toBe(0);
  }, 60_000);

  it('a corrupt, a truncated and a doubly corrupt state file: recovered loudly, the group is complete', async () => {
    const w = await open();
    let p = await w.start();
    const restartWith = async (damage: () => Promise<void>): Promise<Proc> => {
      await p.kill9();
      await damage();
      const q = await w.start();
      await w.converged(q);
      expect(q.output()).toMatch(/state file recovered/);
      return q;
    };
    const stateFile = join(w.stateDir, 'state.json');
    await w.log.ban(v4s(300));
    await w.converged(p);

    await w.log.ban(v4s(100, 300));
    p = await restartWith(() => writeFile(stateFile, '{"version":1,"model":{"garbage'));
    await w.log.ban(v4s(100, 400));
    await w.log.unban(v4s(50));
    await w.converged(p);

    await w.log.ban(v6s(40));
    p = await restartWith(async () => truncate(stateFile, Math.floor((await stat(stateFile)).size / 2)));

    // Neither generation usable: empty state. With startAt: end, as in the example config (the
    // first start used beginning only so that no line could be written before the reader opened
    // the file), a lost checkpoint must still not mean "skip the log": it is read from the start.
    await writeFile(w.configPath, (await readFile(w.configPath, 'utf8')).replace('startAt: beginning', 'startAt: end'));
    p = await restartWith(async () => {
      await writeFile(stateFile, 'not json');
      await writeFile(`${stateFile}.prev`, '');
    });
    await w.log.ban(v4s(10, 1000));
    await w.converged(p);
    expect(w.owned(GROUP_V4).size).toBe(460);
    expect(w.owned(GROUP_V6).size).toBe(40);
  }, 90_000);

  it('the state directory full (tmpfs 64k): saves fail loudly, the checkpoint does not advance; space back → converges', async (ctx) => {
    const mnt = await mkdtemp(join(tmpdir(), 'f2b-tinyfs-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { stdio: 'pipe' });
    } catch (err) {
      console.warn(`WARNING: disk-full case skipped, cannot mount a tmpfs: ${(err as Error).message}`);
      await rm(mnt, { recursive: true, force: true });
      ctx.skip();
      return;
    }
    let world: World | undefined;
    try {
      const w = (world = await open({ stateDir: join(mnt, 'state') }));
      let p = await w.start();
      await w.log.ban(v4s(150));
      await w.converged(p);

      await w.log.ban(v4s(1500, 150));
      await w.log.ban(v6s(20));
      await waitFor(
        () => /saving the state failed/.test(p.output()),
        20_000,
        () => p.output().slice(-2000),
      );
      expect(p.output()).toMatch(/ENOSPC/);
      // The firewall still gets the bans (a correct firewall matters more than a current state file) …
      await waitFor(
        () => w.owned(GROUP_V4).size === 1650,
        30_000,
        () => p.output().slice(-2000),
      );
      // … but the state on disk claims nothing it has not saved: it is whole, its checkpoint stops
      // where its bans stop, short of the end of the log.
      const onDisk = JSON.parse(await readFile(join(w.stateDir, 'state.json'), 'utf8')) as {
        checkpoint: { offset: number };
        model: { entries: Record<string, unknown> };
      };
      expect(onDisk.checkpoint.offset).toBeLessThan((await stat(w.log.path)).size);
      const claimed = w.log.expected(onDisk.checkpoint.offset);
      expect(new Set(Object.keys(onDisk.model.entries))).toEqual(new Set([...claimed.v4, ...claimed.v6]));
      expect(p.child.exitCode).toBeNull();

      // A crash while the disk is still full: the restart reads the unsaved lines again and keeps
      // the firewall complete, though it cannot save either.
      await p.kill9();
      p = await w.start();
      await waitFor(
        () => /saving the state failed/.test(p.output()),
        20_000,
        () => p.output().slice(-2000),
      );
      expect(w.owned(GROUP_V4).size).toBe(1650);
      expect(p.child.exitCode).toBeNull();
      // Space back: the retried save goes through without a restart.
      execFileSync('mount', ['-o', 'remount,size=8m', mnt]);
      await w.caughtUp(p);
      await w.converged(p);
      expect(w.owned(GROUP_V4).size).toBe(1650);
      expect(w.owned(GROUP_V6).size).toBe(20);
      await p.stop();
    } finally {
      // Before the unmount: close() reads the state files for the leak check.
      await world?.close();
      execFileSync('umount', ['-l', mnt]);
      await rm(mnt, { recursive: true, force: true });
    }
  }, 90_000);

  it('issue 11: an error storm (30 % of requests failing, a third of them after the write was committed) converges within a few times the clean time', async () => {
    const w = await open({ requestTimeoutMs: 1000, emulator: { faults: { random: seeded(SEED + 11) } } });
    const p = await w.start();
    await w.log.ban(['192.0.2.1']);
    await w.converged(p);
    const w0 = w.emu.stats.writes;
    let t = Date.now();
    await w.log.ban(v4s(500));
    await w.converged(p, 60_000);
    const clean = Date.now() - t;
    const cleanWrites = w.emu.stats.writes - w0;
    Object.assign(w.emu.faults, { http5xxRate: 0.1, resetRate: 0.1, resetAfterCommitRate: 0.1 });
    const w1 = w.emu.stats.writes;
    t = Date.now();
    await w.log.ban(v4s(500, 500));
    await w.converged(p, 60_000);
    const stormy = Date.now() - t;
    Object.assign(w.emu.faults, { http5xxRate: 0, resetRate: 0, resetAfterCommitRate: 0 });
    console.log(
      `issue 11 storm: 500 bans in ${clean} ms / ${cleanWrites} writes clean, 500 more in ${stormy} ms / ${w.emu.stats.writes - w1} writes at 30 % failures; missing 0, extra 0`,
    );
    // Before: the back-off climbed to 300 s while passes landed batches (149 of 1,000 missing after 25 min).
    expect(stormy).toBeLessThan(Math.max(10 * clean, 20_000));
    expect(w.owned(GROUP_V4).size).toBe(1001);
  }, 120_000);

  it('issue 11: a wrong password is reported as auth-failed (reachable), and the fixed file is used within seconds', async () => {
    const w = await open({ passwordFrom: 'file' });
    await writeFile(w.passwordFile, 'not-the-password\n');
    const p = await w.start();
    await w.log.ban(v4s(20));
    await waitFor(
      async () => (await statusOf(w))?.state === 'auth-failed',
      20_000,
      () => p.output().slice(-2000),
    );
    expect((await statusOf(w))?.reachable).toBe(true);
    const st = await w.cli(['status', '-c', w.configPath]);
    expect(st.stdout).toMatch(/AUTH-FAILED/);
    // Probed every few seconds, but the unchanged password is not sent again (lock-out).
    const failures = w.emu.stats.authFailures;
    await sleep(6000);
    expect(w.emu.stats.authFailures).toBe(failures);
    const t = Date.now();
    await writeFile(w.passwordFile, `${w.password}\n`);
    await w.converged(p, 30_000);
    const took = Date.now() - t;
    console.log(`issue 11 auth: fixed password used after ${took} ms; missing 0, extra 0`);
    expect(took).toBeLessThan(15_000);
    expect(w.owned(GROUP_V4).size).toBe(20);
    expect(await p.stop()).toBe(0);
  }, 60_000);

  it('nothing any run process printed, nor status.json / state.json, holds the password', () => {
    const text = allOutput();
    expect(text.length).toBeGreaterThan(1000);
    expect(passwords.length).toBeGreaterThan(4);
    for (const pw of passwords) for (const form of secretForms(pw)) expect(text.includes(form), form).toBe(false);
  });
});

// Issue 11: the log and the state across the hostile week (items 1 and 5), with the numbers.
describe('hostile week: the log and the state while the sidecar is down', () => {
  it('copytruncate while down (10 bans, kill -9, 10 Ban + 3 Unban, cp + truncate, restart): missing 0, extra 0', async () => {
    const w = await open();
    let p = await w.start();
    const first = v4s(10);
    await w.log.ban(first);
    await w.converged(p);
    await w.caughtUp(p);
    await p.kill9();
    await w.log.ban(v4s(10, 10));
    await w.log.unban(first.slice(0, 3));
    await w.log.rotateCopyTruncate();
    const writesBefore = w.emu.stats.writes;
    const t0 = Date.now();
    p = await w.start();
    await w.converged(p);
    const exp = w.log.expected();
    const owned = w.owned(GROUP_V4);
    const missing = [...exp.v4].filter((a) => !owned.has(a)).length;
    const extra = [...owned].filter((a) => !exp.v4.has(a)).length;
    console.log(
      `copytruncate while down: missing ${missing}, extra ${extra}, ${w.emu.stats.writes - writesBefore} writes, converged ${Date.now() - t0} ms after the restart`,
    );
    expect(exp.v4.size).toBe(17);
    expect(owned.size).toBe(17);
    for (const a of first.slice(0, 3)) expect(owned.has(a)).toBe(false);
    expect(p.output()).toContain('CHECKPOINT_ROTATED');
  }, 90_000);

  it('a deleted stateDir with startAt: end (100 bans): nothing lifted, the log rebuilds the desired state', async () => {
    const w = await open();
    let p = await w.start();
    await w.log.ban(v4s(100));
    await w.converged(p);
    expect(await p.stop()).toBe(0);
    await rm(w.stateDir, { recursive: true, force: true });
    await writeFile(w.configPath, (await readFile(w.configPath, 'utf8')).replace('startAt: beginning', 'startAt: end'));
    const writesBefore = w.emu.stats.writes;
    let fewest = 100;
    const sampler = setInterval(() => (fewest = Math.min(fewest, w.owned(GROUP_V4).size)), 10);
    const t0 = Date.now();
    try {
      p = await w.start();
      await w.converged(p);
      await sleep(3000); // the old bug lifted all 100 within 20 s; a few reconcile passes here
      await w.converged(p);
    } finally {
      clearInterval(sampler);
    }
    console.log(
      `lost state, startAt end: fewest owned ${fewest} of 100, ${w.emu.stats.writes - writesBefore} writes, converged ${Date.now() - t0} ms after the start`,
    );
    expect(fewest).toBe(100);
    expect(w.emu.stats.writes - writesBefore).toBe(0);
  }, 90_000);

  it('status after kill -9: a clear NOT RUNNING line and exit 1, where it said running before', async () => {
    const w = await open();
    const p = await w.start();
    await w.log.ban(v4s(3));
    await w.converged(p);
    const live = await w.cli(['status', '-c', w.configPath]);
    expect(live.stdout).toMatch(new RegExp(`sidecar running \\(pid ${p.child.pid}\\), status written \\d+ s ago`));
    await p.kill9();
    const dead = await w.cli(['status', '-c', w.configPath]);
    expect(dead.stdout).toMatch(new RegExp(`NOT RUNNING: the sidecar that wrote this status \\(pid ${p.child.pid}\\) has stopped`));
    expect(dead.code).toBe(1);
    const json = JSON.parse((await w.cli(['status', '--json', '-c', w.configPath])).stdout) as {
      pid: number;
      writer: { running: boolean; ageMs: number };
    };
    expect(json.pid).toBe(p.child.pid);
    expect(json.writer.running).toBe(false);
  }, 60_000);
});
