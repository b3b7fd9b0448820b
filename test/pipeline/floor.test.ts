import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLine } from '../../src/parser/index.js';
import { makeNeverBlock } from '../../src/core/network.js';
import { embeddedIPv4, firewallNeverBlock, FirewallHostError, makeFloor, type FloorReason } from '../../src/pipeline/floor.js';

const NEVER = ['10.1.2.3', '2001:db8:ffff::/48'];
const floor = makeFloor({ neverBlock: NEVER });

function reasonOf(address: string, f = floor): FloorReason | 'allow' {
  const v = f(address);
  return v.allow ? 'allow' : v.reason;
}

describe('makeFloor', () => {
  // Every target the issue saw reach the firewall, with never-block 10.1.2.3.
  it.each<[string, FloorReason]>([
    ['0.0.0.0', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'unspecified'],
    ['224.0.0.0/3', 'multicast'],
    ['1.0.0.0/8', 'too-wide'],
    ['100.64.0.1', 'shared-address-space'],
    ['64:ff9b::a01:203', 'never-block-embedded'],
    ['2002:a01:203::', 'never-block-embedded'],
  ])('refuses %s (%s), as seen in the fault audit', (address, reason) => {
    expect(reasonOf(address)).toBe(reason);
  });

  it.each<[string, FloorReason]>([
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['ff00::/8', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['254.255.255.255', 'reserved'],
    ['100.127.255.255', 'shared-address-space'],
    ['100.64.0.0/16', 'shared-address-space'],
    ['0.0.0.0/16', 'unspecified'], // a network holding 0.0.0.0
    ['::/64', 'unspecified'],
    ['::ffff:0.0.0.0', 'unspecified'], // the parser's IPv4-mapped form is the IPv4 address
    ['10.1.2.3', 'never-block'],
    ['10.1.0.0/16', 'never-block'], // a network that CONTAINS a never-block address
    ['2001:db8:ffff:1::5', 'never-block'], // inside a never-block network
    ['2001:db8:fff0::/44', 'never-block'], // containing a never-block network
    ['::ffff:10.1.2.3', 'never-block'],
    ['64:ff9b::a01:200/120', 'never-block-embedded'], // NAT64 network holding 10.1.2.3
    ['2002:a01:200::/40', 'never-block-embedded'], // 6to4 network of 10.1.2.0/24
    ['2002:a01:203:1234::/64', 'never-block-embedded'], // a subnet of 10.1.2.3's 6to4 site
    ['64:ff9b::/64', 'never-block-embedded'], // covers the whole NAT64 prefix, so every IPv4
    ['192.0.0.0/15', 'too-wide'],
    ['2001:db0::/31', 'too-wide'],
    ['not an ip', 'not-an-address'],
    ['010.1.1.1', 'not-an-address'],
  ])('refuses %s (%s)', (address, reason) => {
    expect(reasonOf(address)).toBe(reason);
  });

  // Fixtures, tests and examples use the documentation ranges: they must stay bannable.
  it.each([
    '192.0.2.1',
    '192.0.2.0/24',
    '198.51.100.123',
    '203.0.113.255',
    '198.18.0.1',
    '198.19.255.255',
    '198.18.0.0/16',
    '2001:db8::1',
    '2001:db8::/33', // the /32 holds the never-block 2001:db8:ffff::/48
    '2001:db8:1::/48',
    '100.63.255.255', // just below 100.64.0.0/10
    '100.128.0.0', // just above it
    '223.255.255.255', // just below multicast
    '64:ff9b::c000:201', // NAT64 of a documentation address
    '2002:c000:201::', // 6to4 of a documentation address
    '10.1.2.4',
  ])('allows %s', (address) => {
    expect(floor(address)).toEqual({ allow: true });
  });

  it('gives a reason and a detail naming what the target overlaps', () => {
    expect(floor('10.1.0.0/16')).toEqual({ allow: false, reason: 'never-block', detail: 'overlaps never-block 10.1.2.3' });
    expect(floor('2002:a01:203::')).toEqual({
      allow: false,
      reason: 'never-block-embedded',
      detail: '6to4 form of 10.1.2.3, which overlaps never-block 10.1.2.3',
    });
    expect(floor('1.0.0.0/8')).toEqual({ allow: false, reason: 'too-wide', detail: '/8 is wider than the minimum /16' });
  });

  it('the minimum prefix is configurable per family; forbidden ranges hold at any setting', () => {
    const loose = makeFloor({ neverBlock: [], minPrefix: { IPv4: 8, IPv6: 0 } });
    expect(reasonOf('1.0.0.0/8', loose)).toBe('allow');
    expect(reasonOf('2.0.0.0/7', loose)).toBe('too-wide');
    expect(reasonOf('1.0.0.0/7', loose)).toBe('unspecified'); // masked to 0.0.0.0/7
    expect(reasonOf('2000::/4', loose)).toBe('allow');
    expect(reasonOf('224.0.0.0/3', makeFloor({ neverBlock: [], minPrefix: { IPv4: 0 } }))).toBe('multicast');
    const strict = makeFloor({ neverBlock: [], minPrefix: { IPv4: 24, IPv6: 64 } });
    expect(reasonOf('192.0.2.0/23', strict)).toBe('too-wide');
    expect(reasonOf('192.0.2.0/24', strict)).toBe('allow');
    expect(reasonOf('2001:db8::/63', strict)).toBe('too-wide');
    expect(reasonOf('2001:db8::/32', makeFloor({ neverBlock: [] }))).toBe('allow');
    expect(reasonOf('2001:db8::/31', makeFloor({ neverBlock: [] }))).toBe('too-wide');
    expect(() => makeFloor({ neverBlock: [], minPrefix: { IPv4: 33 } })).toThrow(RangeError);
    expect(() => makeFloor({ neverBlock: ['nope'] })).toThrow(/neverBlock/);
  });

  it('closes the gap the config matcher leaves: NAT64 and 6to4 forms of a never-block address', () => {
    const old = makeNeverBlock(NEVER);
    // What the issue saw: the current matcher lets both through.
    expect(old('64:ff9b::a01:203')).toBe(false);
    expect(old('2002:a01:203::')).toBe(false);
    // On plain addresses and networks (containment both ways) the two agree.
    for (const a of ['10.1.2.3', '10.1.0.0/16', '10.1.2.4', '2001:db8:ffff::1', '2001:db8::/32', '192.0.2.1']) {
      expect([a, reasonOf(a) === 'never-block']).toEqual([a, old(a)]);
    }
  });

  it('an IPv4 address is refused exactly when it falls in a forbidden range (integer arithmetic oracle)', () => {
    const open = makeFloor({ neverBlock: [] });
    const inRange = (v: number, base: number, bits: number) => Math.floor(v / 2 ** (32 - bits)) === Math.floor(base / 2 ** (32 - bits));
    const ip = (a: number, b: number, c: number, d: number) => ((a * 256 + b) * 256 + c) * 256 + d;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (v) => {
        const forbidden = v === 0 || inRange(v, ip(224, 0, 0, 0), 3) || inRange(v, ip(100, 64, 0, 0), 10);
        const text = [24, 16, 8, 0].map((s) => Math.floor(v / 2 ** s) % 256).join('.');
        return open(text).allow === !forbidden;
      }),
      { numRuns: 5000 },
    );
  });
});

