// Issue 6, "Real fail2ban, end to end": Debian's fail2ban bans and unbans on synthetic auth and web
// logs, the sidecar (in-process runtime, the same code as `run`) follows fail2ban's real log into the
// HTTPS XG emulator, and after every step the emulator's groups must equal `fail2ban-client banned`.
// One fail2ban server and one emulator go through all steps in order (fail2ban is slow to start).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fail2banAvailable, SANDBOX_MAXRETRY } from '../helpers/fail2ban.js';
import { JAIL_GROUPS, startE2e, type E2e, type View } from './helpers.js';

const available = fail2banAvailable();
if (!available) {
  console.warn('e2e/fail2ban: SKIPPED — fail2ban-server / /etc/fail2ban not installed (run .ci/install-deps.sh as root)');
}

// sshd keeps its bans through the lifecycle steps; webapp-auth's expire within a step.
const SSHD_BANTIME = 300;
const WEB_BANTIME = 8;
const STOP_UNBAN_WINDOW_MS = 2000;
const RESTORE_GRACE_MS = 4000;

const FOREIGN = { name: 'office_gateway', ip: '198.51.100.250' };

const has = (v: View, jail: keyof View, ...ips: string[]): boolean => ips.every((ip) => v[jail].v4.includes(ip) || v[jail].v6.includes(ip));
const all = (v: View, jail: keyof View): string[] => [...v[jail].v4, ...v[jail].v6];

