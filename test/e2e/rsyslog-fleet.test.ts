// The README's fleet transport, for real (issue 13): two real fail2ban servers (web1, web2) log with
// `logtarget = SYSLOG` to their own rsyslog, which forwards with the contrib/rsyslog snippets (TCP +
// TLS, or RELP + TLS, disk-assisted queue) to one central rsyslog writing remote/HOST/fail2ban.log.
// Checked: each host's lines land in its own file in the RFC 3339 format the sidecar parses; a
// central outage loses nothing and repeats only lines delivered before it; the
// contrib logrotate file, run by the real logrotate while lines arrive, loses nothing.
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetAvailable, startFleet, type Fleet, type Transport } from '../helpers/fleet.js';
import { CONTRIB_DIR } from '../helpers/rsyslog.js';

const logrotateAvailable = spawnSync('logrotate', ['--version'], { stdio: 'ignore' }).status === 0;

// RSYSLOG_FileFormat: RFC 3339 stamp with microseconds and offset, HOSTNAME, the whole tag, the message.
const fileLine = (host: string, pid: number, what: 'Ban' | 'Unban', ip: string): RegExp =>
  new RegExp(
    `^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}[+-]\\d\\d:\\d\\d ${host} fail2ban\\.actions\\[${pid}\\]: NOTICE\\s+\\[sshd\\] ${what} ${ip.replaceAll('.', '\\.')}$`,
  );
const ANY_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d (\S+) (fail2ban\.[a-z]+)\[\d+\]: /;

function logrotate(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('logrotate', args, { encoding: 'utf8', timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`logrotate ${args.join(' ')}: ${err.message}\n${stderr}`, { cause: err }));
      else resolve(stdout + stderr);
    });
  });
}

const bans = (lines: string[], ip: string): number => lines.filter((l) => l.endsWith(`] Ban ${ip}`)).length;
const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

