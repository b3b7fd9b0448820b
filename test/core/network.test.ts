import { describe, expect, it } from 'vitest';
import { DEFAULT_NEVER_BLOCK } from '../../src/config/index.js';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import {
  formatIPv4Network,
  ipv4Mask,
  ipv4MaskLength,
  ipv4Network,
  makeNeverBlock,
  networkFamily,
  overlaps,
  parseNetwork,
} from '../../src/core/network.js';

describe('makeNeverBlock', () => {
  const never = makeNeverBlock(DEFAULT_NEVER_BLOCK);
  const table: [string, boolean][] = [
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['172.32.0.1', false],
    ['192.168.1.10', true],
    ['169.254.1.1', true],
    ['8.8.8.8', false],
    ['203.0.113.7', false],
    ['::1', true],
    ['fe80::1', true],
    ['fd00::1234', true],
    ['2001:db8::1', false],
    // IPv4-mapped IPv6 is judged by its IPv4 meaning.
    ['::ffff:10.0.0.1', true],
    ['::ffff:8.8.8.8', false],
    // Networks: inside, containing, and beside a protected range.
    ['10.20.0.0/16', true],
    ['10.0.0.0/7', true],
    ['8.0.0.0/7', false],
    ['0.0.0.0/0', true],
    ['192.0.2.0/24', false],
    ['fc00::/6', true],
    ['2001:db8::/32', false],
    ['::/0', true],
    ['::ffff:0:0/96', true],
    // Not an address: refused rather than sent to the firewall.
    ['not-an-ip', true],
  ];
  it.each(table)('%s → %s', (ip, expected) => {
    expect(never(ip)).toBe(expected);
  });

  it('an empty list blocks nothing from being banned', () => {
    const none = makeNeverBlock([]);
    expect(none('127.0.0.1')).toBe(false);
    expect(none('::1')).toBe(false);
  });

  it('an IPv4-mapped entry protects the IPv4 address, and a wider ban containing a protected one is refused', () => {
    const nb = makeNeverBlock(['192.0.2.0/24', '::ffff:198.51.100.7']);
    expect(nb('198.51.100.7')).toBe(true);
    expect(nb('198.51.100.8')).toBe(false);
    expect(nb('192.0.0.0/16')).toBe(true);
    expect(nb('192.0.2.128/25')).toBe(true);
    expect(nb('192.0.3.1')).toBe(false);
  });

  it('single addresses are /32 and /128', () => {
    const one = makeNeverBlock(['198.51.100.7', '2001:db8::7']);
    expect(one('198.51.100.7')).toBe(true);
    expect(one('198.51.100.8')).toBe(false);
    expect(one('198.51.100.0/24')).toBe(true);
    expect(one('2001:db8::7')).toBe(true);
    expect(one('2001:db8::8')).toBe(false);
  });

  it('throws on an invalid entry', () => {
    expect(() => makeNeverBlock(['10.0.0.0/33'])).toThrow(RangeError);
  });
});

describe('parseNetwork', () => {
  it.each(['10', '0x0a.0.0.1', '010.0.0.1', '1.2.3', '10.0.0.0/33', '::/129', 'fe80::1%eth0', '10.0.0.0/', '10.0.0.0/a', ''])(
    'rejects %j',
    (s) => {
      expect(parseNetwork(s)).toBeUndefined();
    },
  );
  it.each([
    ['10.0.0.0/8', 104],
    ['1.2.3.4', 128],
    ['2001:db8::/32', 32],
    ['::', 128],
  ])('%s spans %i bits of the 128-bit space', (s, bits) => {
    expect(parseNetwork(s)?.bits).toBe(bits);
  });
});

describe('IPv4 masks', () => {
  it.each([
    [0, '0.0.0.0'],
    [1, '128.0.0.0'],
    [8, '255.0.0.0'],
    [24, '255.255.255.0'],
    [31, '255.255.255.254'],
    [32, '255.255.255.255'],
  ])('/%i ⇄ %s', (len, mask) => {
    expect(ipv4Mask(len)).toBe(mask);
    expect(ipv4MaskLength(mask)).toBe(len);
  });
  it.each(['255.0.255.0', '0.255.255.255', '255.255.255', '255.255.255.00', '::'])('%j is not a contiguous mask', (mask) => {
    expect(ipv4MaskLength(mask)).toBeUndefined();
  });
  it.each([-1, 33, 1.5])('%s is not a prefix length', (len) => {
    expect(() => ipv4Mask(len)).toThrow(RangeError);
  });
});

describe('overlaps agrees with ipaddr.js on random networks', () => {
  // ipaddr.js as the oracle: both sides as IPv6 (IPv4 mapped), compared on the shorter prefix.
  const v4 = fc
    .tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255), fc.integer({ min: 0, max: 32 }))
    .map(([a, b, c, d, p]) => `${a}.${b}.${c}.${d}/${p}`);
  const v6 = fc
    .tuple(fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }), fc.integer({ min: 0, max: 128 }))
    .map(([w, p]) => `${w.map((x) => x.toString(16)).join(':')}/${p}`);
  const net = fc.oneof(v4, v6);
  const oracle = (a: string, b: string): boolean => {
    const side = (s: string): [ipaddr.IPv6, number] => {
      const [ip, bits] = ipaddr.parseCIDR(s);
      return ip.kind() === 'ipv4' ? [(ip as ipaddr.IPv4).toIPv4MappedAddress(), 96 + bits] : [ip as ipaddr.IPv6, bits];
    };
    const [x, xb] = side(a);
    const [y, yb] = side(b);
    return x.match(y, Math.min(xb, yb));
  };
  it('for any two networks', () => {
    fc.assert(
      fc.property(net, net, (a, b) => {
        const x = parseNetwork(a);
        const y = parseNetwork(b);
        expect(x && y && overlaps(x, y)).toBe(oracle(a, b));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('networkFamily / ipv4Network / formatIPv4Network', () => {
  it.each([
    ['10.1.2.3', 'IPv4', 32],
    ['10.1.0.0/16', 'IPv4', 16],
    ['::ffff:10.1.2.3', 'IPv4', 32],
    ['::ffff:0:0/95', 'IPv6', 95],
    ['2001:db8::/32', 'IPv6', 32],
    ['::', 'IPv6', 128],
  ])('%s is %s /%i', (text, family, prefix) => {
    const n = parseNetwork(text);
    expect(n && networkFamily(n)).toEqual({ family, prefix });
  });

  it('builds and prints IPv4 networks with host bits cleared', () => {
    expect(formatIPv4Network(ipv4Network(0x0a010203, 32))).toBe('10.1.2.3');
    expect(formatIPv4Network(ipv4Network(0x0a010203, 24))).toBe('10.1.2.0/24');
    expect(formatIPv4Network(ipv4Network(0xffffffff, 0))).toBe('0.0.0.0/0');
    expect(ipv4Network(0x0a010203, 16)).toEqual(parseNetwork('10.1.0.0/16'));
    expect(() => ipv4Network(0, 33)).toThrow(RangeError);
  });
});
