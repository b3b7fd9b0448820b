// Lists mode through the Reconciler, in virtual time, on the ListPort double (6 s per write, 1 s per read).
import { describe, expect, it } from 'vitest';
import { Reconciler, type AppliedChange } from '../../src/pipeline/reconciler.js';
import type { GroupTarget } from '../../src/pipeline/routing.js';
import { VirtualClock, recordingLogger } from './harness.js';
import { ListPort } from './list-port.js';
import { RemovalBreaker } from '../../src/pipeline/breaker.js';

const GROUP = 'f2b-v4';
const KEY = `fw1/${GROUP}`;
const TARGET: GroupTarget = { key: KEY, firewall: 'fw1', group: { name: GROUP, family: 'IPv4' } } as GroupTarget;
const RETRY = { initialDelayMs: 1000, maxDelayMs: 8000, multiplier: 2, jitter: 0 };

const addr = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const range = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => addr(from + i));

function setup(opts: { lists?: boolean; holdRemovals?: boolean; listSize?: number; retireLists?: boolean; breaker?: RemovalBreaker } = {}) {
  const clock = new VirtualClock();
  const port = new ListPort(clock.scheduler);
  port.groups.add(GROUP);
  port.watch = GROUP;
  const applied: AppliedChange[] = [];
  const r = new Reconciler({
    firewall: 'fw1',
    port,
    targets: [TARGET],
    maxBatch: 50,
    retry: RETRY,
    resyncIntervalMs: 3_600_000,
    holdRemovals: opts.holdRemovals ?? false,
    scheduler: clock.scheduler,
    random: () => 0.5,
    log: recordingLogger(),
    onApplied: (c) => applied.push(c),
    ...(opts.lists === false ? {} : { lists: { listSize: opts.listSize ?? 1000, hostPrefix: 'f2b_' } }),
    ...(opts.retireLists ? { retireLists: true } : {}),
    ...(opts.breaker ? { breaker: opts.breaker } : {}),
  });
  const ban = (addresses: readonly string[]): void => {
    r.updateDesired(KEY, new Map(addresses.map((a) => [a, 'desired'] as const)));
    r.kick();
  };
  const unban = (addresses: readonly string[], cls: 'absent' | 'held' = 'absent'): void => {
    r.updateDesired(KEY, new Map(addresses.map((a) => [a, cls] as const)));
    r.kick();
  };
  return { clock, port, r, applied, ban, unban };
}

const sorted = (s: Iterable<string>): string[] => [...s].sort();
const writes = (port: ListPort): number => port.requests.filter((q) => q.kind === 'write').length;

