// The wired runtime against the HTTPS emulator: ban-to-block metric and seedFromClient.
import { appendFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/net.js';
import { parseConfig } from '../../src/config/index.js';
import { startRuntime } from '../../src/app/runtime.js';
import { createLogger } from '../../src/util/log.js';
import {
  LineSink,
  PASSWORD,
  capturedOutput,
  f2bLine,
  f2bStamp,
  fakeClient,
  rigConfig,
  sample,
  startRig,
  tempDir,
  waitFor,
  type Rig,
} from './helpers.js';

const HIST = 'f2b_sophosxg_ban_to_block_seconds_count';
const LABELS = { firewall: 'main', group: 'f2b_blockings' };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function rig(o: Parameters<typeof startRig>[0] = {}): Promise<Rig> {
  const r = await startRig(o);
  cleanups.push(() => r.close());
  return r;
}

const hasMember = (r: Rig, ip: string, group?: string) => r.blocked(group).includes(ip);

describe('ban-to-block seconds', () => {
  it('a live Ban line is observed once in the histogram, labelled by firewall and group', async () => {
    const r = await rig();
    expect(sample(await r.runtime.metrics.render(), HIST, LABELS)).toBeUndefined();
    await r.append(f2bLine('Ban', 'sshd', '198.51.100.7'));
    await waitFor('the ban on the firewall', () => hasMember(r, '198.51.100.7'));
    const text = await waitFor('an observation', async () => {
      const t = await r.runtime.metrics.render();
      return sample(t, HIST, LABELS) === 1 && t;
    });
    // Bounded by the time the test itself took; no lower bound (the stamp has ms precision).
    const sum = sample(text, 'f2b_sophosxg_ban_to_block_seconds_sum', LABELS) ?? -1;
    expect(sum).toBeGreaterThanOrEqual(0);
    expect(sum).toBeLessThan(60);
    expect(sample(text, 'f2b_sophosxg_ban_to_block_seconds_bucket', { ...LABELS, le: '+Inf' })).toBe(1);

    // A Restore Ban (fail2ban restarted) reaches the firewall but is not a live ban.
    await r.append(f2bLine('Restore Ban', 'sshd', '198.51.100.8'));
    await r.append(f2bLine('Ban', 'sshd', '2001:db8::8'));
    await waitFor('both on the firewall', () => hasMember(r, '198.51.100.8') && r.blocked('f2b_blockings6').length === 1);
    await r.runtime.sidecar.idle();
    const after = await r.runtime.metrics.render();
    expect(sample(after, HIST, LABELS)).toBe(1);
    expect(sample(after, HIST, { firewall: 'main', group: 'f2b_blockings6' })).toBe(1);
  });

  it('Ban lines written before the process started are replayed but not measured', async () => {
    const old = new Date(Date.now() - 3_600_000);
    const r = await rig({ startAt: 'beginning', initialLog: f2bLine('Ban', 'sshd', '198.51.100.9', old) });
    await waitFor('the replayed ban on the firewall', () => hasMember(r, '198.51.100.9'));
    await r.runtime.sidecar.idle();
    expect(sample(await r.runtime.metrics.render(), HIST, LABELS)).toBeUndefined();
  });
});

describe('seedFromClient', () => {
  it('first start: the bans fail2ban-client reports reach the firewall without any log line; later starts do not ask again', async () => {
    const t = await tempDir('f2b-seed-client-');
    cleanups.push(t.remove);
    const client = await fakeClient(t.dir, { banned: { stdout: capturedOutput('client-banned.txt') } });
    const extra = ['seedFromClient: true', `fail2banClient: { path: ${JSON.stringify(client.path)}, args: ["-s", "/run/x.sock"] }`];
    const r = await rig({ extra });
    await waitFor('seeded bans on the firewall', () => hasMember(r, '192.0.2.10') && r.blocked('f2b_blockings6').length === 2);
    expect(r.blocked('f2b_blockings6').sort()).toEqual(
      expect.arrayContaining([expect.stringContaining('2001'), expect.stringContaining('2001')]),
    );
    expect(await client.calls()).toEqual(['banned']);
    expect(r.sink.text).toMatch(/seeded desired state from fail2ban-client via=banned jails=2 bans=3 rejected=1/);
    expect(r.sink.text).toMatch(/WARN seed: not an IP address or network, skipped jail=webapp-auth id=bad-host.example reason=hostname/);
    // A seeded ban is not a live one.
    await r.runtime.sidecar.idle();
    expect(sample(await r.runtime.metrics.render(), HIST, LABELS)).toBeUndefined();

    // Restart on the same state: the state wins, fail2ban-client is not asked again.
    await r.stop();
    const again = await startRig({ dir: r.dir, extra }, r.emu);
    cleanups.push(() => again.stop());
    await again.runtime.sidecar.idle();
    expect(await client.calls()).toEqual(['banned']);
    expect(again.sink.text).toMatch(/seedFromClient: state exists, not seeding/);
    expect(hasMember(again, '192.0.2.10')).toBe(true);
  });

  it('without a usable fail2ban-client the sidecar warns and follows the log alone', async () => {
    const t = await tempDir('f2b-seed-client-');
    cleanups.push(t.remove);
    const extra = ['seedFromClient: true', `fail2banClient: { path: ${JSON.stringify(`${t.dir}/missing-client`)} }`];
    const r = await rig({ extra });
    await waitFor('the warning', () => /cannot read the current bans from fail2ban-client/.test(r.sink.text));
    await r.append(f2bLine('Ban', 'sshd', '198.51.100.20'));
    await waitFor('the logged ban on the firewall', () => hasMember(r, '198.51.100.20'));
  });

  it('lines logged while fail2ban-client runs are applied after the snapshot, not lost', async () => {
    const t = await tempDir('f2b-seed-client-');
    cleanups.push(t.remove);
    // The snapshot still lists 192.0.2.10; the log then says it was lifted.
    const client = await fakeClient(t.dir, { banned: { stdout: "[{'sshd': ['192.0.2.10']}]\n", sleepSec: 1 } });
    // startAt end: had the log been opened only after the seed, this line would be skipped.
    const r = await rig({ startAt: 'end', extra: ['seedFromClient: true', `fail2banClient: { path: ${JSON.stringify(client.path)} }`] });
    await waitFor('fail2ban-client asked', async () => (await client.calls()).length === 1);
    await r.append(f2bLine('Ban', 'sshd', '198.51.100.30'));
    await waitFor('the seed and the logged ban', () => hasMember(r, '192.0.2.10') && hasMember(r, '198.51.100.30'));
    await r.append(f2bLine('Unban', 'sshd', '192.0.2.10'));
    await waitFor('the unban applied', () => !hasMember(r, '192.0.2.10'));
    expect(hasMember(r, '198.51.100.30')).toBe(true);
  });
});

describe('process metrics (idle CPU, issue 15)', () => {
  // prom-client's process metrics keep an event-loop timer running; without an endpoint nobody
  // could read them, so they are not collected at all.
  it('are not collected without a metrics endpoint', async () => {
    const r = await rig();
    const text = await r.runtime.metrics.render();
    expect(text).toContain('f2b_sophosxg_build_info');
    expect(text).not.toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).not.toMatch(/^nodejs_eventloop_lag_seconds /m);
  });

  it('are collected when the endpoint is on', async () => {
    const r = await rig({ extra: [`metrics: { listen: "127.0.0.1:${await freePort()}" }`] });
    const text = await r.runtime.metrics.render();
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });
});

