/**
 * Issue 4: the real `f2b-sophosxg run` process against the HTTPS emulator, with a fail2ban log
 * being written. After every case the firewall's owned members equal what the log says (both
 * families), computed from the lines written.
 */
import { describe, expect, it } from 'vitest';
import { allOutput, GROUP_V4, GROUP_V6, PREFIX, secretForms, v4s, v6s, waitFor, worldPerTest } from '../helpers/sidecar.js';

const { open, passwords } = worldPerTest();

describe('run: the real process against the emulator over HTTPS', () => {
  it('a burst of 3,000 bans, then 1,000 unbans; status --json shows desired and firewall counts', async () => {
    const w = await open();
    const p = await w.start();
    const t0 = Date.now();
    await w.log.ban(v4s(2700));
    await w.log.ban(v6s(300), 'nginx');
    await w.converged(p);
    const tBan = Date.now() - t0;
    expect(w.owned(GROUP_V4).size).toBe(2700);
    expect(w.owned(GROUP_V6).size).toBe(300);

    await w.log.unban(v4s(900, 1000));
    await w.log.unban(v6s(100), 'nginx');
    await w.converged(p);
    expect(w.owned(GROUP_V4).size).toBe(1800);
    expect(w.owned(GROUP_V4).has('198.18.3.233')).toBe(false); // #1001, unbanned
    expect(w.owned(GROUP_V6).size).toBe(200);
    console.log(`3,000 bans converged in ${tBan} ms; ${w.emu.stats.requests} requests, ${w.emu.stats.writes} writes`);

    const st = await w.cli(['status', '--json', '-c', w.configPath]);
    expect(st.code).toBe(0);
    const s = JSON.parse(st.stdout) as { groups: { group: string; desired: number; applied: number; pendingAdds: number }[] };
    const g = (name: string) => s.groups.find((x) => x.group === name);
    expect(g(GROUP_V4)).toMatchObject({ desired: 1800, applied: 1800, pendingAdds: 0 });
    expect(g(GROUP_V6)).toMatchObject({ desired: 200, applied: 200, pendingAdds: 0 });
    expect(await p.stop()).toBe(0);
  }, 60_000);

  it('kill -9 during a batch, restart: nothing lost, nothing extra', async () => {
    // Hosts mode: the burst is many per-address batches, so the process can be killed part-way
    // through it. In lists mode the whole burst is one list write (nothing part-way to observe).
    const w = await open({ maxSize: 100, batchSize: 50, objects: 'hosts', emulator: { faults: { writeLatencyMs: 20 } } });
    let p = await w.start();
    await w.log.ban(v4s(1500));
    await w.log.ban(v6s(100));
    await w.log.unban(v4s(100, 200));
    // Killed while the firewall is part-way through the burst.
    await waitFor(
      () => w.owned(GROUP_V4).size >= 100,
      20_000,
      () => p.output(),
    );
    await p.kill9();
    const partial = w.owned(GROUP_V4).size;
    expect(partial).toBeLessThan(1400);
    p = await w.start();
    await w.converged(p);
    expect(w.owned(GROUP_V4).size).toBe(1400);
    expect(w.owned(GROUP_V6).size).toBe(100);
    // "lock" as a word: the enforcement warning says "its bans block nothing".
    expect(p.output()).not.toMatch(/\block/i);
  }, 60_000);

  it('rename rotation during a burst', async () => {
    const w = await open();
    const p = await w.start();
    // A file renamed away before the reader ever opened it cannot be followed (tail -F's limit
    // too): the sidecar is up and reading before the first rotation, as it is on a server.
    await w.log.ban(['192.0.2.1']);
    await w.caughtUp(p);
    for (let r = 0; r < 3; r++) {
      await w.log.ban(v4s(400, r * 400));
      await w.log.ban(v6s(50, r * 50));
      await w.log.rotateRename();
      // The burst goes on in the new file while the old one may not be read to its end yet.
      await w.log.ban(v4s(100, 5000 + r * 100));
      await w.log.unban(v4s(20, r * 400));
      // Two renames before the reader ever opened the middle file would lose it (tail -F's limit too).
      await w.caughtUp(p);
    }
    await w.converged(p);
    expect(w.owned(GROUP_V4).size).toBe(3 * 480 + 1);
    expect(w.owned(GROUP_V6).size).toBe(150);
  }, 60_000);

  it('copytruncate during a burst', async () => {
    const w = await open();
    const p = await w.start();
    for (let r = 0; r < 3; r++) {
      await w.log.ban(v4s(400, r * 400));
      await w.log.unban(v4s(10, r * 400));
      await w.caughtUp(p);
      await w.log.rotateCopyTruncate();
      // Written at once into the truncated file: it may be longer than the old offset before
      // the reader looks again; the changed first bytes still give the truncation away.
      await w.log.ban(v4s(200, 5000 + r * 200));
      await w.log.ban(v6s(30, r * 30));
    }
    await w.converged(p);
    expect(w.owned(GROUP_V4).size).toBe(3 * 590);
    expect(w.owned(GROUP_V6).size).toBe(90);
    expect(p.output()).toMatch(/truncated in place/);
  }, 60_000);

  it('the firewall down for a while, then back: the backlog is applied', async () => {
    const w = await open();
    const p = await w.start();
    await w.log.ban(v4s(300));
    await w.converged(p);
    w.emu.faults.down = true;
    await w.log.ban(v4s(500, 300));
    await w.log.ban(v6s(40));
    await w.log.unban(v4s(100));
    await waitFor(
      async () => (await w.readStatus())?.firewalls[0]?.reachable === false,
      20_000,
      () => p.output().slice(-2000),
    );
    expect(w.owned(GROUP_V4).size).toBe(300);
    w.emu.faults.down = false;
    await w.converged(p);
    expect(w.owned(GROUP_V4).size).toBe(700);
    expect(w.owned(GROUP_V6).size).toBe(40);
  }, 60_000);

  it('hand edits on the firewall: owned removed → re-added, owned undesired → removed, foreign → left alone', async () => {
    // About per-address host objects (a host dropped from the group by name): hosts mode.
    const w = await open({ objects: 'hosts' });
    let p = await w.start();
    await w.log.ban(v4s(50));
    await w.log.ban(v6s(5));
    await w.converged(p);
    const m = w.emu.model;
    // The admin drops one owned host from the group, adds an owned-looking stray and a host of their own.
    const g4 = m.groupByName(GROUP_V4);
    const victim = `${PREFIX}198.18.0.7`;
    expect(g4?.members).toContain(victim);
    expect(
      m.setGroup(
        { name: GROUP_V4, family: 'IPv4', description: g4?.description, hosts: (g4?.members ?? []).filter((h) => h !== victim) },
        'update',
      ).code,
    ).toBe(200);
    m.seedHost({ name: `${PREFIX}203.0.113.99`, family: 'IPv4', hostType: 'IP', ipAddress: '203.0.113.99', groups: [GROUP_V4] });
    m.seedHost({ name: 'admin_office', family: 'IPv4', hostType: 'IP', ipAddress: '203.0.113.50', groups: [GROUP_V4] });
    m.seedHost({ name: 'admin_v6', family: 'IPv6', hostType: 'IP', ipAddress: '2001:db8:ffff::1', groups: [GROUP_V6] });
    expect(w.owned(GROUP_V4).has('198.18.0.7')).toBe(false);
    // Hand edits are found by the start-up read (or the periodic resync, every 10 minutes).
    await p.stop();
    p = await w.start();
    await w.converged(p);
    expect(w.owned(GROUP_V4).has('198.18.0.7')).toBe(true);
    expect(w.owned(GROUP_V4).has('203.0.113.99')).toBe(false);
    expect(m.groupMembers(GROUP_V4)).toContain('admin_office');
    expect(m.groupMembers(GROUP_V6)).toContain('admin_v6');
    expect(m.hostByName('admin_office')?.ipAddress).toBe('203.0.113.50');
  }, 60_000);

  it('--dry-run prints the would-be writes and the firewall receives none', async () => {
    // The DRY-RUN lines checked are hosts mode's (per-address add/remove); the lists mode's are in test/cli/plan.test.ts.
    const w = await open({ logLevel: 'debug', objects: 'hosts' });
    // An owned host nobody banned: a real run would remove it.
    w.emu.model.setGroup({ name: GROUP_V4, family: 'IPv4', hosts: [] }, 'add');
    w.emu.model.seedHost({ name: `${PREFIX}203.0.113.77`, family: 'IPv4', hostType: 'IP', ipAddress: '203.0.113.77', groups: [GROUP_V4] });
    const before = JSON.stringify(w.emu.dump());
    const p = await w.start(['--dry-run']);
    await w.log.ban(['198.51.100.1', '198.51.100.2']);
    await w.log.ban(['2001:db8:1::5'], 'nginx');
    const printed = () => p.stdout();
    await waitFor(
      // DRY-RUN lines only: the plan printed first names the same addresses.
      () =>
        /DRY-RUN remove group=f2b_t_v4 .*203\.0\.113\.77/.test(printed()) &&
        /DRY-RUN add .*2001:db8:1::5/.test(printed()) &&
        /DRY-RUN add .*198\.51\.100\.2/.test(printed()),
      20_000,
      () => p.output().slice(-3000),
    );
    const out = printed();
    // The plan comes first (issue 15), then the writes as they would happen.
    expect(out).toMatch(/^plan: read \d+ line\(s\) of /);
    expect(out).toMatch(/DRY-RUN create group=f2b_t_v6 family=IPv6/);
    // The first ban after a quiet window goes out alone, the next may wait for the window (batch.leading).
    expect(out).toMatch(/DRY-RUN add group=f2b_t_v4 family=IPv4 addresses=(\S+,)?198\.51\.100\.1\b/);
    expect(out).toMatch(/DRY-RUN add group=f2b_t_v4 family=IPv4 addresses=(\S+,)?198\.51\.100\.2\b/);
    expect(out).toMatch(/DRY-RUN add group=f2b_t_v6 family=IPv6 addresses=2001:db8:1::5/);
    expect(out).toMatch(/DRY-RUN remove group=f2b_t_v4 family=IPv4 addresses=203\.0\.113\.77/);
    expect(await p.stop()).toBe(0);
    expect(w.emu.stats.writes).toBe(0);
    expect(JSON.stringify(w.emu.dump())).toBe(before);
    expect(w.emu.stats.requests).toBeGreaterThan(0);
  }, 60_000);

  it('nothing any run process printed, nor status.json / state.json, holds the password', () => {
    const text = allOutput();
    expect(text.length).toBeGreaterThan(1000);
    expect(passwords.length).toBeGreaterThan(5);
    for (const pw of passwords) for (const form of secretForms(pw)) expect(text.includes(form), form).toBe(false);
  });
});