describe('lists mode', () => {
  it('start-up reads once; a lone ban after a quiet period is one write', async () => {
    const { clock, port, r, ban } = setup();
    r.start();
    await clock.advance(60_000);
    expect(port.count('readLists')).toBe(1);
    expect(writes(port)).toBe(0);
    ban(['192.0.2.1']);
    await clock.advance(6000);
    expect(writes(port)).toBe(1);
    expect([...port.lists.keys()]).toEqual(['f2b_f2b-v4.list1']);
    expect(sorted(port.blocked(GROUP))).toEqual(['192.0.2.1']);
    expect(r.converged).toBe(true);
  });

  it('10,000 bans: 10 lists, one write, converged 6 s after the burst; 10,000 unbans: one write, no read', async () => {
    const { clock, port, r, ban, unban, applied } = setup();
    r.start();
    await clock.advance(10_000);
    const all = range(1, 10_000);
    const t0 = clock.now;
    ban(all);
    await clock.advance(6000);
    expect(r.converged).toBe(true);
    expect(clock.now - t0).toBeLessThanOrEqual(60_000);
    expect(port.lists.size).toBe(10);
    expect(port.blocked(GROUP).size).toBe(10_000);
    expect(writes(port)).toBe(1);
    expect(applied.filter((c) => c.op === 'add').flatMap((c) => c.addresses)).toHaveLength(10_000);
    expect(r.status().groups[0]!.objects).toEqual({ mode: 'lists', lists: 10, hosts: 0, maxPerList: 1000, meanPerList: 1000 });

    const reads = port.requests.filter((q) => q.kind === 'read').length;
    unban(all);
    await clock.advance(6000);
    expect(r.converged).toBe(true);
    expect(port.blocked(GROUP).size).toBe(0);
    expect(port.lists.size).toBe(0);
    expect(writes(port)).toBe(2);
    // Unbans never read the group back.
    expect(port.requests.filter((q) => q.kind === 'read').length).toBe(reads);
  });

  it('unbans in many small passes cost no reads, and objects read do not grow with them', async () => {
    const { clock, port, r, ban, unban } = setup();
    r.start();
    ban(range(1, 3000));
    await clock.advance(20_000);
    const reads = port.requests.filter((q) => q.kind === 'read');
    for (let i = 0; i < 20; i++) {
      unban([addr(1 + i * 7)]);
      await clock.advance(6000);
    }
    expect(port.requests.filter((q) => q.kind === 'read')).toEqual(reads);
    expect(port.blocked(GROUP).size).toBe(2980);
    // A removal leaves room, it does not reshuffle: each unban rewrote one list.
    expect(
      port.requests
        .filter((q) => q.method === 'writeLists')
        .slice(-20)
        .every((q) => q.objects === 1),
    ).toBe(true);
  });

  it('an Unban read while a write is on the wire costs no further write', async () => {
    const { clock, port, r, ban, unban } = setup();
    r.start();
    await clock.advance(10_000);
    ban(['192.0.2.1']);
    await clock.advance(1000);
    ban(range(1, 5000));
    unban(range(1, 5000));
    await clock.advance(30_000);
    // The lone ban's write; the burst, already unbanned when the next pass planned, costs nothing.
    expect(writes(port)).toBe(1);
    expect(sorted(port.blocked(GROUP))).toEqual(['192.0.2.1']);
    expect(r.converged).toBe(true);
  });

  it('start-up repairs hand edits: foreign addresses dropped, over-cap list rewritten, stray owned list deleted', async () => {
    const { clock, port, r } = setup();
    port.lists.set('f2b_f2b-v4.list1', { addresses: [...range(1, 900), '203.0.113.9'], groups: new Set([GROUP]) });
    port.lists.set('f2b_f2b-v4.list2', { addresses: range(901, 1200), groups: new Set([GROUP]) });
    port.lists.set('f2b_f2b-v4.list3', { addresses: ['198.51.100.1'], groups: new Set() });
    port.lists.set('other.list1', { addresses: ['198.51.100.2'], groups: new Set([GROUP]) });
    const want = range(1, 2100);
    r.setDesired(KEY, want);
    r.start();
    await clock.advance(60_000);
    expect(r.converged).toBe(true);
    const owned = [...port.lists].filter(([n]) => n.startsWith('f2b_'));
    expect(owned.every(([, l]) => l.addresses.length <= 1000 && l.groups.has(GROUP))).toBe(true);
    expect(sorted(owned.flatMap(([, l]) => l.addresses))).toEqual(sorted(want));
    // Other people's objects are never touched.
    expect(port.lists.get('other.list1')).toEqual({ addresses: ['198.51.100.2'], groups: new Set([GROUP]) });
    // No desired address that was blocked was ever unblocked.
    const before = new Set(range(1, 1200));
    for (const s of port.samples) for (const a of before) expect(s.has(a)).toBe(true);
  });

  it('a failed step: re-read and plan again, nothing removed before the gains landed', async () => {
    const { clock, port, r, ban, unban } = setup({ listSize: 10 });
    r.start();
    ban(range(1, 100));
    await clock.advance(20_000);
    const readsBefore = port.count('readLists');
    // Unbans in every list → compaction moves addresses: gain and lose go as two requests.
    unban(range(1, 100).filter((_, i) => i % 10 >= 3));
    port.failAt = { call: 1, step: 0 };
    const keep = new Set(range(1, 100).filter((_, i) => i % 10 < 3));
    port.samples.length = 0;
    await clock.advance(60_000);
    expect(port.count('readLists')).toBe(readsBefore + 1);
    expect(r.converged).toBe(true);
    expect(sorted(port.blocked(GROUP))).toEqual(sorted(keep));
    for (const s of port.samples) for (const a of keep) expect(s.has(a)).toBe(true);
  });

  it('removals held at start: nothing standing is taken away until released', async () => {
    const { clock, port, r } = setup({ holdRemovals: true });
    port.lists.set('f2b_f2b-v4.list1', { addresses: ['192.0.2.1', '192.0.2.2'], groups: new Set([GROUP]) });
    r.setDesired(KEY, ['192.0.2.2', '192.0.2.3']);
    r.start();
    await clock.advance(30_000);
    expect(sorted(port.blocked(GROUP))).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3']);
    r.releaseRemovals();
    await clock.advance(30_000);
    expect(sorted(port.blocked(GROUP))).toEqual(['192.0.2.2', '192.0.2.3']);
  });

  it('orphans in lists pass the removal breaker as in hosts mode: 21 of 100 held until released, Unbans go meanwhile', async () => {
    const breaker = new RemovalBreaker();
    const { clock, port, r, unban } = setup({ breaker });
    // A previous run's lists; the desired state (a replaced one) lacks 21 of them, with no Unban behind.
    port.lists.set('f2b_f2b-v4.list1', { addresses: range(0, 100), groups: new Set([GROUP]) });
    r.setDesired(KEY, range(21, 79));
    r.start();
    await clock.advance(60_000);
    expect(port.blocked(GROUP).size).toBe(100);
    expect(r.status().groups[0]).toMatchObject({ removalsHeld: 21 });
    const [hold] = breaker.holds();
    expect(hold).toMatchObject({ group: KEY, count: 21 });
    // fail2ban's word passes during the hold.
    unban([addr(99)]);
    await clock.advance(30_000);
    expect(port.blocked(GROUP).has(addr(99))).toBe(false);
    expect(port.blocked(GROUP).size).toBe(99);
    expect(breaker.release(hold!.token)).toMatchObject({ ok: true, released: 21 });
    await clock.advance(30_000);
    expect(sorted(port.blocked(GROUP))).toEqual(sorted(range(21, 78)));
    expect(r.status().groups[0]?.removalsHeld ?? 0).toBe(0);
  });

  it('held unbans stay in their list, and are not added when absent', async () => {
    const { clock, port, r, ban, unban } = setup();
    r.start();
    ban(['192.0.2.1', '192.0.2.2']);
    await clock.advance(20_000);
    unban(['192.0.2.1'], 'held');
    r.updateDesired(KEY, new Map([['192.0.2.9', 'held']]));
    await clock.advance(20_000);
    expect(sorted(port.blocked(GROUP))).toEqual(['192.0.2.1', '192.0.2.2']);
  });

  it('migration hosts → lists: lists in the group first, then the per-address hosts go; no gap', async () => {
    const { clock, port, r } = setup();
    const want = range(1, 120);
    for (const a of [...want, '198.51.100.7']) port.hosts.set(a, new Set([GROUP]));
    r.setDesired(KEY, want);
    r.start();
    await clock.advance(120_000);
    expect(r.converged).toBe(true);
    expect(port.hosts.size).toBe(0);
    expect(sorted(port.blocked(GROUP))).toEqual(sorted(want));
    expect(port.lists.size).toBe(1);
    const firstRemoval = port.requests.findIndex((q) => q.method === 'removeFromGroup');
    expect(firstRemoval).toBeGreaterThan(port.requests.findIndex((q) => q.method === 'writeLists'));
    expect(port.samples.length).toBeGreaterThan(want.length);
    for (const s of port.samples) for (const a of want) expect(s.has(a)).toBe(true);
  });

  it('networks (subnet bans) stay per-address Network hosts beside the lists, and go when unbanned', async () => {
    const { clock, port, r, ban, unban, applied } = setup();
    r.start();
    await clock.advance(10_000);
    ban(['192.0.2.1', '198.51.100.0/24', '192.0.2.2']);
    await clock.advance(20_000);
    expect(r.converged).toBe(true);
    expect(sorted(port.lists.get('f2b_f2b-v4.list1')!.addresses)).toEqual(['192.0.2.1', '192.0.2.2']);
    expect([...port.hosts.keys()]).toEqual(['198.51.100.0/24']);
    expect(sorted(port.blocked(GROUP))).toEqual(['192.0.2.1', '192.0.2.2', '198.51.100.0/24']);
    expect(
      applied
        .filter((c) => c.op === 'add')
        .flatMap((c) => c.addresses)
        .sort(),
    ).toEqual(['192.0.2.1', '192.0.2.2', '198.51.100.0/24']);
    expect(r.status().groups[0]!.objects).toMatchObject({ mode: 'lists', lists: 1, hosts: 1 });
    unban(['198.51.100.0/24']);
    await clock.advance(20_000);
    expect(r.converged).toBe(true);
    expect(port.hosts.size).toBe(0);
    expect(sorted(port.blocked(GROUP))).toEqual(['192.0.2.1', '192.0.2.2']);
  });
});

