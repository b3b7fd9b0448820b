/** oneShotTargets: the groups a one-shot command acts on, by the pipeline's routing and never-block rule. */
import { describe, expect, it } from 'vitest';
import { jailMatches } from '../../src/core/glob.js';
import { makeNeverBlock } from '../../src/core/network.js';
import { Router } from '../../src/pipeline/routing.js';
import { oneShotTargets } from '../../src/pipeline/targets.js';
import { makeFloor } from '../../src/pipeline/floor.js';

const router = new Router(
  [
    { firewall: 'a', name: 'ssh4', ipv6Name: 'ssh6', jails: ['sshd'] },
    { firewall: 'b', name: 'web4', jails: ['nginx-*'] },
    { firewall: 'a', name: 'all4', jails: ['*'] },
  ],
  jailMatches,
);
const neverBlock = makeNeverBlock(['10.0.0.0/8', 'fd00::/8']);
const v4 = { ip: '203.0.113.7', family: 'IPv4' as const };
const v6 = { ip: '2001:db8::7', family: 'IPv6' as const };
const keys = (r: ReturnType<typeof oneShotTargets>) => (r.kind === 'targets' ? r.targets.map((t) => t.key) : r.kind);

describe('oneShotTargets', () => {
  it("without an address: every group, or the jail's, in config order", () => {
    expect(keys(oneShotTargets(router, neverBlock, { ban: false }))).toEqual(['a/ssh4', 'a/ssh6', 'b/web4', 'a/all4']);
    expect(keys(oneShotTargets(router, neverBlock, { jail: 'sshd', ban: false }))).toEqual(['a/ssh4', 'a/ssh6', 'a/all4']);
  });

  it('an address goes to the groups of its family the jail feeds', () => {
    expect(keys(oneShotTargets(router, neverBlock, { jail: 'sshd', address: v4, ban: true }))).toEqual(['a/ssh4', 'a/all4']);
    expect(keys(oneShotTargets(router, neverBlock, { jail: 'sshd', address: v6, ban: true }))).toEqual(['a/ssh6']);
    expect(keys(oneShotTargets(router, neverBlock, { address: v6, ban: false }))).toEqual(['a/ssh6']);
  });

  it('a jail whose groups have no group of the family skips the address', () => {
    expect(oneShotTargets(router, neverBlock, { jail: 'nginx-http', address: v6, ban: true })).toEqual({
      kind: 'no-family-group',
      family: 'IPv6',
    });
  });

  it('a ban of a never-block address is refused before routing; an unban of one is not', () => {
    expect(oneShotTargets(router, neverBlock, { jail: 'sshd', address: { ip: '10.1.2.3', family: 'IPv4' }, ban: true })).toMatchObject({
      kind: 'never-block',
      reason: 'never-block',
    });
    expect(keys(oneShotTargets(router, neverBlock, { jail: 'sshd', address: { ip: '10.1.2.3', family: 'IPv4' }, ban: false }))).toEqual([
      'a/ssh4',
      'a/all4',
    ]);
  });

  it('no group at all: for an unknown jail when no mapping takes every jail, or an empty config', () => {
    const narrow = new Router([{ firewall: 'a', name: 'ssh4', jails: ['sshd'] }], jailMatches);
    expect(oneShotTargets(narrow, neverBlock, { jail: 'postfix', address: v4, ban: true })).toEqual({ kind: 'no-group' });
    expect(oneShotTargets(narrow, neverBlock, { jail: 'postfix', ban: false })).toEqual({ kind: 'no-group' });
    expect(oneShotTargets(new Router([], jailMatches), neverBlock, { ban: false })).toEqual({ kind: 'no-group' });
  });

  it('with the floor: a target no firewall should get is refused with its reason (ban only)', () => {
    const floor = makeFloor({ neverBlock: ['10.0.0.0/8'] });
    const ban = (ip: string, family: 'IPv4' | 'IPv6' = 'IPv4') =>
      oneShotTargets(router, floor, { jail: 'sshd', address: { ip, family }, ban: true });
    expect(ban('255.255.255.255')).toMatchObject({ kind: 'never-block', reason: 'broadcast' });
    expect(ban('1.0.0.0/8')).toMatchObject({ kind: 'never-block', reason: 'too-wide' });
    expect(ban('64:ff9b::a01:203', 'IPv6')).toMatchObject({ kind: 'never-block', reason: 'never-block-embedded' });
    expect(keys(ban('198.51.100.7'))).toEqual(['a/ssh4', 'a/all4']);
    expect(keys(oneShotTargets(router, floor, { jail: 'sshd', address: { ip: '1.0.0.0/8', family: 'IPv4' }, ban: false }))).toEqual([
      'a/ssh4',
      'a/all4',
    ]);
  });
});