for (const transport of ['tls', 'relp'] as const satisfies readonly Transport[]) {
  const available = fleetAvailable(transport);
  if (!available)
    console.warn(
      `rsyslog-fleet (${transport}): SKIPPED — needs fail2ban, openssl, rsyslog (+ rsyslog-gnutls / rsyslog-relp): .ci/install-deps.sh`,
    );

  describe.skipIf(!available)(
    `fleet transport over ${transport}: fail2ban → rsyslog → central rsyslog → one file per host`,
    { timeout: 60_000 },
    () => {
      let fleet: Fleet;
      const f2b = (host: string) => fleet.host(host);
      const ban = (host: string, ...ips: string[]): Promise<void> => fleet.host(host).ban('sshd', ...ips);

      beforeAll(async () => {
        fleet = await startFleet({
          hosts: ['web1', 'web2'],
          transport,
          fail2ban: { jails: ['sshd'], bantimeSec: 3600, banaction: 'noop' },
        });
      });
      afterAll(async () => {
        await fleet?.stop();
      });

      it("puts each host's Ban / Unban lines into its own file, in RSYSLOG_FileFormat, and nowhere else", async () => {
        await ban('web1', '192.0.2.11');
        await ban('web2', '192.0.2.12');
        await f2b('web1').unban('sshd', '192.0.2.11');
        const pid1 = f2b('web1').fail2ban.pid ?? -1;
        const pid2 = f2b('web2').fail2ban.pid ?? -1;
        const web1 = await fleet.central.waitFor('web1', (l) => l.some((x) => fileLine('web1', pid1, 'Unban', '192.0.2.11').test(x)));
        const web2 = await fleet.central.waitFor('web2', (l) => l.some((x) => fileLine('web2', pid2, 'Ban', '192.0.2.12').test(x)));
        expect(web1.filter((l) => fileLine('web1', pid1, 'Ban', '192.0.2.11').test(l))).toHaveLength(1);
        // Every line of a host's file is a fail2ban line of that host (startup lines included).
        for (const [host, lines] of [
          ['web1', web1],
          ['web2', web2],
        ] as const) {
          expect(lines.length).toBeGreaterThan(5);
          for (const l of lines) expect(ANY_LINE.exec(l)?.[1], l).toBe(host);
        }
        expect(web2.some((l) => l.includes('192.0.2.11'))).toBe(false);
        // `stop` in the forward snippet: fail2ban's lines did not also go to the host's local files.
        for (const host of ['web1', 'web2']) {
          const local = await readFile(f2b(host).rsyslog.localLog, 'utf8').catch(() => '');
          expect(local).not.toMatch(/fail2ban\./);
        }
        // The central files' modes are the documented ones (sidecar reads them through group adm).
        const mode = spawnSync('stat', ['-c', '%a %G', fleet.central.fileOf('web1'), join(fleet.central.remoteDir, 'web1')], {
          encoding: 'utf8',
        });
        expect(mode.stdout.trim().split('\n')).toEqual(['640 adm', '750 adm']);
      });

      it.each([
        ['stopped', 1],
        ['killed with SIGKILL', 151],
      ] as const)(
        'a central outage (%s): the 50 bans logged meanwhile all arrive once it is back, each exactly once',
        async (how, first) => {
          const web1 = f2b('web1');
          const beforeOutage = await fleet.central.lines('web1');
          if (how === 'stopped') await fleet.central.stop();
          else await fleet.central.kill();
          const ips = Array.from({ length: 50 }, (_, i) => `198.51.100.${i + first}`);
          await ban('web1', ...ips);
          // The central is down for a while: the forward action fails, is suspended and retried.
          await delay(1500);
          await fleet.central.start();
          const pid = web1.fail2ban.pid ?? -1;
          const lines = await fleet.central.waitFor('web1', (l) => ips.every((ip) => bans(l, ip) >= 1), 30_000);
          // Late duplicates (a resend after the reconnect) would show up after the last first copy.
          await delay(1500);
          const after = await fleet.central.lines('web1');
          for (const ip of ips) {
            expect(bans(after, ip), ip).toBe(1);
            expect(after.some((l) => fileLine('web1', pid, 'Ban', ip).test(l))).toBe(true);
          }
          expect(after.length).toBe(lines.length);
          // At-least-once: a line may come twice only if it had been delivered before the outage (RELP
          // resends what the central did not acknowledge before it went away; TCP resends its last one).
          const dups = after.filter((l, i) => after.indexOf(l) !== i);
          if (dups.length > 0)
            console.info(`rsyslog-fleet (${transport}): lines delivered twice across the outage (${how}):\n${dups.join('\n')}`);
          for (const d of dups) expect(beforeOutage, d).toContain(d);
        },
      );

      it('a host rsyslog restarted during a central outage keeps its queue on disk and loses at most the message it was retrying', async () => {
        const web1 = f2b('web1');
        await fleet.central.stop();
        const ips = Array.from({ length: 50 }, (_, i) => `198.51.100.${i + 101}`);
        await ban('web1', ...ips);
        // Let the host rsyslog read fail2ban's datagrams: one still in the socket buffer at the stop is lost.
        await delay(1500);
        await web1.rsyslog.stop();
        // queue.saveOnShutdown: what was queued is now in the spool dir (the disk of the disk-assisted queue).
        expect((await web1.rsyslog.spoolFiles()).length).toBeGreaterThan(0);
        await web1.rsyslog.start();
        await fleet.central.start();
        await fleet.central.waitFor('web1', (l) => ips.slice(2).every((ip) => bans(l, ip) >= 1), 30_000);
        await delay(1500);
        const after = await fleet.central.lines('web1');
        const missing = ips.filter((ip) => bans(after, ip) === 0);
        console.info(`rsyslog-fleet (${transport}): lost across a host rsyslog restart during the outage: ${missing.join(' ') || 'none'}`);
        // rsyslog issue #2710: the batch being retried at the stop is dropped. queue.dequeueBatchSize="1"
        // makes that one message (TCP) or the RELP window's first two; without it we saw 2 to 11 of 50.
        expect(missing.length).toBeLessThanOrEqual(2);
        for (const ip of missing) expect(ips.slice(0, 2)).toContain(ip);
        for (const ip of ips) expect(bans(after, ip), ip).toBeLessThanOrEqual(2);
      });

      it("a fail2ban restart and reload on web1 reach web1's file through the fleet (the harness's waitForLog reads it)", async () => {
        const web1 = f2b('web1');
        const web2Before = (await fleet.central.lines('web2')).length;
        await web1.fail2ban.restart();
        const pid = web1.fail2ban.pid ?? -1;
        await web1.fail2ban.waitForLog(
          new RegExp(`^\\S+ web1 fail2ban\\.actions\\[${pid}\\]: NOTICE\\s+\\[sshd\\] Restore Ban 198\\.51\\.100\\.50$`),
        );
        await web1.fail2ban.reload();
        const web2After = await fleet.central.lines('web2');
        expect(web2After.slice(web2Before).filter((l) => /Restore Ban|Reload/.test(l))).toEqual([]);
      });

      it.skipIf(!logrotateAvailable)('the contrib logrotate file, run while lines arrive, loses nothing (rename + HUP)', async () => {
        const conf = readFileSync(join(CONTRIB_DIR, 'logrotate-remote-fail2ban'), 'utf8')
          .replaceAll('/var/log/remote/', `${fleet.central.remoteDir}/`)
          .replace('/usr/lib/rsyslog/rsyslog-rotate', `/bin/kill -HUP ${fleet.central.pid ?? 0}`);
        const confPath = join(fleet.dir, 'logrotate.conf');
        await writeFile(confPath, conf, { mode: 0o644 });
        const ips = Array.from({ length: 40 }, (_, i) => `203.0.113.${i + 1}`);
        const chunks = Array.from({ length: 8 }, (_, i) => ips.slice(i * 5, i * 5 + 5));
        const banChunks = async (from: number, to: number): Promise<void> => {
          for (const chunk of chunks.slice(from, to)) await ban('web2', ...chunk);
        };
        await banChunks(0, 3);
        await fleet.central.waitFor('web2', (l) => ips.slice(0, 15).every((ip) => bans(l, ip) === 1));
        // logrotate (rename, create, HUP) runs while chunks 3-5 are banned and forwarded; 6-7 come after it.
        await Promise.all([logrotate(['-f', '-s', join(fleet.dir, 'logrotate.state'), confPath]), banChunks(3, 6)]);
        await banChunks(6, 8);
        const all = await fleet.central.waitFor('web2', (l) => ips.every((ip) => bans(l, ip) >= 1), 20_000, true);
        for (const ip of ips) expect(bans(all, ip), ip).toBe(1);
        const before = await fleet.central.lines('web2', true);
        const current = await fleet.central.lines('web2');
        // The rotation happened mid-stream: old lines in fail2ban.log.1, later bans in the new file.
        expect(current.length).toBeGreaterThan(0);
        expect(before.length).toBeGreaterThan(current.length);
        expect(bans(current, ips[0] ?? '')).toBe(0);
        expect(bans(current, ips.at(-1) ?? '')).toBe(1);
      });
    },
  );
}
