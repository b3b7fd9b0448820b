/**
 * `f2b-sophosxg replay FILE -c CONFIG`: backfill of an old log, as a real process against the
 * HTTPS emulator, merged into the live state without moving the live checkpoint.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allOutput, GROUP_V4, GROUP_V6, LogWriter, secretForms, v4s, v6s, worldPerTest } from '../helpers/sidecar.js';

const { open, passwords } = worldPerTest();

const union = (a: { v4: Set<string>; v6: Set<string> }, b: { v4: Set<string>; v6: Set<string> }) => ({
  v4: new Set([...a.v4, ...b.v4]),
  v6: new Set([...a.v6, ...b.v6]),
});

describe('replay (real process, HTTPS emulator)', () => {
  it('merges the bans an old log leaves into the live state, never lifts a live ban, keeps the live checkpoint; run keeps them', async () => {
    const w = await open();
    let p = await w.start();
    await w.log.ban(v4s(200));
    await w.log.ban(v6s(10));
    await w.converged(p);
    expect(await p.stop()).toBe(0);
    const liveCheckpoint = await w.savedCheckpoint();
    expect(liveCheckpoint).toBeDefined();

    const old = new LogWriter(join(w.dir, 'fail2ban.log.old'), 777);
    await old.ban(v4s(300, 5000));
    await old.ban(v6s(20, 100), 'nginx');
    await old.unban(v4s(50, 5000));
    // The old log lifts bans the live state holds: replay adds, never removes.
    await old.ban(v4s(5));
    await old.unban(v4s(5));
    const r = await w.cli(['replay', old.path, '-c', w.configPath]);
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toMatch(/270 standing ban\(s\) merged/);

    const want = union(w.log.expected(), old.expected());
    await w.converged(undefined, 30_000, want);
    expect(w.owned(GROUP_V4).size).toBe(200 + 250);
    expect(w.owned(GROUP_V6).size).toBe(30);
    expect(await w.savedCheckpoint()).toEqual(liveCheckpoint);

    // `run` starts from the merged state: the backfilled bans stay, new lines still count.
    p = await w.start();
    await w.log.ban(['203.0.113.9']);
    want.v4.add('203.0.113.9');
    await w.converged(p, 30_000, want);
    expect(w.owned(GROUP_V4).has('198.18.19.200')).toBe(true); // #5000, from the old log
  }, 60_000);

  it('refuses while run holds the state lock, and fails with one line on a firewall error or a missing file', async () => {
    const w = await open({ passwordFrom: 'file' });
    const old = new LogWriter(join(w.dir, 'old.log'));
    await old.ban(v4s(10));

    const p = await w.start();
    await w.converged(p);
    const locked = await w.cli(['replay', old.path, '-c', w.configPath]);
    expect(locked.code).toBe(1);
    expect(locked.output.trim().split('\n')).toHaveLength(1);
    expect(locked.output).toMatch(/^f2b-sophosxg: .*lock/i);
    expect(w.owned(GROUP_V4).size).toBe(0);
    await p.stop();

    const missing = await w.cli(['replay', join(w.dir, 'nope.log'), '-c', w.configPath]);
    expect(missing.code).toBe(1);
    expect(missing.output).toMatch(/^f2b-sophosxg: cannot read .*nope\.log: ENOENT\n$/);

    await writeFile(w.passwordFile, 'wrong\n');
    const writes = w.emu.stats.writes;
    const auth = await w.cli(['replay', old.path, '-c', w.configPath, '--log-level', 'error']);
    expect(auth.code).toBe(1);
    expect(auth.output).toMatch(/f2b-sophosxg: firewall xg: XG_AUTH/);
    expect(w.owned(GROUP_V4).size).toBe(0);
    expect(w.emu.stats.writes).toBe(writes);
  }, 60_000);

  it('nothing replay or run printed, nor status.json / state.json, holds the password', () => {
    const text = allOutput();
    expect(text).toMatch(/replayed/);
    expect(passwords).toHaveLength(2);
    for (const pw of passwords) for (const form of secretForms(pw)) expect(text.includes(form), form).toBe(false);
  });
});
