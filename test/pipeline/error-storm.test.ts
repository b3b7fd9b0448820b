// Issue 11 items 2 and 3 in virtual time: error storms and refused addresses must not stall the
// reconciler. A 1,000-ban burst against a port that fails 30 % of its requests (half before the
// write, half after it was committed) converges within a few times the fault-free time.
import { describe, expect, it } from 'vitest';
import { harness, type Harness, type HarnessOptions } from './harness.js';
import { ban, unban } from './events.js';
import { faulty, type FaultyPort } from './faulty-port.js';
import { DEFAULT_RETRY } from '../../src/pipeline/backoff.js';

const N = 1000;
const addr = (i: number): string => `198.51.${100 + Math.floor(i / 250)}.${(i % 250) + 1}`;

interface Run {
  h: Harness;
  port?: FaultyPort;
}

function storm(failShare: number, seed = 7, extra: Partial<HarnessOptions> = {}): Run {
  const run: Run = {} as Run;
  run.h = harness({
    retry: DEFAULT_RETRY,
    random: () => 0.5,
    ...extra,
    wrapPort: (_n, p) =>
      (run.port = faulty(p, { before: failShare / 2, after: failShare / 2, latencyMs: 100, seed, scheduler: () => run.h.clock.scheduler })),
  });
  return run;
}

/** Virtual ms until the firewall holds exactly `want` and nothing is pending (checked every 100 ms). */
async function convergeTime(h: Harness, want: readonly string[], limitMs: number): Promise<number> {
  const start = h.clock.now;
  const sorted = [...want].sort();
  while (h.clock.now - start <= limitMs) {
    const st = h.sidecar.status();
    const members = h.fw.memberAddresses('f2b-v4');
    if (
      st.groups.every((g) => g.pendingAdds === 0 && g.pendingRemoves === 0) &&
      members.length === sorted.length &&
      members.join() === sorted.join()
    ) {
      return h.clock.now - start;
    }
    await h.clock.advance(100);
  }
  throw new Error(`not converged within ${limitMs} ms: ${h.fw.memberAddresses('f2b-v4').length} of ${want.length} on the firewall`);
}

async function burst(run: Run): Promise<number> {
  const { h } = run;
  await h.clock.advance(0);
  const want = Array.from({ length: N }, (_, i) => addr(i));
  for (const a of want) h.sidecar.push({ event: ban('sshd', a) });
  return convergeTime(h, want, 30 * 60_000);
}

describe('error storms (issue 11 item 2)', () => {
  it('a 1,000-ban burst under 30 % mixed failures converges within a few times the fault-free time', async () => {
    const clean = await burst(storm(0));
    const r = storm(0.3);
    const stormy = await burst(r);
    const fs = r.port!.stats;
    // Injected faults really happened, on both sides of the write.
    expect(fs.failedBefore).toBeGreaterThan(3);
    expect(fs.lostAfter).toBeGreaterThan(3);
    // Before the fix the back-off climbed to 300 s although passes landed batches: minutes, not seconds.
    expect(stormy).toBeLessThanOrEqual(Math.max(5 * clean, 30_000));
    console.info(
      `1,000 bans: ${clean} ms virtual with 0 % failures, ${stormy} ms with 30 % (${fs.requests} requests, ${fs.failedBefore} failed before, ${fs.lostAfter} lost after the write)`,
    );
  }, 60_000);

  it('holds over several seeds, and nothing extra reaches the firewall', async () => {
    for (const seed of [1, 2, 3]) {
      const r = storm(0.3, seed);
      const t = await burst(r);
      expect(t).toBeLessThanOrEqual(60_000);
      expect(r.h.fw.memberAddresses('f2b-v6')).toEqual([]);
    }
  }, 60_000);

  it('unbans under the storm are lifted too (removals get the same treatment)', async () => {
    const r = storm(0.3, 11);
    await burst(r);
    for (let i = 0; i < 500; i++) r.h.sidecar.push({ event: unban('sshd', addr(i)) });
    const t = await convergeTime(
      r.h,
      Array.from({ length: 500 }, (_, i) => addr(500 + i)),
      10 * 60_000,
    );
    expect(t).toBeLessThanOrEqual(30_000);
  }, 60_000);
});