describe('the real fail2ban fixtures stay bannable', () => {
  it('every Ban address of every fixture log passes the floor with the usual private never-block list', () => {
    const dir = new URL('../../../shared/fixtures/fail2ban/', import.meta.url);
    const f = makeFloor({
      neverBlock: ['127.0.0.0/8', '::1/128', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', 'fe80::/10', 'fc00::/7'],
    });
    const bans = new Set<string>();
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.log'))) {
      for (const line of readFileSync(new URL(name, dir), 'utf8').split('\n')) {
        const r = parseLine(line);
        if (r.kind === 'event' && r.event.type === 'ban' && r.event.ip !== undefined) bans.add(r.event.ip);
      }
    }
    expect(bans.size).toBeGreaterThan(20);
    expect([...bans].filter((a) => !f(a).allow)).toEqual([]);
  });
});

describe('embeddedIPv4', () => {
  it.each([
    ['64:ff9b::a01:203', { form: 'nat64', ipv4: '10.1.2.3' }],
    ['64:ff9b::a01:200/120', { form: 'nat64', ipv4: '10.1.2.0/24' }],
    ['64:ff9b::/96', { form: 'nat64', ipv4: '0.0.0.0/0' }],
    ['2002:a01:203::', { form: '6to4', ipv4: '10.1.2.3' }],
    ['2002:a01:203:ffff::1', { form: '6to4', ipv4: '10.1.2.3' }],
    ['2002:a01::/32', { form: '6to4', ipv4: '10.1.0.0/16' }],
    ['::ffff:0:0/95', { form: 'mapped', ipv4: '0.0.0.0/0' }],
  ])('%s carries %j', (address, expected) => {
    expect(embeddedIPv4(address)).toEqual(expected);
  });

  it.each(['10.1.2.3', '::ffff:10.1.2.3', '2001:db8::a01:203', '64:ff9a::a01:203', '2003:a01:203::', 'garbage'])('%s carries none', (a) => {
    // ::ffff:10.1.2.3 is normalised to the IPv4 address itself: nothing embedded left.
    expect(embeddedIPv4(a)).toBeUndefined();
  });
});

