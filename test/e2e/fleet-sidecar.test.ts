// The fleet end to end (issue 13 item 7): two real fail2ban servers (web1, web2) log with
// `logtarget = SYSLOG` to their own rsyslog, which forwards over TCP + TLS (the contrib snippets)
// to one central rsyslog writing remote/HOST/fail2ban.log; one real `f2b-sophosxg run` follows
// `remote/*/fail2ban.log` against the HTTPS emulator. What the firewall must hold is asked of the
// fail2ban servers themselves (`fail2ban-client banned`), minus never-block: never derived from
// the sidecar's parser or state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetAvailable, startFleet, type Fleet } from '../helpers/fleet.js';
import { closeAll, GROUP_V4, setDiff, startWorld, waitFor, type Proc, type World } from '../helpers/sidecar.js';

const available = fleetAvailable('tls');
if (!available) console.warn('fleet-sidecar: SKIPPED — needs fail2ban, openssl, rsyslog, rsyslog-gnutls: .ci/install-deps.sh');

// 10.0.0.0/8 is in the default neverBlock: fail2ban bans it, the firewall must not.
const NEVER = '10.20.30.40';

describe.skipIf(!available)(
  'fleet end to end: fail2ban ×2 → rsyslog TLS → central rsyslog → one sidecar → XG',
  { timeout: 180_000 },
  () => {
    let fleet: Fleet;
    let world: World;
    let proc: Proc;

    /** The union of both servers' `fail2ban-client banned`, minus never-block. */
    async function expected(): Promise<Set<string>> {
      const out = new Set<string>();
      for (const h of ['web1', 'web2']) {
        for (const ids of (await fleet.host(h).fail2ban.banned()).values()) for (const ip of ids) if (ip !== NEVER) out.add(ip);
      }
      return out;
    }

    async function converged(timeoutMs = 30_000): Promise<Set<string>> {
      const want = await expected();
      let why = '';
      await waitFor(
        async () => {
          if (proc.child.exitCode !== null) throw new Error(`sidecar exited:\n${proc.output().slice(-3000)}`);
          why = setDiff(want, world.owned(GROUP_V4));
          return why === '';
        },
        timeoutMs,
        () => `firewall ≠ union of fail2ban-client banned: ${why}\n${proc.output().slice(-2000)}`,
      );
      return want;
    }

    /** Both hosts' central files hold `re` (the sidecar reads what rsyslog wrote, not fail2ban's own). */
    const arrived = (host: string, re: RegExp, since = 0) => fleet.host(host).fail2ban.waitForLog(re, 20_000, since);

    beforeAll(async () => {
      fleet = await startFleet({
        hosts: ['web1', 'web2'],
        transport: 'tls',
        fail2ban: { jails: ['sshd'], bantimeSec: 3600, banaction: 'noop' },
      });
      world = await startWorld({ logPath: () => fleet.logGlob, windowMs: 100, objects: 'lists' });
      proc = await world.start();
    });
    afterAll(async () => {
      await world?.close();
      await fleet?.stop();
      await closeAll();
    });

    it("the group is the union of both servers' bans minus never-block; a shared address survives an unban on one host", async () => {
      await fleet.host('web1').ban('sshd', '192.0.2.1', '192.0.2.2', NEVER);
      await fleet.host('web2').ban('sshd', '192.0.2.1', '192.0.2.3');
      const want = await converged();
      expect([...want].sort()).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3']);
      expect(world.owned(GROUP_V4).has(NEVER)).toBe(false);

      const mark = await fleet.host('web1').fail2ban.logMark();
      await fleet.host('web1').unban('sshd', '192.0.2.1');
      await arrived('web1', /\] Unban 192\.0\.2\.1$/, mark);
      // Past the stop-unban window (300 ms here) and a few batching windows: still blocked (web2 holds it).
      await new Promise((r) => setTimeout(r, 2000));
      expect(world.owned(GROUP_V4).has('192.0.2.1')).toBe(true);
      await converged();
      // status.json: each host with the bans it holds (web1's unban resolved after the window).
      let shown = '';
      await waitFor(
        async () => {
          shown = JSON.stringify((await world.readStatus())?.sources?.map((x) => [x.name, x.bans]));
          return (
            shown ===
            JSON.stringify([
              ['web1', 1],
              ['web2', 2],
            ])
          );
        },
        10_000,
        () => `status sources ${shown}`,
      );
    });

    it('a restart of one fail2ban server costs 0 writes', async () => {
      await converged();
      const before = world.emu.stats.writes;
      const events = async (host: string) => (await world.readStatus())?.sources?.find((x) => x.name === host)?.events ?? 0;
      const seen = await events('web1');
      const mark = await fleet.host('web1').fail2ban.logMark();
      await fleet.host('web1').fail2ban.restart();
      await arrived('web1', /\] Restore Ban 192\.0\.2\.2$/, mark);
      // The sidecar read the whole restart: the stop-Unbans, stops, starts and Restore Bans (≥ 8 events).
      await waitFor(
        async () => (await events('web1')) >= seen + 8,
        15_000,
        () => "the sidecar did not read web1's restart",
      );
      await new Promise((r) => setTimeout(r, 2000));
      await converged();
      expect(world.emu.stats.writes - before).toBe(0);
    });

    it('a restart of the central rsyslog loses nothing', async () => {
      await fleet.central.stop();
      await fleet.host('web2').ban('sshd', '192.0.2.20');
      await fleet.host('web1').ban('sshd', '192.0.2.10');
      await fleet.central.start();
      await arrived('web2', /\] Ban 192\.0\.2\.20$/);
      await arrived('web1', /\] Ban 192\.0\.2\.10$/);
      const want = await converged();
      expect(want.has('192.0.2.10') && want.has('192.0.2.20')).toBe(true);
    });

    it('the sidecar killed with -9 loses nothing: bans and unbans logged while it was down are applied at its start', async () => {
      await converged();
      await proc.kill9();
      await fleet.host('web2').unban('sshd', '192.0.2.3');
      await fleet.host('web1').ban('sshd', '192.0.2.11');
      await arrived('web2', /\] Unban 192\.0\.2\.3$/);
      await arrived('web1', /\] Ban 192\.0\.2\.11$/);
      proc = await world.start();
      const want = await converged();
      expect(want.has('192.0.2.11') && !want.has('192.0.2.3')).toBe(true);
    });
  },
);
