import { describe, expect, it } from 'vitest';
import { harness, cp, type Harness } from './harness.js';
import { ban, restore, unban } from './events.js';
import type { F2bEvent } from '../../src/parser/types.js';
import type { MemoryFirewall } from '../../src/xg/memory.js';

/** An admin takes an address out of a group in the web console (both sides of the membership). */
function handRemove(fw: MemoryFirewall, group: string, address: string): void {
  for (const h of fw.hosts.values()) {
    if (h.address !== address) continue;
    h.groups.delete(group);
    fw.groups.get(group)?.members.delete(h.name);
  }
}

async function isIdle(h: Harness): Promise<boolean> {
  let done = false;
  void h.sidecar.idle().then(() => (done = true));
  await h.clock.settle();
  return done;
}

/** Start a harness and let the start-up repair run. */
async function started(o: Parameters<typeof harness>[0] = {}): Promise<Harness> {
  const h = harness(o);
  await h.clock.advance(0);
  return h;
}

function push(h: Harness, event: F2bEvent, offset?: number): void {
  h.sidecar.push(offset === undefined ? { event } : { event, checkpoint: cp(offset) });
}

describe('start-up', () => {
  it('creates every group (v4 and v6), reads it back and is idle', async () => {
    const h = await started();
    expect(h.journal).toEqual(['fw1 ensure f2b-v4', 'fw1 read f2b-v4', 'fw1 ensure f2b-v6', 'fw1 read f2b-v6']);
    expect([...h.fw.groups.values()].map((g) => `${g.name}:${g.family}`)).toEqual(['f2b-v4:IPv4', 'f2b-v6:IPv6']);
    expect(await isIdle(h)).toBe(true);
    const st = h.sidecar.status();
    expect(st.groups.map((g) => [g.group, g.synced, g.desired, g.applied])).toEqual([
      ['f2b-v4', true, 0, 0],
      ['f2b-v6', true, 0, 0],
    ]);
    expect(st.firewalls[0]).toMatchObject({ firewall: 'fw1', reachable: true, consecutiveFailures: 0 });
  });
});

describe('batching and coalescing', () => {
  it('N bans within the window → one addToGroup with N addresses at the end of the window', async () => {
    const h = await started();
    const mark = h.journal.length;
    for (let i = 1; i <= 5; i++) {
      push(h, ban('sshd', `192.0.2.${i}`), i * 100);
      await h.clock.advance(100);
    }
    await h.clock.advanceTo(999);
    expect(h.writes(mark)).toEqual([]);
    expect(await isIdle(h)).toBe(false);
    await h.clock.advanceTo(1000);
    expect(h.timedWrites(mark)).toEqual(['1000 fw1 add f2b-v4 192.0.2.1,192.0.2.2,192.0.2.3,192.0.2.4,192.0.2.5']);
    expect(h.fw.memberAddresses('f2b-v4')).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5']);
    expect(await isIdle(h)).toBe(true);
    const g = h.sidecar.status().groups[0]!;
    expect(g).toMatchObject({ desired: 5, applied: 5, pendingAdds: 0, pendingRemoves: 0 });
  });

  it('a difference of maxSize flushes at once, before the window ends', async () => {
    const h = await started({ batch: { windowMs: 1000, maxSize: 3 } });
    const mark = h.journal.length;
    push(h, ban('sshd', '192.0.2.1'));
    push(h, ban('sshd', '192.0.2.2'));
    push(h, ban('sshd', '2001:db8::3'));
    await h.clock.advance(0);
    expect(h.timedWrites(mark)).toEqual(['0 fw1 add f2b-v4 192.0.2.1,192.0.2.2', '0 fw1 add f2b-v6 2001:db8::3']);
    push(h, ban('sshd', '192.0.2.4'));
    await h.clock.advanceTo(999);
    expect(h.writes(mark)).toHaveLength(2);
    await h.clock.advanceTo(1000);
    expect(h.timedWrites(mark).at(-1)).toBe('1000 fw1 add f2b-v4 192.0.2.4');
  });

  it('maxSize is also the request size', async () => {
    const h = await started({ batch: { windowMs: 1000, maxSize: 2 } });
    const mark = h.journal.length;
    for (const a of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) push(h, ban('sshd', a));
    await h.clock.advance(1000);
    expect(h.writes(mark)).toEqual(['fw1 add f2b-v4 192.0.2.1,192.0.2.2', 'fw1 add f2b-v4 192.0.2.3']);
  });

  it('a ban lifted inside the window sends nothing, not even after the unban hold', async () => {
    const h = await started();
    const mark = h.journal.length;
    push(h, ban('sshd', '192.0.2.9'), 10);
    await h.clock.advance(300);
    push(h, unban('sshd', '192.0.2.9'), 20);
    await h.clock.advanceTo(30_000);
    expect(h.writes(mark)).toEqual([]);
    expect(h.fw.writes).toBe(2); // the two groups created at start-up
    expect(h.sidecar.model.size).toBe(0);
    expect(h.sink.last?.checkpoint?.offset).toBe(20);
  });

  it('a written ban that is lifted is removed after the hold and the next window', async () => {
    const h = await started();
    const mark = h.journal.length;
    push(h, ban('sshd', '192.0.2.9'));
    await h.clock.advanceTo(2000);
    push(h, unban('sshd', '192.0.2.9'));
    await h.clock.advanceTo(7999);
    expect(h.timedWrites(mark)).toEqual(['1000 fw1 add f2b-v4 192.0.2.9']);
    await h.clock.advanceTo(8000);
    expect(h.timedWrites(mark)).toEqual(['1000 fw1 add f2b-v4 192.0.2.9', '8000 fw1 remove f2b-v4 192.0.2.9']);
    expect(h.fw.hosts.size).toBe(0);
  });
});

