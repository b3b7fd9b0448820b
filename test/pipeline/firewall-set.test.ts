import { describe, expect, it } from 'vitest';
import { FirewallSet } from '../../src/pipeline/firewall-set.js';
import { DEFAULT_RETRY } from '../../src/pipeline/backoff.js';
import { Router, type GroupMapping } from '../../src/pipeline/routing.js';
import { MemoryFirewall } from '../../src/xg/memory.js';
import type { FirewallPort } from '../../src/xg/port.js';
import { journaledPort, recordingLogger, VirtualClock } from './harness.js';
import { ListPort } from './list-port.js';

const GROUPS: GroupMapping[] = [
  { firewall: 'fw1', name: 'a', ipv6Name: 'a6', jails: ['*'] },
  { firewall: 'fw2', name: 'b', jails: ['sshd'] },
];

function rig(o: { holdRemovals?: boolean; ports?: string[] } = {}) {
  const clock = new VirtualClock();
  const journal: string[] = [];
  const fws = new Map([
    ['fw1', new MemoryFirewall()],
    ['fw2', new MemoryFirewall()],
  ]);
  const ports = new Map<string, FirewallPort>();
  for (const name of o.ports ?? ['fw1', 'fw2'])
    ports.set(
      name,
      journaledPort(fws.get(name)!, name, journal, [], () => clock.now),
    );
  let changes = 0;
  const set = new FirewallSet({
    targets: new Router(GROUPS).targets(),
    ports,
    maxBatch: 50,
    retry: DEFAULT_RETRY,
    resyncIntervalMs: 600_000,
    holdRemovals: o.holdRemovals ?? false,
    scheduler: clock.scheduler,
    random: () => 0.5,
    log: recordingLogger(),
    onChange: () => changes++,
  });
  return { clock, journal, fws, set, changes: () => changes };
}

const writes = (journal: string[]) => journal.filter((l) => / (add|remove) /.test(l));

describe('FirewallSet', () => {
  it('needs a port for every firewall the mappings name', () => {
    expect(() => rig({ ports: ['fw1'] })).toThrow('no firewall port for "fw2" (named in a group mapping)');
  });

  it('one reconciler per firewall: start-up repairs each firewall against the desired state of its own groups', async () => {
    const r = rig();
    r.set.setDesired({
      desired: new Map([
        ['fw1/a', ['192.0.2.1']],
        ['fw2/b', ['192.0.2.2']],
      ]),
      held: new Map(),
    });
    r.set.start();
    await r.clock.advance(0);
    expect(writes(r.journal)).toEqual(['fw1 add a 192.0.2.1', 'fw2 add b 192.0.2.2']);
    expect(r.set.status().map((s) => [s.firewall.firewall, s.groups.map((g) => g.group)])).toEqual([
      ['fw1', ['a', 'a6']],
      ['fw2', ['b']],
    ]);
    expect(r.set.converged).toBe(true);
    expect(r.changes()).toBeGreaterThan(0);
  });

  it('handOver routes each group key to its firewall; unknown keys are ignored', async () => {
    const r = rig();
    r.set.start();
    await r.clock.advance(0);
    const mark = r.journal.length;
    r.set.handOver(
      new Map([
        ['fw2/b', new Map([['198.51.100.7', 'desired' as const]])],
        ['fw1/a6', new Map([['2001:db8::1', 'desired' as const]])],
        ['fw9/x', new Map([['192.0.2.9', 'desired' as const]])],
      ]),
      false,
      true,
    );
    expect(r.set.converged).toBe(false);
    await r.clock.advance(0);
    expect(writes(r.journal.slice(mark))).toEqual(['fw2 add b 198.51.100.7', 'fw1 add a6 2001:db8::1']);
    expect(r.fws.get('fw1')!.memberAddresses('a6')).toEqual(['2001:db8::1']);
    expect(r.set.converged).toBe(true);
  });

  it('without kick the reconcilers take the change but do not run for it (stopping)', async () => {
    const r = rig();
    r.set.start();
    await r.clock.advance(0);
    const mark = r.journal.length;
    r.set.handOver(new Map([['fw1/a', new Map([['192.0.2.5', 'desired' as const]])]]), false, false);
    await r.clock.advance(1000);
    expect(writes(r.journal.slice(mark))).toEqual([]);
    expect(r.set.converged).toBe(false);
  });

  it('release lets the removals held since start-up go ahead, on every firewall', async () => {
    const r = rig({ holdRemovals: true });
    // Owned leftovers of an earlier run, no longer desired.
    for (const [name, group] of [
      ['fw1', 'a'],
      ['fw2', 'b'],
    ] as const) {
      const fw = r.fws.get(name)!;
      fw.addGroup(group, 'IPv4');
      await fw.port('f2b_').addToGroup({ name: group, family: 'IPv4' }, ['203.0.113.1']);
    }
    r.set.start();
    await r.clock.advance(0);
    expect(writes(r.journal)).toEqual([]);
    r.set.handOver(new Map(), true, true);
    await r.clock.advance(0);
    expect(writes(r.journal)).toEqual(['fw1 remove a 203.0.113.1', 'fw2 remove b 203.0.113.1']);
  });

  it('stop lets the reconcilers finish and run no more', async () => {
    const r = rig();
    r.set.start();
    await r.clock.advance(0);
    await r.set.stop();
    const mark = r.journal.length;
    r.set.handOver(new Map([['fw1/a', new Map([['192.0.2.5', 'desired' as const]])]]), false, true);
    await r.clock.advance(700_000);
    expect(r.journal.slice(mark)).toEqual([]);
  });
});

describe('FirewallSet objects modes (issue 12)', () => {
  it('each firewall gets its own mode: lists packs fw1, hosts keeps per-address hosts on fw2 and retires its lists', async () => {
    const clock = new VirtualClock();
    const fw1 = new ListPort(clock.scheduler, 'f2b_', 10, 10);
    const fw2 = new ListPort(clock.scheduler, 'f2b_', 10, 10);
    for (const fw of [fw1, fw2]) for (const g of ['a', 'a6', 'b']) fw.groups.add(g);
    fw2.lists.set('f2b_b.list1', { addresses: ['192.0.2.9'], groups: new Set(['b']) });
    const set = new FirewallSet({
      targets: new Router(GROUPS).targets(),
      ports: new Map<string, FirewallPort>([
        ['fw1', fw1],
        ['fw2', fw2],
      ]),
      modes: new Map([
        ['fw1', { objects: 'lists', lists: { listSize: 1000, hostPrefix: 'f2b_' } }],
        ['fw2', { objects: 'hosts' }],
      ]),
      maxBatch: 50,
      retry: DEFAULT_RETRY,
      resyncIntervalMs: 600_000,
      scheduler: clock.scheduler,
      random: () => 0.5,
      log: recordingLogger(),
    });
    set.setDesired({
      desired: new Map([
        ['fw1/a', ['192.0.2.1', '192.0.2.2']],
        ['fw2/b', ['192.0.2.3']],
      ]),
      held: new Map(),
    });
    set.start();
    await clock.advance(1000);
    expect(set.converged).toBe(true);
    expect([...fw1.lists.keys()]).toEqual(['f2b_a.list1']);
    expect(fw1.hosts.size).toBe(0);
    expect([...fw2.hosts.keys()]).toEqual(['192.0.2.3']);
    expect(fw2.lists.size).toBe(0);
    expect(set.status().map((s) => s.groups.map((g) => g.objects?.mode))).toEqual([['lists', 'lists'], ['hosts']]);
  });
});
