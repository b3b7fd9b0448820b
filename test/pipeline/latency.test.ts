import { describe, expect, it } from 'vitest';
import { harness, type Harness, type HarnessOptions } from './harness.js';
import { ban, ev, restore, unban } from './events.js';
import type { F2bEvent } from '../../src/parser/types.js';
import type { FirewallPort } from '../../src/xg/port.js';
import { BanLatency, DEFAULT_LATENCY_TTL_MS, localLogTime } from '../../src/pipeline/latency.js';
import type { AppliedNotice } from '../../src/pipeline/sidecar.js';
import { XgTransportError } from '../../src/xg/errors.js';

/** The process starts at this (virtual) instant; log time stamps are written relative to it. */
const T0 = Date.UTC(2026, 10, 25, 4, 39, 50);

/** `ms` as fail2ban's isoTime: local wall-clock time, no offset. */
function localIso(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function stamped(e: F2bEvent, ms: number): F2bEvent {
  return { ...e, isoTime: localIso(ms) };
}

interface Rig {
  h: Harness;
  notices: AppliedNotice[];
  /** Firewall write latency (virtual ms), and writes still to fail. */
  fault: { writeMs: number; failWrites: number };
}

async function rig(o: HarnessOptions = {}): Promise<Rig> {
  const notices: AppliedNotice[] = [];
  const fault = { writeMs: 0, failWrites: 0 };
  const ref: { h?: Harness } = {};
  // The firewall takes `writeMs` of virtual time to acknowledge a write.
  const slow = (write: () => Promise<void>): Promise<void> => {
    if (fault.failWrites > 0) {
      fault.failWrites--;
      return Promise.reject(new XgTransportError('connection reset'));
    }
    return new Promise((resolve, reject) => {
      ref.h!.clock.scheduler.schedule(() => void write().then(resolve, reject), fault.writeMs);
    });
  };
  const wrapPort = (_n: string, p: FirewallPort): FirewallPort => ({
    ...p,
    addToGroup: (g, a) => slow(() => p.addToGroup(g, a)),
    removeFromGroup: (g, a) => slow(() => p.removeFromGroup(g, a)),
  });
  const h = harness({ startAt: T0, onApplied: (n) => notices.push(n), wrapPort, ...o });
  ref.h = h;
  await h.clock.advance(0);
  return { h, notices, fault };
}

const adds = (r: Rig) => r.notices.filter((n) => n.op === 'add');

describe('ban-to-block latency (sidecar)', () => {
  it('measures from the Ban line time stamp to the firewall acknowledgement', async () => {
    const r = await rig();
    r.fault.writeMs = 3000;
    // Written at T0+100, read 400 ms later (tail lag); the 1 s window opens at the read.
    await r.h.clock.advanceTo(T0 + 500);
    r.h.sidecar.push({ event: stamped(ban('sshd', '192.0.2.1'), T0 + 100) });
    await r.h.clock.advanceTo(T0 + 1500);
    expect(adds(r)).toEqual([]);
    await r.h.clock.advanceTo(T0 + 4500);
    expect(adds(r)).toEqual([
      {
        key: 'fw1/f2b-v4',
        firewall: 'fw1',
        group: 'f2b-v4',
        family: 'IPv4',
        op: 'add',
        addresses: ['192.0.2.1'],
        at: T0 + 4500,
        banToBlockSeconds: [4.4],
      },
    ]);
  });

  it('one observation per group: an IPv6 ban lands in the IPv6 group, each firewall measured on its own', async () => {
    const groups = [
      { firewall: 'fw1', name: 'a4', ipv6Name: 'a6', jails: ['*'] },
      { firewall: 'fw2', name: 'b4', ipv6Name: 'b6', jails: ['*'] },
    ];
    const r = await rig({ groups, firewalls: ['fw1', 'fw2'] });
    r.h.sidecar.push({ event: stamped(ban('sshd', '2001:db8::7'), T0) });
    await r.h.clock.advance(1000);
    expect(adds(r).map((n) => [n.key, n.addresses, n.banToBlockSeconds])).toEqual([
      ['fw1/a6', ['2001:db8::7'], [1]],
      ['fw2/b6', ['2001:db8::7'], [1]],
    ]);
  });

  it('only live Ban lines count: not Restore Ban, already banned, lines older than the process, or lines without time', async () => {
    const r = await rig();
    r.h.sidecar.push({ event: stamped(restore('sshd', '192.0.2.1'), T0) });
    r.h.sidecar.push({ event: stamped(ev('already-banned', 'sshd', '192.0.2.2'), T0) });
    r.h.sidecar.push({ event: stamped(ban('sshd', '192.0.2.3'), T0 - 1) });
    r.h.sidecar.push({ event: ban('sshd', '192.0.2.4') });
    r.h.sidecar.push({ event: stamped(ban('sshd', '192.0.2.5'), T0) });
    await r.h.clock.advance(1000);
    expect(adds(r)).toHaveLength(1);
    expect(adds(r)[0]).toMatchObject({
      addresses: ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5'],
      banToBlockSeconds: [1],
    });
  });

  it('bans loaded from the state file are not measured', async () => {
    const first = await rig();
    first.h.sidecar.push({ event: stamped(ban('sshd', '192.0.2.1'), T0) });
    await first.h.sidecar.stop();
    const state = first.h.sink.last!;
    // A new process with the saved state facing an empty firewall: the start-up repair writes it.
    const r = await rig({ initial: state, startAt: T0 + 60_000 });
    await r.h.clock.advance(10);
    expect(adds(r).map((n) => [n.addresses, n.banToBlockSeconds])).toEqual([[['192.0.2.1'], []]]);
  });

  it('a ban lifted before it was written is forgotten; the next Ban starts a new measurement', async () => {
    const r = await rig({ suspend: { stopUnbanWindowMs: 100 } });
    r.h.sidecar.push({ event: stamped(ban('sshd', '192.0.2.1'), T0) });
    await r.h.clock.advance(200);
    r.h.sidecar.push({ event: stamped(unban('sshd', '192.0.2.1'), T0 + 200) });
    await r.h.clock.advance(5000);
    expect(r.notices).toEqual([]);
    r.h.sidecar.push({ event: stamped(ban('sshd', '192.0.2.1'), T0 + 5200) });
    await r.h.clock.advance(1000);
    expect(adds(r).map((n) => n.banToBlockSeconds)).toEqual([[1]]);
  });

  it('failed writes and back-off are part of the latency', async () => {
    const r = await rig({ retry: { initialDelayMs: 2000, jitter: 0 } });
    r.fault.failWrites = 1;
    r.h.sidecar.push({ event: stamped(ban('sshd', '192.0.2.9'), T0) });
    await r.h.clock.advance(1000);
    expect(adds(r)).toEqual([]);
    // Retry after 2 s: the group is read again, then written.
    await r.h.clock.advance(2000);
    expect(adds(r).map((n) => n.banToBlockSeconds)).toEqual([[3]]);
  });

  it('removals are notified without latency', async () => {
    const r = await rig({ suspend: { stopUnbanWindowMs: 100 } });
    r.h.sidecar.push({ event: stamped(ban('sshd', '192.0.2.1'), T0) });
    await r.h.clock.advance(1000);
    r.h.sidecar.push({ event: stamped(unban('sshd', '192.0.2.1'), T0 + 1000) });
    await r.h.clock.advance(2000);
    expect(r.notices.map((n) => [n.op, n.addresses, n.banToBlockSeconds])).toEqual([
      ['add', ['192.0.2.1'], [1]],
      ['remove', ['192.0.2.1'], []],
    ]);
  });

  it('a time stamp ahead of the host clock (zone mismatch) is not measured and warned about once', async () => {
    const r = await rig();
    const hour = 3_600_000;
    r.h.sidecar.push({ event: stamped(ban('sshd', '192.0.2.1'), T0 + hour) });
    r.h.sidecar.push({ event: stamped(ban('sshd', '192.0.2.2'), T0 + hour) });
    await r.h.clock.advance(1000);
    expect(adds(r).map((n) => n.banToBlockSeconds)).toEqual([[]]);
    expect(r.h.log.at('warn').filter((e) => /time zones/.test(e.msg))).toHaveLength(1);
  });

  it('a throwing hook is logged and does not disturb the firewall sync', async () => {
    const h = harness({
      startAt: T0,
      onApplied: () => {
        throw new Error('boom');
      },
    });
    await h.clock.advance(0);
    h.sidecar.push({ event: stamped(ban('sshd', '192.0.2.1'), T0) });
    await h.clock.advance(1000);
    expect(h.fw.memberAddresses('f2b-v4')).toEqual(['192.0.2.1']);
    expect(h.sidecar.status().firewalls[0]?.consecutiveFailures).toBe(0);
    expect(h.log.at('warn').map((e) => e.msg)).toContain('onApplied hook failed');
  });
});

describe('BanLatency', () => {
  it('keeps the first Ban time per group and address, and answers once', () => {
    const l = new BanLatency(1000);
    l.banned('k', 'a', 2000);
    l.banned('k', 'a', 2500);
    expect(l.applied('other', ['a'], 4000)).toEqual([]);
    expect(l.applied('k', ['a', 'b'], 4000)).toEqual([2]);
    expect(l.applied('k', ['a'], 5000)).toEqual([]);
    expect(l.size).toBe(0);
  });

  it('forgets cancelled bans and bans older than the TTL', () => {
    const l = new BanLatency(0, 10_000);
    l.banned('k', 'a', 1000);
    l.banned('k', 'b', 5000);
    l.cancelled('k', 'a');
    l.prune(15_001);
    expect(l.size).toBe(0);
    l.banned('k', 'c', 20_000);
    l.prune(30_000);
    expect(l.size).toBe(1);
    expect(DEFAULT_LATENCY_TTL_MS).toBeGreaterThanOrEqual(3_600_000);
  });

  it('verdicts', () => {
    const l = new BanLatency(10_000);
    expect(l.verdict(ban('j', '192.0.2.1'), 10_000, 10_000)).toBe('live');
    expect(l.verdict(ban('j', '192.0.2.1'), 9_999, 10_000)).toBe('before-start');
    expect(l.verdict(ban('j', '192.0.2.1'), undefined, 10_000)).toBe('no-time');
    expect(l.verdict(ban('j', '192.0.2.1'), 20_000, 10_000)).toBe('future');
    expect(l.verdict(restore('j', '192.0.2.1'), 10_000, 10_000)).toBe('not-a-ban');
  });
});

describe('localLogTime', () => {
  it("reads fail2ban's offset-less time stamp as the host's local time", () => {
    expect(localLogTime({ isoTime: '2026-11-25T04:39:52.876' })).toBe(new Date(2026, 10, 25, 4, 39, 52, 876).getTime());
    expect(localLogTime({ isoTime: '2026-11-25T04:39:52' })).toBe(new Date(2026, 10, 25, 4, 39, 52).getTime());
    expect(localLogTime({ isoTime: localIso(T0 + 123) })).toBe(T0 + 123);
  });

  it('rejects missing, zoned or malformed stamps', () => {
    expect(localLogTime({})).toBeUndefined();
    expect(localLogTime({ isoTime: '2026-11-25T04:39:52Z' })).toBeUndefined();
    expect(localLogTime({ isoTime: '2026-13-45T04:39:52' })).toBeUndefined();
  });
});
