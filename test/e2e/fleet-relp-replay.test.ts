// RELP's replay after a central restart (issue 13; librelp 1.11 re-sends every line of the session,
// `Jail 'sshd' started` included, see the README's Fleet section): the sidecar must drop the lines
// it already read from that host. Were the repeated jail start taken for a restart of web1 without
// a stop, web1's bans would be suspended and — not restored — lifted after the restore grace (2 s
// here). Real fail2ban, real rsyslog over RELP + TLS, the real sidecar against the emulator.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetAvailable, startFleet, type Fleet } from '../helpers/fleet.js';
import { closeAll, GROUP_V4, setDiff, startWorld, waitFor, type Proc, type World } from '../helpers/sidecar.js';

const available = fleetAvailable('relp');
if (!available) console.warn('fleet-relp-replay: SKIPPED — needs fail2ban, openssl, rsyslog, rsyslog-relp: .ci/install-deps.sh');

describe.skipIf(!available)('fleet over RELP: a central restart replays lines, the sidecar drops them', { timeout: 120_000 }, () => {
  let fleet: Fleet;
  let world: World;
  let proc: Proc;

  beforeAll(async () => {
    fleet = await startFleet({ hosts: ['web1'], transport: 'relp', fail2ban: { jails: ['sshd'], bantimeSec: 3600, banaction: 'noop' } });
    world = await startWorld({ logPath: () => fleet.logGlob, windowMs: 100, objects: 'lists', restoreGraceMs: 2000 });
    proc = await world.start();
  });
  afterAll(async () => {
    await world?.close();
    await fleet?.stop();
    await closeAll();
  });

  it('bans survive the replayed jail start, the new ban arrives, the replay costs no removal', async () => {
    const host = fleet.host('web1');
    await host.ban('sshd', '192.0.2.1', '192.0.2.2');
    await host.fail2ban.waitForLog(/\] Ban 192\.0\.2\.2$/, 20_000);
    const blocked = async (want: string[]) => {
      let why = '';
      await waitFor(
        async () => (why = setDiff(new Set(want), world.owned(GROUP_V4))) === '',
        30_000,
        () => `${why}\n${proc.output().slice(-2000)}`,
      );
    };
    await blocked(['192.0.2.1', '192.0.2.2']);

    await fleet.central.stop();
    await host.ban('sshd', '192.0.2.3');
    await fleet.central.start();
    await host.fail2ban.waitForLog(/\] Ban 192\.0\.2\.3$/, 60_000);
    // The replay happened (else this test proves nothing): the jail start is in the central file twice.
    const file = fleet.central.fileOf('web1');
    await waitFor(
      async () => ((await readFile(file, 'utf8')).match(/Jail 'sshd' started/g) ?? []).length >= 2,
      30_000,
      () => `no replay seen in ${file}`,
    );
    await blocked(['192.0.2.1', '192.0.2.2', '192.0.2.3']);
    // Longer than the restore grace: a crash-restart would have lifted 192.0.2.1 and .2 by now.
    await new Promise((r) => setTimeout(r, 4000));
    await blocked(['192.0.2.1', '192.0.2.2', '192.0.2.3']);
    expect(proc.output()).not.toMatch(/jail started again without a stop|restarted without a stop/);
    expect(proc.output()).toMatch(/repeat/i);
  });
});
