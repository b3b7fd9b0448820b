import { describe, expect, it } from 'vitest';
import { FirewallSet } from '../../src/pipeline/firewall-set.js';
import { DEFAULT_RETRY } from '../../src/pipeline/backoff.js';
import { Router, type GroupMapping } from '../../src/pipeline/routing.js';
import { MemoryFirewall } from '../../src/xg/memory.js';
import type { FirewallPort } from '../../src/xg/port.js';
import { journaledPort, recordingLogger, VirtualClock } from './harness.js';

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
  for (const name of o.ports ?? ['fw1', 'fw2']) ports.set(name, journaledPort(fws.get(name)!, name, journal, [], () => clock.now));
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
    r.set.setDesired({ desired: new Map([['fw1/a', ['192.0.2.1']], ['fw2/b', ['192.0.2.2']]]), held: new Map() });
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