describe('hosts mode', () => {
  it('an Unban read during a pass: the remaining add batches skip its address (issue 12)', async () => {
    const { clock, port, r, ban, unban } = setup({ lists: false });
    r.start();
    await clock.advance(10_000);
    const all = range(1, 500);
    ban(all);
    // First batch (50) is on the wire; the Unbans of all 500 are read now.
    await clock.advance(1000);
    unban(all);
    await clock.advance(600_000);
    expect(port.count('addToGroup')).toBe(1);
    expect(port.hosts.size).toBe(0);
    expect(r.converged).toBe(true);
  });

  it('migration lists → hosts: per-address hosts first, then the lists leave and go; no gap', async () => {
    const { clock, port, r, unban } = setup({ lists: false, retireLists: true });
    const want = range(1, 120);
    port.lists.set('f2b_f2b-v4.list1', { addresses: range(1, 100), groups: new Set([GROUP]) });
    port.lists.set('f2b_f2b-v4.list2', { addresses: [...range(101, 20), '198.51.100.7', '198.51.100.8'], groups: new Set([GROUP]) });
    r.setDesired(KEY, want);
    r.updateDesired(KEY, new Map([['198.51.100.8', 'held']]));
    r.start();
    await clock.advance(120_000);
    expect(r.converged).toBe(true);
    expect([...port.lists.keys()]).toEqual([]);
    expect(sorted(port.blocked(GROUP))).toEqual(sorted([...want, '198.51.100.8']));
    expect(port.requests.findIndex((q) => q.method === 'writeLists')).toBeGreaterThan(
      port.requests.findIndex((q) => q.method === 'addToGroup'),
    );
    for (const s of port.samples) for (const a of want) expect(s.has(a)).toBe(true);
    expect(r.status().groups[0]!.objects).toMatchObject({ mode: 'hosts', lists: 0, hosts: 121 });
    // The held one is a normal per-address host now: lifted when its unban is final.
    unban(['198.51.100.8']);
    await clock.advance(10_000);
    expect(port.hosts.has('198.51.100.8')).toBe(false);
  });

  it('without lists support in the adapter (XG_UNSUPPORTED), hosts mode runs as before', async () => {
    const { clock, port, r, ban } = setup({ lists: false, retireLists: true });
    port.readLists = () => Promise.reject(Object.assign(new Error('lists not supported'), { code: 'XG_UNSUPPORTED', retryable: false }));
    r.start();
    ban(['192.0.2.1']);
    await clock.advance(30_000);
    expect(r.converged).toBe(true);
    expect(sorted(port.blocked(GROUP))).toEqual(['192.0.2.1']);
  });
});
