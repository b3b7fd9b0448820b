import { describe, expect, it } from 'vitest';
// jailMatches and makeNeverBlock are the core's: test/core/glob.test.ts, network.test.ts.
import { Router, type GroupMapping } from '../../src/pipeline/routing.js';

describe('Router', () => {
  const groups: GroupMapping[] = [
    { firewall: 'a', name: 'ssh4', ipv6Name: 'ssh6', jails: ['sshd*'] },
    { firewall: 'a', name: 'all4', jails: ['*'] },
    { firewall: 'b', name: 'ssh4', ipv6Name: 'ssh6', jails: ['sshd'] },
    // A second mapping naming the same group merges with the first.
    { firewall: 'a', name: 'all4', jails: ['sshd'] },
  ];
  const r = new Router(groups);
  it('feeds one jail into several groups on several firewalls, IPv4 and IPv6 apart', () => {
    const route = r.route('sshd');
    expect(route.IPv4.map((t) => t.key)).toEqual(['a/ssh4', 'a/all4', 'b/ssh4']);
    expect(route.IPv6.map((t) => t.key)).toEqual(['a/ssh6', 'b/ssh6']);
    expect(route.noIpv6.map((m) => m.name)).toEqual(['all4', 'all4']);
  });
  it('lists every target once', () => {
    expect(r.targets().map((t) => `${t.key}:${t.group.family}`)).toEqual([
      'a/ssh4:IPv4',
      'a/ssh6:IPv6',
      'a/all4:IPv4',
      'b/ssh4:IPv4',
      'b/ssh6:IPv6',
    ]);
  });
  it('a jail matching nothing routes nowhere', () => {
    expect(new Router([groups[0]!]).route('postfix')).toEqual({ IPv4: [], IPv6: [], noIpv6: [] });
  });
});