describe('the start-up line names the log actually read', () => {
  it('the live log for run; the replayed file when the runtime is fed another one (replay)', async () => {
    const r = await rig();
    expect(r.sink.text).toContain(`log=${r.logPath}`);
    await r.stop();

    const sink = new LineSink();
    const log = createLogger({ level: 'info', format: 'text', destination: sink, secrets: () => [PASSWORD], journal: false });
    const config = parseConfig(rigConfig({ dir: r.dir, emu: r.emu }), '(test config)');
    const replayed = `${r.dir}/fail2ban.log.1`;
    const rt = await startRuntime({
      config,
      log,
      env: { XG_PASSWORD: PASSWORD },
      onSecret: () => undefined,
      version: 'test',
      follow: false,
      input: replayed,
    });
    await rt.stop();
    expect(sink.text).toMatch(/sidecar started/);
    expect(sink.text).toContain(`log=${replayed}`);
    expect(sink.text).not.toMatch(new RegExp(`log=${r.logPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s|$)`, 'm'));
  });
});

describe('a stop line written in time but read late', () => {
  it("the jail's stop-Unbans stay held until the log is read past their window: suspended, still blocked", async () => {
    const r = await rig();
    const ip = '198.51.100.30';
    await r.append(f2bLine('Ban', 'sshd', ip));
    await waitFor('the ban on the firewall', () => hasMember(r, ip));
    await r.append(f2bLine('Unban', 'sshd', ip));
    const held = () => [...r.runtime.sidecar.model.held.values()].some((s) => s.has(ip));
    await waitFor('the stop-Unban held', held);
    // fail2ban writes "Jail 'sshd' stopped" within the window (200 ms), but this process is busy
    // for longer than the window (a loaded host): when it looks again, the hold's timer is due
    // before the line has been read. Before the read barrier this lifted the ban.
    const stop = `${f2bStamp(new Date())} fail2ban.jail           [4242]: INFO    Jail 'sshd' stopped\n`;
    appendFileSync(r.logPath, stop);
    const busyUntil = Date.now() + 600;
    while (Date.now() < busyUntil) {
      // a synchronous stall, as a long GC pause or a CPU-starved process would be
    }
    await waitFor('the hold resolved', () => !held());
    await new Promise((res) => setTimeout(res, 400));
    await r.runtime.sidecar.idle();
    expect(r.runtime.sidecar.model.waitingCount).toBe(1); // suspended, waiting for the jail's restore
    expect(r.blocked()).toContain(ip);
    expect(r.sink.text).not.toContain('unban confirmed');
  });
});
