import { describe, expect, it } from 'vitest';
import { EmulatorModel } from '../../src/emulator/model.js';
import { parseLine } from '../../src/parser/index.js';
import { actionLine, benchIp } from '../../bench/lib.js';
import { blockedBy, oneShotCost, parseArgs, seedFirewall } from '../../bench/lists.js';

describe('bench/lists helpers', () => {
  it('one process per ban: one write per ban; a read and two writes per unban, in sequence', () => {
    expect(oneShotCost('ban', 10_000, 6000, 1000)).toEqual({ requests: 10_000, writes: 10_000, reads: 0, ms: 60_000_000 });
    expect(oneShotCost('unban', 10, 6000, 1000)).toEqual({ requests: 30, writes: 20, reads: 10, ms: 130_000 });
  });

  it('blockedBy reads per-address hosts and IPLists of the group, and only members', () => {
    const m = new EmulatorModel();
    m.seedGroup({ name: 'G', family: 'IPv4' });
    m.seedHost({ name: 'h', hostType: 'IP', ipAddress: '11.0.0.1', groups: ['G'] });
    m.seedHost({ name: 'l', hostType: 'IPList', listOfIPAddresses: '11.0.0.2,11.0.0.3', groups: ['G'] });
    m.seedHost({ name: 'out', hostType: 'IP', ipAddress: '11.0.0.9' });
    expect([...blockedBy(m, 'G')].sort()).toEqual(['11.0.0.1', '11.0.0.2', '11.0.0.3']);
  });

  it('seedFirewall: per-address hosts, or ⌈N/listSize⌉ lists, all in the group, blocking exactly the addresses', () => {
    const ips = Array.from({ length: 2500 }, (_, i) => benchIp(i));
    for (const [o, objects] of [
      [{}, 2500],
      [{ objects: 'lists' as const }, 3],
      [{ objects: 'lists' as const, listSize: 100 }, 25],
    ] as const) {
      const m = new EmulatorModel();
      m.seedGroup({ name: 'f2b_lists_bench', family: 'IPv4' });
      seedFirewall(m, ips, o);
      expect(m.groupMembers('f2b_lists_bench')).toHaveLength(objects);
      expect([...blockedBy(m, 'f2b_lists_bench')].sort()).toEqual([...ips].sort());
    }
  });

  it('log lines are what the parser reads as Ban / Unban of the address', () => {
    const ip = benchIp(123_456);
    for (const kind of ['Ban', 'Unban'] as const) {
      const r = parseLine(actionLine(kind, ip).trimEnd());
      expect(r.kind === 'event' && { type: r.event.type, ip: r.event.ip, jail: r.event.jail }).toEqual({
        type: kind.toLowerCase(),
        ip,
        jail: 'sshd',
      });
    }
    expect(new Set(Array.from({ length: 1000 }, (_, i) => benchIp(i * 997))).size).toBe(1000);
  });

  it('arguments: scenarios, objects, profile', () => {
    const o = parseArgs([
      '--scenarios',
      'ban:10,unban:5,lone',
      '--objects',
      'lists',
      '--list-size',
      '500',
      '--profile',
      'fast',
      '--seed',
      '3',
    ]);
    expect(o).toEqual({
      scenarios: [
        { kind: 'ban', n: 10 },
        { kind: 'unban', n: 5 },
        { kind: 'lone', n: 1 },
      ],
      objects: 'lists',
      listSize: 500,
      profile: 'fast',
      seed: 3,
    });
    expect(() => parseArgs(['--scenarios', 'ban:0'])).toThrow();
    expect(() => parseArgs(['--objects', 'both'])).toThrow();
  });
});
