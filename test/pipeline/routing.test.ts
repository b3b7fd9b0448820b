import { describe, expect, it } from 'vitest';
// jailMatches and makeNeverBlock are the config module's: test/config/glob.test.ts, net.test.ts.
import { addressFamily, Router, type GroupMapping } from '../../src/pipeline/routing.js';

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
    expect(r.targets().map((t) => `${t.key}:${t.group.family}`)).toEqual(['a/ssh4:IPv4', 'a/ssh6:IPv6', 'a/all4:IPv4', 'b/ssh4:IPv4', 'b/ssh6:IPv6']);
  });
  it('a jail matching nothing routes nowhere', () => {
    expect(new Router([groups[0]!]).route('postfix')).toEqual({ IPv4: [], IPv6: [], noIpv6: [] });
  });
});

describe('addressFamily', () => {
  it.each([
    ['192.0.2.1', 'IPv4'],
    ['198.51.100.0/24', 'IPv4'],
    ['2001:db8::1', 'IPv6'],
    ['2001:db8::/64', 'IPv6'],
    ['bad-host.example', undefined],
    ['192.0.2.1/40', undefined],
  ])('%s → %s', (a, f) => expect(addressFamily(a)).toBe(f));
});