describe('firewallNeverBlock', () => {
  const noDns = () => Promise.reject(new Error('no DNS expected'));

  it('takes an IP literal directly, IPv6 in brackets too', async () => {
    expect(await firewallNeverBlock('https://192.0.2.1:4444/webconsole/APIController', noDns)).toEqual(['192.0.2.1']);
    expect(await firewallNeverBlock('https://[2001:DB8::0001]:4444/', noDns)).toEqual(['2001:db8::1']);
  });

  it('resolves a host name through the injected resolver, normalised and deduplicated', async () => {
    const asked: string[] = [];
    const resolve = (h: string) => {
      asked.push(h);
      return Promise.resolve(['198.51.100.9', '2001:db8:0::9', '198.51.100.9', '::ffff:198.51.100.9']);
    };
    expect(await firewallNeverBlock('https://xg.example.net:4444/', resolve)).toEqual(['198.51.100.9', '2001:db8::9']);
    expect(asked).toEqual(['xg.example.net']);
  });

  it('a failed or empty resolution is a retryable FirewallHostError; a bad URL is not retryable', async () => {
    const cause = new Error('ENOTFOUND');
    const failed = (await firewallNeverBlock('https://xg.example.net/', () => Promise.reject(cause)).catch(
      (e: unknown) => e,
    )) as FirewallHostError;
    expect(failed).toBeInstanceOf(FirewallHostError);
    expect([failed.code, failed.retryable, failed.cause]).toEqual(['FIREWALL_HOST_UNRESOLVED', true, cause]);
    await expect(firewallNeverBlock('https://xg.example.net/', () => Promise.resolve(['not-an-ip']))).rejects.toMatchObject({
      retryable: true,
    });
    await expect(firewallNeverBlock('not a url', noDns)).rejects.toMatchObject({ retryable: false });
  });

  it('its entries make the floor refuse the firewall itself', async () => {
    const f = makeFloor({ neverBlock: await firewallNeverBlock('https://203.0.113.1:4444/', noDns) });
    expect(reasonOf('203.0.113.1', f)).toBe('never-block');
    expect(reasonOf('203.0.113.0/24', f)).toBe('never-block');
    expect(reasonOf('64:ff9b::cb00:7101', f)).toBe('never-block-embedded');
  });
});