describe('quiet period (batch.leading, the default)', () => {
  const leading = { batch: { leading: true } };

  it('a lone ban is written at once; bans right after it wait until a window after that write, then the next lone ban is at once again', async () => {
    const h = await started(leading);
    const mark = h.journal.length;
    push(h, ban('sshd', '192.0.2.1'), 10);
    await h.clock.advance(0);
    expect(h.timedWrites(mark)).toEqual(['0 fw1 add f2b-v4 192.0.2.1']);
    await h.clock.advanceTo(200);
    push(h, ban('sshd', '192.0.2.2'), 20);
    await h.clock.advanceTo(300);
    push(h, ban('sshd', '192.0.2.3'), 30);
    await h.clock.advanceTo(999);
    expect(h.writes(mark)).toHaveLength(1);
    await h.clock.advanceTo(1000);
    expect(h.timedWrites(mark).at(-1)).toBe('1000 fw1 add f2b-v4 192.0.2.2,192.0.2.3');
    await h.clock.advanceTo(5000);
    push(h, ban('sshd', '192.0.2.4'), 40);
    await h.clock.advance(0);
    expect(h.timedWrites(mark).at(-1)).toBe('5000 fw1 add f2b-v4 192.0.2.4');
    expect(h.sink.last?.checkpoint?.offset).toBe(40);
  });

  it('lines without a change (Found lines) just before a ban do not delay it', async () => {
    const h = await started(leading);
    const mark = h.journal.length;
    for (let i = 1; i <= 5; i++) h.sidecar.push({ checkpoint: cp(i) });
    await h.clock.advanceTo(500);
    push(h, ban('sshd', '192.0.2.7'), 6);
    await h.clock.advance(0);
    expect(h.timedWrites(mark)).toEqual(['500 fw1 add f2b-v4 192.0.2.7']);
  });

  it('a fail2ban restart still costs no write: the stop-Unbans are held, the Restore Bans cancel them', async () => {
    const h = await started(leading);
    push(h, ban('sshd', '192.0.2.1'));
    push(h, ban('sshd', '192.0.2.2'));
    await h.clock.advanceTo(10_000);
    const mark = h.journal.length;
    const writes = h.fw.writes;
    push(h, unban('sshd', '192.0.2.1'));
    push(h, unban('sshd', '192.0.2.2'));
    push(h, restore('sshd', '192.0.2.1'));
    await h.clock.advanceTo(10_300);
    push(h, restore('sshd', '192.0.2.2'));
    await h.clock.advanceTo(60_000);
    expect(h.writes(mark)).toEqual([]);
    expect(h.fw.writes).toBe(writes);
    expect(h.fw.memberAddresses('f2b-v4')).toEqual(['192.0.2.1', '192.0.2.2']);
  });
});

