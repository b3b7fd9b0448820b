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
    wrapPort: (_n, p) => (run.port = faulty(p, { before: failShare / 2, after: failShare / 2, latencyMs: 100, seed, scheduler: () => run.h.clock.scheduler })),
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
    if (st.groups.every((g) => g.pendingAdds === 0 && g.pendingRemoves === 0) && members.length === sorted.length && members.join() === sorted.join()) {
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
    console.info(`1,000 bans: ${clean} ms virtual with 0 % failures, ${stormy} ms with 30 % (${fs.requests} requests, ${fs.failedBefore} failed before, ${fs.lostAfter} lost after the write)`);
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
    const t = await convergeTime(r.h, Array.from({ length: 500 }, (_, i) => addr(500 + i)), 10 * 60_000);
    expect(t).toBeLessThanOrEqual(30_000);
  }, 60_000);
});