describe.skipIf(!available)('real fail2ban → sidecar → XG emulator', { timeout: 60_000 }, () => {
  let e: E2e;
  /** Log mark before the first bans: their expiry is looked for from here. */
  let banMark = 0;

  beforeAll(async () => {
    e = await startE2e({
      fail2ban: { jailBantimeSec: { sshd: SSHD_BANTIME, 'webapp-auth': WEB_BANTIME } },
      sidecar: { batchWindowMs: 200, stopUnbanWindowMs: STOP_UNBAN_WINDOW_MS, restoreGraceMs: RESTORE_GRACE_MS },
    });
    // An admin's own host in the sidecar's IPv4 group: it must survive every step untouched.
    e.emu.model.seedHost({ name: FOREIGN.name, family: 'IPv4', hostType: 'IP', ipAddress: FOREIGN.ip });
    e.emu.model.seedGroup({ name: JAIL_GROUPS.sshd.v4, family: 'IPv4', hosts: [FOREIGN.name] });
    await e.startSidecar();
  });
  afterAll(async () => {
    await e?.close();
  });

  it('starts in sync: groups created, empty of owned hosts', async () => {
    const groups = Object.values(JAIL_GROUPS).flatMap((g) => [g.v4, g.v6]);
    await e.converge({ check: () => groups.every((g) => e.emu.model.groupByName(g) !== undefined) });
    expect(groups.map((g) => e.emu.model.groupByName(g)?.family)).toEqual(['IPv4', 'IPv6', 'IPv4', 'IPv6']);
  });

  it('bans from failure lines, IPv4 and IPv6, in both jails', async () => {
    banMark = await e.sb.logMark();
    await e.sb.failures('sshd', '192.0.2.10', SANDBOX_MAXRETRY.sshd);
    await e.sb.failures('sshd', '2001:db8::10', SANDBOX_MAXRETRY.sshd);
    await e.sb.failures('webapp-auth', '203.0.113.7', SANDBOX_MAXRETRY['webapp-auth']);
    await e.sb.failures('webapp-auth', '2001:db8:0:1::7', SANDBOX_MAXRETRY['webapp-auth']);
    const v = await e.converge({
      check: (v) => has(v, 'sshd', '192.0.2.10', '2001:db8::10') && has(v, 'webapp-auth', '203.0.113.7', '2001:db8:0:1::7'),
    });
    expect(v.sshd).toEqual({ v4: ['192.0.2.10'], v6: ['2001:db8::10'] });
  });

  it('unbans on expiry (webapp-auth bantime)', async () => {
    await e.sb.waitForLog(verbLine('webapp-auth', 'Unban', '203.0.113.7'), (WEB_BANTIME + 10) * 1000, banMark);
    await e.sb.waitForLog(verbLine('webapp-auth', 'Unban', '2001:db8:0:1::7'), 10_000, banMark);
    const v = await e.converge({ check: (v) => all(v, 'webapp-auth').length === 0 });
    // The expiry only touched webapp-auth.
    expect(all(v, 'sshd')).toEqual(['192.0.2.10', '2001:db8::10']);
  });

  it('manual set JAIL banip / unbanip', async () => {
    expect((await e.sb.client('set', 'sshd', 'banip', '198.51.100.99', '2001:db8::99')).code).toBe(0);
    await e.converge({ check: (v) => has(v, 'sshd', '198.51.100.99', '2001:db8::99') });
    expect((await e.sb.client('set', 'sshd', 'unbanip', '198.51.100.99')).code).toBe(0);
    const v = await e.converge({ check: (v) => !has(v, 'sshd', '198.51.100.99') });
    expect(v.sshd).toEqual({ v4: ['192.0.2.10'], v6: ['2001:db8::10', '2001:db8::99'] });
  });

  it('reload keeps every ban and costs no firewall write', async () => {
    await e.caughtUp();
    await e.runtime?.sidecar.idle();
    const before = e.firewallView();
    const writes = e.emu.stats.writes;
    const since = await e.sb.logMark();
    await e.sb.reload();
    await e.caughtUp();
    await e.runtime?.sidecar.idle();
    const lines = (await e.sb.logLines()).slice(since);
    expect(lines.some((l) => / (Unban|Ban|Restore Ban) /.test(l))).toBe(false);
    expect(await e.converge()).toEqual(before);
    expect(e.emu.stats.writes).toBe(writes);
  });

  it('stop JAIL: its bans stay blocked (suspended), and return without churn when reload restores them', async () => {
    const before = await e.converge();
    const sshdBans = all(before, 'sshd');
    const writes = e.emu.stats.writes;
    const since = await e.sb.logMark();
    expect((await e.sb.client('stop', 'sshd')).code).toBe(0);
    await e.sb.waitForLog(/Jail 'sshd' stopped$/, 15_000, since);
    expect((await e.sb.banned()).has('sshd')).toBe(false);
    const stopLines = (await e.sb.logLines()).slice(since);
    // fail2ban logs a stop-Unban per ticket; the tickets stay in its database.
    for (const ip of sshdBans) expect(stopLines).toContainEqual(expect.stringMatching(verbLine('sshd', 'Unban', ip)));
    await e.caughtUp();
    // Past the stop-Unban window: had the Unbans been taken as real, the removals would be due now.
    await delay(STOP_UNBAN_WINDOW_MS + 500);
    await e.runtime?.sidecar.idle();
    await e.converge({ assume: { sshd: sshdBans }, what: 'firewall while sshd is stopped' });
    expect(e.emu.stats.writes).toBe(writes);

    const mark = await e.sb.logMark();
    await e.sb.reload();
    for (const ip of sshdBans) await e.sb.waitForLog(restoreBan('sshd', ip), 15_000, mark);
    await e.caughtUp();
    // Past the restore grace: an address the jail did not restore would be removed by now.
    await delay(RESTORE_GRACE_MS + 500);
    await e.runtime?.sidecar.idle();
    expect(await e.converge()).toEqual(before);
    expect(e.emu.stats.writes).toBe(writes);
  });

  it('fail2ban stopped and started: bans restored from its DB, no removal and re-add on the firewall', async () => {
    const before = await e.converge();
    await e.caughtUp();
    await e.runtime?.sidecar.idle();
    const sshdBans = all(before, 'sshd');
    expect(sshdBans.length).toBeGreaterThan(0);
    const writes = e.emu.stats.writes;
    const oldPid = e.sb.pid;
    const since = await e.sb.logMark();
    await e.sb.stop();
    await e.caughtUp();
    // Past the stop-Unban window with fail2ban gone: everything it banned is still blocked.
    await delay(STOP_UNBAN_WINDOW_MS + 500);
    await e.runtime?.sidecar.idle();
    expect(e.firewallView()).toEqual(before);
    await e.sb.start();
    expect(e.sb.pid).not.toBe(oldPid);
    for (const ip of sshdBans) await e.sb.waitForLog(restoreBan('sshd', ip), 15_000, since);
    await e.caughtUp();
    // Past the restore grace: an address the jail did not restore would be removed by now.
    await delay(RESTORE_GRACE_MS + 500);
    await e.runtime?.sidecar.idle();
    expect(await e.converge()).toEqual(before);
    // The restored addresses were neither removed nor re-added: not a single write.
    expect(e.emu.stats.writes).toBe(writes);
  });

  it('a ban that runs out while fail2ban is down is not restored: removed once the restore grace is over', async () => {
    const since = await e.sb.logMark();
    expect((await e.sb.client('set', 'webapp-auth', 'banip', '203.0.113.40')).code).toBe(0);
    const bannedAt = Date.now();
    await e.sb.stop();
    // Its stop-Unban is inside the stop sequence: a suspension, not a lift.
    const stopLines = (await e.sb.logLines()).slice(since);
    expect(stopLines).toContainEqual(expect.stringMatching(verbLine('webapp-auth', 'Unban', '203.0.113.40')));
    await e.caughtUp();
    await e.runtime?.sidecar.idle();
    expect(has(e.firewallView(), 'webapp-auth', '203.0.113.40')).toBe(true);
    await delay(Math.max(0, bannedAt + WEB_BANTIME * 1000 + 1000 - Date.now()));
    await e.sb.start();
    await e.sb.waitForLog(/Jail 'webapp-auth' started$/, 15_000, since);
    const v = await e.converge({ check: (v) => !has(v, 'webapp-auth', '203.0.113.40'), timeoutMs: RESTORE_GRACE_MS + 15_000 });
    expect(all(v, 'sshd').length).toBeGreaterThan(0);
    expect((await e.sb.logLines()).slice(since).some((l) => l.endsWith('Restore Ban 203.0.113.40'))).toBe(false);
    expect(e.records).toContainEqual(expect.objectContaining({ kind: 'not-restored', jail: 'webapp-auth', address: '203.0.113.40' }));
  });

  it('log rotation the Debian way (mv + flushlogs): lines on both sides of the rename are followed', async () => {
    await e.sb.rotate({
      beforeFlush: async () => {
        // Logged into the renamed file: fail2ban writes there until flushlogs.
        expect((await e.sb.client('set', 'sshd', 'banip', '203.0.113.66')).code).toBe(0);
        await e.sb.waitForLog(/\[sshd\] Ban 203\.0\.113\.66$/);
      },
    });
    expect((await e.sb.client('set', 'sshd', 'banip', '2001:db8::66')).code).toBe(0);
    await e.converge({ check: (v) => has(v, 'sshd', '203.0.113.66', '2001:db8::66') });
  });

  it('sidecar stopped, bans and unbans meanwhile (and a rotation), restarted: converges from its checkpoint', async () => {
    await e.caughtUp();
    await e.stopSidecar();
    const writes = e.emu.stats.writes;
    const since = await e.sb.logMark();
    await e.sb.failures('sshd', '198.51.100.77', SANDBOX_MAXRETRY.sshd);
    await e.sb.waitForLog(/\[sshd\] Ban 198\.51\.100\.77$/, 15_000, since);
    expect((await e.sb.client('set', 'sshd', 'unbanip', '192.0.2.10', '2001:db8::99')).code).toBe(0);
    await e.sb.rotate({
      beforeFlush: async () => {
        expect((await e.sb.client('set', 'sshd', 'banip', '203.0.113.77')).code).toBe(0);
        await e.sb.waitForLog(/\[sshd\] Ban 203\.0\.113\.77$/, 15_000, since);
      },
    });
    expect((await e.sb.client('set', 'sshd', 'banip', '2001:db8::77')).code).toBe(0);
    await e.sb.waitForLog(/\[sshd\] Ban 2001:db8::77$/, 15_000, since);
    // Nothing reached the firewall while the sidecar was down.
    expect(e.emu.stats.writes).toBe(writes);

    const recordsBefore = e.records.length;
    await e.startSidecar();
    const v = await e.converge({
      check: (v) =>
        has(v, 'sshd', '198.51.100.77', '203.0.113.77', '2001:db8::77') && !has(v, 'sshd', '192.0.2.10') && !has(v, 'sshd', '2001:db8::99'),
    });
    expect(v.sshd).toEqual({ v4: ['198.51.100.77', '203.0.113.66', '203.0.113.77'], v6: ['2001:db8::10', '2001:db8::66', '2001:db8::77'] });
    // It resumed in the renamed file at its checkpoint, not from the beginning of the new one.
    const codes = e.records.slice(recordsBefore).map((r) => r.code);
    expect(codes).toContain('CHECKPOINT_ROTATED');
    expect(codes).not.toContain('CHECKPOINT_NOT_FOUND');
  });

  it('never touched the admin’s own host in its group, and left no stray owned hosts', async () => {
    const v = await e.converge();
    expect(e.emu.model.groupMembers(JAIL_GROUPS.sshd.v4)).toContain(FOREIGN.name);
    expect(e.emu.model.hostByName(FOREIGN.name)?.ipAddress).toBe(FOREIGN.ip);
    // Every address held by an owned object (an IPList holds many in lists mode, run's default; a
    // per-address host one): no stray object, and no address held twice.
    const owned = e.emu.model
      .dump()
      .hosts.filter((h) => h.name.startsWith('f2b_'))
      .flatMap((h) => (h.hostType === 'IPList' ? (h.listOfIPAddresses ?? '').split(',').filter((a) => a !== '') : [h.ipAddress ?? h.name]));
    const expected = new Set([...all(v, 'sshd'), ...all(v, 'webapp-auth')]).size;
    expect(owned.length).toBe(expected);
  });
});

function verbLine(jail: string, verb: string, ip: string): RegExp {
  return new RegExp(`NOTICE +\\[${jail}\\] ${verb} ${ip.replace(/[.:]/g, '\\$&')}$`);
}

function restoreBan(jail: string, ip: string): RegExp {
  return verbLine(jail, 'Restore Ban', ip);
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