describe('durability', () => {
  it('saves the snapshot with its checkpoint before any firewall write', async () => {
    const h = await started();
    const mark = h.journal.length;
    push(h, ban('sshd', '192.0.2.1'), 111);
    push(h, ban('sshd', '2001:db8::1'), 222);
    await h.clock.advance(1000);
    expect(h.journal.slice(mark)).toEqual(['save 222', 'fw1 add f2b-v4 192.0.2.1', 'fw1 add f2b-v6 2001:db8::1']);
    expect(h.sink.last?.model.entries).toEqual({
      '192.0.2.1': { sshd: { state: 'active', at: 0 } },
      '2001:db8::1': { sshd: { state: 'active', at: 0 } },
    });
    expect(h.sidecar.status().persist.checkpoint?.offset).toBe(222);
  });

  it('a failing save does not advance the checkpoint, is reported, retried, and does not stop the firewall', async () => {
    const h = await started({ retry: { initialDelayMs: 1000, maxDelayMs: 60_000, multiplier: 2, jitter: 0 } });
    push(h, ban('sshd', '192.0.2.1'), 50);
    await h.clock.advance(1000);
    h.sink.failWith = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    const mark = h.journal.length;
    push(h, ban('sshd', '192.0.2.2'), 100);
    await h.clock.advance(1000); // t=2000: flush, save fails
    expect(h.journal.slice(mark)).toEqual(['save 100 FAILED', 'fw1 add f2b-v4 192.0.2.2']);
    let st = h.sidecar.status().persist;
    expect(st.checkpoint?.offset).toBe(50);
    expect(st.lastError).toMatchObject({ code: 'ENOSPC' });
    expect(h.log.at('error').map((e) => e.msg)).toEqual(['saving the state failed: the checkpoint does not advance until a save succeeds']);
    await h.clock.advance(1000); // t=3000: retry, fails again (2nd attempt, next in 2000)
    expect(h.journal.slice(mark).filter((l) => l.startsWith('save'))).toEqual(['save 100 FAILED', 'save 100 FAILED']);
    h.sink.failWith = undefined;
    await h.clock.advanceTo(4999);
    expect(h.sink.last?.checkpoint?.offset).toBe(50);
    await h.clock.advanceTo(5000);
    st = h.sidecar.status().persist;
    expect(st.checkpoint?.offset).toBe(100);
    expect(st.lastError).toBeUndefined();
    expect(Object.keys(h.sink.last!.model.entries).sort()).toEqual(['192.0.2.1', '192.0.2.2']);
  });

  it('after kill -9 a new process resumes from the saved state: no writes when nothing changed, held unbans still decided', async () => {
    const h1 = await started();
    push(h1, ban('sshd', '192.0.2.1'), 10);
    push(h1, ban('sshd', '192.0.2.2'), 20);
    await h1.clock.advance(1000);
    push(h1, unban('sshd', '192.0.2.2'), 30);
    await h1.clock.advance(1000);
    const saved = h1.sink.last!;
    expect(saved.model.entries['192.0.2.2']).toEqual({ sshd: { state: 'unbanning', at: 1000 } });
    // kill -9: h1 simply vanishes. A new process at a later time faces the same firewall.
    const h2 = harness({ fws: h1.fws, initial: saved, startAt: 3_600_000 });
    await h2.clock.advance(0);
    expect(h2.writes()).toEqual([]);
    // The replayed log shows the jail stopping: the held unban becomes a suspension, not a removal.
    h2.sidecar.push({ event: { type: 'jail-stop', jail: 'sshd', raw: '' }, checkpoint: cp(40) });
    await h2.clock.advance(10_000);
    expect(h2.writes()).toEqual([]);
    expect(h2.fw.memberAddresses('f2b-v4')).toEqual(['192.0.2.1', '192.0.2.2']);
  });

  it('start-up repair: the firewall is brought to the loaded state', async () => {
    const h1 = await started();
    push(h1, ban('sshd', '192.0.2.1'), 10);
    await h1.clock.advance(1000);
    const saved = h1.sink.last!;
    // Meanwhile somebody emptied the group and another sidecar-owned host lingers.
    handRemove(h1.fws.get('fw1')!, 'f2b-v4', '192.0.2.1');
    await h1.fws.get('fw1')!.port('f2b_').addToGroup({ name: 'f2b-v4', family: 'IPv4' }, ['198.51.100.1']);
    const h2 = harness({ fws: h1.fws, initial: saved });
    await h2.clock.advance(0);
    expect(h2.writes()).toEqual(['fw1 add f2b-v4 192.0.2.1', 'fw1 remove f2b-v4 198.51.100.1']);
    expect(h2.fw.memberAddresses('f2b-v4')).toEqual(['192.0.2.1']);
  });

  it('holdRemovals: an empty state removes nothing until the read-back is released, then only the undesired', async () => {
    const h1 = await started();
    const port = h1.fws.get('fw1')!.port('f2b_');
    await port.addToGroup({ name: 'f2b-v4', family: 'IPv4' }, ['192.0.2.1', '192.0.2.2', '198.51.100.1']);
    const h2 = harness({ fws: h1.fws, holdRemovals: true });
    await h2.clock.advance(0);
    // The read-back: the log still bans two of them, and one more.
    push(h2, ban('sshd', '192.0.2.1'), 10);
    push(h2, ban('sshd', '192.0.2.2'), 10);
    push(h2, ban('sshd', '192.0.2.3'), 10);
    await h2.clock.advance(5000);
    expect(h2.writes()).toEqual(['fw1 add f2b-v4 192.0.2.3']);
    expect(h2.fw.memberAddresses('f2b-v4')).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3', '198.51.100.1']);
    h2.sidecar.releaseRemovals();
    await h2.clock.advance(1000);
    expect(h2.writes()).toEqual(['fw1 add f2b-v4 192.0.2.3', 'fw1 remove f2b-v4 198.51.100.1']);
    expect(h2.fw.memberAddresses('f2b-v4')).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3']);
  });

  it('stop() saves a final snapshot with the latest checkpoint', async () => {
    const h = await started();
    h.sidecar.push({ checkpoint: cp(999) });
    await h.sidecar.stop();
    expect(h.sink.last?.checkpoint?.offset).toBe(999);
  });
});

