import { describe, expect, it } from 'vitest';
import { addressFamily, jailMatches, makeNeverBlock, Router, type GroupMapping } from '../../src/pipeline/routing.js';

describe('jailMatches', () => {
  it.each([
    [['sshd'], 'sshd', true],
    [['sshd'], 'sshd-ddos', false],
    [['sshd*'], 'sshd-ddos', true],
    [['*'], 'anything.at_all', true],
    [['web-?'], 'web-1', true],
    [['web-?'], 'web-12', false],
    [['web-[ab]'], 'web-b', true],
    [['web-[!ab]'], 'web-b', false],
    [['web-[!ab]'], 'web-c', true],
    [['a.b'], 'aXb', false],
    [['postfix', 'dovecot'], 'dovecot', true],
    [[], 'sshd', false],
  ])('%j matches %s: %s', (patterns, jail, expected) => {
    expect(jailMatches(patterns, jail)).toBe(expected);
  });
});

describe('makeNeverBlock', () => {
  const nb = makeNeverBlock(['192.0.2.0/24', '203.0.113.5', '2001:db8:1::/48', '::ffff:198.51.100.7']);
  it.each([
    ['192.0.2.200', true],
    ['192.0.3.1', false],
    ['192.0.0.0/16', true], // a wider ban containing a protected network
    ['192.0.2.128/25', true],
    ['203.0.113.5', true],
    ['203.0.113.6', false],
    ['203.0.113.0/24', true],
    ['2001:db8:1:2::1', true],
    ['2001:db8:2::1', false],
    ['198.51.100.7', true], // an IPv4-mapped entry protects the IPv4 address
    ['not-an-ip', false],
  ])('%s → %s', (address, expected) => {
    expect(nb(address)).toBe(expected);
  });
  it('rejects a bad entry at construction', () => {
    expect(() => makeNeverBlock(['192.0.2.0/33'])).toThrow(/neverBlock/);
  });
});

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
