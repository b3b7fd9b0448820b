import { describe, expect, it } from 'vitest';
import { DEFAULT_NEVER_BLOCK, makeNeverBlock, parseNetwork } from '../../src/config/index.js';

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
  it.each(['10', '0x0a.0.0.1', '010.0.0.1', '1.2.3', '10.0.0.0/33', '::/129', 'fe80::1%eth0', '10.0.0.0/', '10.0.0.0/a', ''])('rejects %j', (s) => {
    expect(parseNetwork(s)).toBeUndefined();
  });
  it.each([
    ['10.0.0.0/8', 104],
    ['1.2.3.4', 128],
    ['2001:db8::/32', 32],
    ['::', 128],
  ])('%s spans %i bits of the 128-bit space', (s, bits) => {
    expect(parseNetwork(s)?.bits).toBe(bits);
  });
});