describe('status, idle and logs', () => {
  it('status$ reports after each flush; idle() waits for the firewall', async () => {
    const h = await started();
    const seen: number[] = [];
    const sub = h.sidecar.status$.subscribe((s) => seen.push(s.groups[0]!.applied));
    push(h, ban('sshd', '192.0.2.1'), 1);
    let idle = false;
    void h.sidecar.idle().then(() => (idle = true));
    await h.clock.advanceTo(999);
    expect(idle).toBe(false);
    await h.clock.advanceTo(1000);
    expect(idle).toBe(true);
    expect(seen.at(-1)).toBe(1);
    sub.unsubscribe();
  });

  it('logs never-blocked and IPv6-without-group bans as warnings and counts them', async () => {
    const h = await started({
      groups: [{ firewall: 'fw1', name: 'v4only', jails: ['*'] }],
      neverBlock: (a) => a === '192.0.2.250',
    });
    push(h, ban('sshd', '192.0.2.250'));
    push(h, ban('sshd', '2001:db8::5'));
    await h.clock.advance(1000);
    expect(h.writes()).toEqual([]);
    expect(h.log.at('warn').map((e) => [e.msg, e.obj.address])).toEqual([
      ['ban ignored: address is in neverBlock', '192.0.2.250'],
      ['IPv6 ban skipped for groups without an ipv6Name', '2001:db8::5'],
    ]);
    expect(h.sidecar.status().counters).toMatchObject({ neverBlocked: 1, skippedIpv6: 1 });
  });

  it('logs each applied batch with its size and duration', async () => {
    const h = await started();
    push(h, ban('sshd', '192.0.2.1'));
    push(h, ban('sshd', '192.0.2.2'));
    await h.clock.advance(1000);
    expect(
      h.log
        .at('info')
        .filter((e) => e.msg === 'ban applied')
        .map((e) => e.obj),
    ).toEqual([{ firewall: 'fw1', group: 'f2b-v4', family: 'IPv4', count: 2, addresses: ['192.0.2.1', '192.0.2.2'], durationMs: 0 }]);
  });
});

describe('resync', () => {
  it('recreates a group deleted by hand, with its members', async () => {
    const h = await started({ resyncIntervalMs: 60_000 });
    push(h, ban('sshd', '192.0.2.1'));
    await h.clock.advance(1000);
    h.fw.groups.delete('f2b-v4');
    for (const host of h.fw.hosts.values()) host.groups.delete('f2b-v4');
    await h.clock.advanceTo(60_000);
    expect(h.fw.groups.get('f2b-v4')?.family).toBe('IPv4');
    expect(h.fw.memberAddresses('f2b-v4')).toEqual(['192.0.2.1']);
  });

  it('repairs hand edits at the next periodic resync and never touches foreign members', async () => {
    const h = await started({ resyncIntervalMs: 60_000 });
    push(h, ban('sshd', '192.0.2.1'));
    push(h, ban('sshd', '192.0.2.2'));
    await h.clock.advance(1000);
    handRemove(h.fw, 'f2b-v4', '192.0.2.1');
    h.fw.addForeignHost('admin-host', '203.0.113.250', 'IPv4', ['f2b-v4']);
    await h.clock.advanceTo(59_999);
    expect(h.fw.memberAddresses('f2b-v4')).toEqual(['192.0.2.2', '203.0.113.250']);
    await h.clock.advanceTo(60_000);
    expect(h.fw.memberAddresses('f2b-v4')).toEqual(['192.0.2.1', '192.0.2.2', '203.0.113.250']);
    expect(h.fw.hosts.has('admin-host')).toBe(true);
  });
});
