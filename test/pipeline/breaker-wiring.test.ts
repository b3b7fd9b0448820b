// Issue 11 item 6 through the sidecar: removals no Unban asked for (orphans) pass the breaker;
// Unban removals never do, however many.
import { describe, expect, it } from 'vitest';
import { harness } from './harness.js';
import { ban, unban } from './events.js';
import { MemoryFirewall } from '../../src/xg/memory.js';
import { RemovalBreaker } from '../../src/pipeline/breaker.js';

const addr = (i: number): string => `198.51.${100 + Math.floor(i / 250)}.${(i % 250) + 1}`;

/** A firewall already holding `n` owned hosts (a previous run's work). */
async function firewallWith(n: number): Promise<Map<string, MemoryFirewall>> {
  const fw = new MemoryFirewall();
  fw.addGroup('f2b-v4', 'IPv4');
  await fw.port('f2b_').addToGroup(
    { name: 'f2b-v4', family: 'IPv4' },
    Array.from({ length: n }, (_, i) => addr(i)),
  );
  return new Map([['fw1', fw]]);
}

describe('removal breaker, wired (issue 11 item 6)', () => {
  it('2,000 bans expiring together are lifted at once (Unban lines are never held)', async () => {
    const breaker = new RemovalBreaker();
    const h = harness({ breaker, batch: { maxSize: 500 } });
    for (let i = 0; i < 2000; i++) h.sidecar.push({ event: ban('sshd', addr(i)) });
    await h.clock.advance(5000);
    expect(h.fw.memberAddresses('f2b-v4')).toHaveLength(2000);
    for (let i = 0; i < 2000; i++) h.sidecar.push({ event: unban('sshd', addr(i)) });
    await h.clock.advance(5000);
    expect(h.fw.memberAddresses('f2b-v4')).toEqual([]);
    expect(breaker.holds()).toEqual([]);
  });

  it('orphans at the threshold go (20 of 100), above it are held (21 of 100) with status, log and token', async () => {
    for (const [orphans, held] of [
      [20, false],
      [21, true],
    ] as const) {
      const breaker = new RemovalBreaker();
      // As at a start: removals wait until the log is read back.
      const h = harness({ breaker, fws: await firewallWith(100), holdRemovals: true });
      // The desired state holds all but `orphans` of them (a jail mapping edited, a replaced state).
      for (let i = orphans; i < 100; i++) h.sidecar.push({ event: ban('sshd', addr(i)) });
      h.sidecar.releaseRemovals();
      await h.clock.advance(10_000);
      const on = h.fw.memberAddresses('f2b-v4');
      const g = h.sidecar.status().groups.find((x) => x.group === 'f2b-v4')!;
      if (held) {
        expect(on).toHaveLength(100);
        expect(g).toMatchObject({ pendingRemoves: 21, removalsHeld: 21 });
        expect(breaker.holds()).toMatchObject([{ group: 'fw1/f2b-v4', count: 21 }]);
        const warn = h.log.at('warn').filter((e) => e.msg.startsWith('removals held'));
        expect(warn).toHaveLength(1);
        expect(warn[0]!.msg).toContain(breaker.holds()[0]!.token);
      } else {
        expect(on).toHaveLength(80);
        expect(breaker.holds()).toEqual([]);
      }
    }
  });

  it('held orphans go within seconds of the release; Unbans pass meanwhile; a config fix ends the hold', async () => {
    const breaker = new RemovalBreaker();
    const h = harness({ breaker, fws: await firewallWith(100) });
    for (let i = 50; i < 100; i++) h.sidecar.push({ event: ban('sshd', addr(i)) });
    await h.clock.advance(10_000);
    expect(h.fw.memberAddresses('f2b-v4')).toHaveLength(100);
    // An Unban line during the hold is fail2ban's word: it goes through.
    h.sidecar.push({ event: unban('sshd', addr(99)) });
    await h.clock.advance(30_000);
    expect(h.fw.memberAddresses('f2b-v4')).not.toContain(addr(99));
    expect(h.fw.memberAddresses('f2b-v4')).toHaveLength(99);

    const [hold] = breaker.holds();
    expect(breaker.release(hold!.token)).toMatchObject({ ok: true, released: 50 });
    const t0 = h.clock.now;
    while (h.fw.memberAddresses('f2b-v4').length > 49 && h.clock.now - t0 < 60_000) await h.clock.advance(500);
    expect(h.clock.now - t0).toBeLessThanOrEqual(10_000);
    expect(h.fw.memberAddresses('f2b-v4')).toEqual(Array.from({ length: 49 }, (_, i) => addr(50 + i)).sort());
    expect(h.sidecar.status().groups.find((x) => x.group === 'f2b-v4')!.removalsHeld).toBeUndefined();
  });

  it('a change that makes the removals unnecessary ends the hold by itself', async () => {
    const breaker = new RemovalBreaker();
    const h = harness({ breaker, fws: await firewallWith(100) });
    for (let i = 50; i < 100; i++) h.sidecar.push({ event: ban('sshd', addr(i)) });
    await h.clock.advance(10_000);
    expect(breaker.holds()).toHaveLength(1);
    // The bans come back (the log is read, the mapping fixed): nothing left to remove.
    for (let i = 0; i < 50; i++) h.sidecar.push({ event: ban('sshd', addr(i)) });
    await h.clock.advance(10_000);
    expect(breaker.holds()).toEqual([]);
    expect(h.fw.memberAddresses('f2b-v4')).toHaveLength(100);
  });
});