describe('one refused address (issue 11 item 3)', () => {
  const RETRY = { ...DEFAULT_RETRY, probeMaxDelayMs: 5000 };

  it('is set aside (found by halving the batch), reported once, and no later ban waits for it', async () => {
    // Resync daily here: a resync tries set-aside addresses again too (next test).
    const h = harness({ retry: RETRY, batch: { maxSize: 50 }, resyncIntervalMs: 86_400_000 });
    // An admin's own IP host already holds the address: the XG answers 503 for it, for good.
    h.fw.addForeignHost('admin-host', addr(17), 'IPv4');
    await h.clock.advance(0);
    const first = Array.from({ length: 100 }, (_, i) => addr(i));
    for (const a of first) h.sidecar.push({ event: ban('sshd', a) });
    const t = await convergeTime(
      h,
      first.filter((a) => a !== addr(17)),
      60_000,
    ).catch(() => -1);
    // The refused one is the only one pending; everything else landed in one window.
    expect(h.fw.memberAddresses('f2b-v4')).toHaveLength(99);
    expect(t).toBe(-1); // convergeTime wants pendingAdds 0: the set-aside address still counts as pending
    const g = h.sidecar.status().groups.find((x) => x.group === 'f2b-v4')!;
    expect(g).toMatchObject({ pendingAdds: 1, setAside: 1 });
    const refusals = h.log.at('error').filter((e) => e.obj.address === addr(17));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]!.obj).toMatchObject({ op: 'add', code: 'XG_FOREIGN_HOLDER' });
    expect(h.sidecar.status().firewalls[0]).toMatchObject({ state: 'ok', reachable: true });

    // Later bans go out within the batch window, not after a maximum retry delay.
    const t0 = h.clock.now;
    h.sidecar.push({ event: ban('sshd', addr(500)) });
    while (!h.fw.memberAddresses('f2b-v4').includes(addr(500)) && h.clock.now - t0 < 60_000) await h.clock.advance(100);
    expect(h.clock.now - t0).toBeLessThanOrEqual(2000);
    // The refused address is not tried with every pass.
    const tries = (): number =>
      h.writes().filter((w) => w.startsWith('fw1 add f2b-v4') && w.split(' ')[3]!.split(',').includes(addr(17))).length;
    const before = tries();
    await h.clock.advance(30 * 60_000);
    expect(tries()).toBe(before);
    // Retried rarely: after an hour. The admin deleted their host meanwhile: it lands.
    h.fw.hosts.delete('admin-host');
    await h.clock.advance(31 * 60_000);
    expect(tries()).toBe(before + 1);
    expect(h.fw.memberAddresses('f2b-v4')).toContain(addr(17));
    expect(h.sidecar.status().groups.find((x) => x.group === 'f2b-v4')!.setAside).toBeUndefined();
  });

  it('a resync tries set-aside addresses again at once', async () => {
    const h = harness({ retry: RETRY, resyncIntervalMs: 600_000 });
    h.fw.addForeignHost('admin-host', addr(3), 'IPv4');
    await h.clock.advance(0);
    for (let i = 0; i < 10; i++) h.sidecar.push({ event: ban('sshd', addr(i)) });
    await h.clock.advance(5000);
    expect(h.fw.memberAddresses('f2b-v4')).toHaveLength(9);
    h.fw.hosts.delete('admin-host');
    await h.clock.advanceTo(600_000 + 1000);
    expect(h.fw.memberAddresses('f2b-v4')).toHaveLength(10);
  });

  it('the API switched off for 20 s is noticed within seconds of coming back', async () => {
    const h = harness({ retry: RETRY });
    await h.clock.advance(0);
    h.sidecar.push({ event: ban('sshd', addr(1)) });
    await h.clock.advance(2000);
    h.fw.failWith = Object.assign(new Error('You need to enable the API Configuration.'), {
      retryable: false,
      code: 'XG_API_DISABLED',
      xgStatus: 532,
    });
    for (let i = 2; i < 20; i++) h.sidecar.push({ event: ban('sshd', addr(i)) });
    await h.clock.advance(20_000);
    expect(h.sidecar.status().firewalls[0]).toMatchObject({ state: 'api-access-denied', reachable: true });
    const back = h.clock.now;
    h.fw.failWith = undefined;
    while (h.fw.memberAddresses('f2b-v4').length < 19 && h.clock.now - back < 600_000) await h.clock.advance(100);
    expect(h.clock.now - back).toBeLessThanOrEqual(5000);
    expect(h.sidecar.status().firewalls[0]).toMatchObject({ state: 'ok' });
  });

  it('an owned host edited by hand (holds another address) is set aside; the rest of its batch lands', async () => {
    const h = harness({ retry: RETRY });
    // Our name for addr(5), but an admin changed its address.
    h.fw.addForeignHost(`f2b_${addr(5)}`, '192.0.2.99', 'IPv4');
    await h.clock.advance(0);
    for (let i = 0; i < 8; i++) h.sidecar.push({ event: ban('sshd', addr(i)) });
    await h.clock.advance(5000);
    const on = h.fw.memberAddresses('f2b-v4');
    expect(on).toHaveLength(7);
    expect(on).not.toContain(addr(5));
    expect(h.sidecar.status().groups.find((x) => x.group === 'f2b-v4')).toMatchObject({ setAside: 1, pendingAdds: 1 });
  });
});
