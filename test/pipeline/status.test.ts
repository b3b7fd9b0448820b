import { describe, expect, it } from 'vitest';
import { assembleStatus, type StatusParts } from '../../src/pipeline/status.js';
import type { GroupStatus } from '../../src/pipeline/reconciler.js';

function group(firewall: string, name: string): GroupStatus {
  return { firewall, group: name, family: 'IPv4', desired: 3, applied: 2, synced: true, pendingAdds: 1, pendingRemoves: 0, suspended: 0 };
}

function parts(): StatusParts {
  const suspended: Record<string, number> = { 'fw1/a': 2, 'fw2/c': 5 };
  return {
    firewalls: [
      { firewall: { firewall: 'fw1', reachable: true, consecutiveFailures: 0 }, groups: [group('fw1', 'a'), group('fw1', 'b')] },
      { firewall: { firewall: 'fw2', reachable: false, consecutiveFailures: 3 }, groups: [group('fw2', 'c')] },
    ],
    persist: { consecutiveFailures: 1, lastSave: '2026-11-25T08:00:00.000Z' },
    model: {
      counters: { neverBlocked: 1, skippedIpv6: 2, unrouted: 3, invalid: 4 },
      waitingCount: 7,
      suspendedIn: (key) => suspended[key] ?? 0,
    },
  };
}

describe('assembleStatus', () => {
  it('flattens the groups of every firewall in order, each with its suspended count from the model', () => {
    const s = assembleStatus(parts());
    expect(s.groups.map((g) => [g.firewall, g.group, g.suspended])).toEqual([
      ['fw1', 'a', 2],
      ['fw1', 'b', 0],
      ['fw2', 'c', 5],
    ]);
    expect(s.firewalls.map((f) => [f.firewall, f.reachable])).toEqual([
      ['fw1', true],
      ['fw2', false],
    ]);
    expect(s.groups[0]).toMatchObject({ desired: 3, applied: 2, pendingAdds: 1 });
    expect(s.waiting).toBe(7);
    expect(s.persist).toEqual({ consecutiveFailures: 1, lastSave: '2026-11-25T08:00:00.000Z' });
    expect(s.counters).toEqual({ neverBlocked: 1, skippedIpv6: 2, unrouted: 3, invalid: 4 });
  });

  it('copies what the parts keep (persist, counters, groups): a kept status does not change under the caller', () => {
    const p = parts();
    const s = assembleStatus(p);
    p.persist.consecutiveFailures = 9;
    p.model.counters.invalid = 99;
    expect(s.persist.consecutiveFailures).toBe(1);
    expect(s.counters.invalid).toBe(4);
    expect(p.firewalls[0]!.groups[0]!.suspended).toBe(0);
  });

  it("lists the model's sources (issue 13), and none for a model part without them", () => {
    const p = parts();
    expect(assembleStatus(p).sources).toEqual([]);
    const view = [{ source: 'web1', slots: 4, waiting: 1, pid: 7, stopping: false, events: 12 }];
    expect(assembleStatus({ ...p, model: { ...p.model, sources: () => view } }).sources).toEqual(view);
  });
});
