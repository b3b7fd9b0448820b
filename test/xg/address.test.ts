import { describe, expect, it } from 'vitest';
import { addressFields, addressOfHost, canonical, familyOf } from '../../src/xg/address.js';

describe('address ⇄ host fields', () => {
  it.each([
    ['203.0.113.7', { family: 'IPv4', hostType: 'IP', ipAddress: '203.0.113.7' }],
    ['2001:db8::1', { family: 'IPv6', hostType: 'IP', ipAddress: '2001:db8::1' }],
    ['198.51.100.0/24', { family: 'IPv4', hostType: 'Network', ipAddress: '198.51.100.0', subnet: '255.255.255.0' }],
    ['2001:db8:1::/64', { family: 'IPv6', hostType: 'Network', ipAddress: '2001:db8:1::', subnet: '64' }],
  ])('%s', (address, fields) => {
    expect(addressFields(address)).toEqual(fields);
    expect(addressOfHost(addressFields(address))).toBe(address);
  });

  it('normalises what the firewall sends back', () => {
    expect(addressOfHost({ hostType: 'IP', ipAddress: '2001:0DB8:0000::0001' })).toBe('2001:db8::1');
    expect(addressOfHost({ hostType: 'Network', ipAddress: '10.0.0.0', subnet: '255.0.0.0' })).toBe('10.0.0.0/8');
    expect(addressOfHost({ hostType: 'IPList', ipAddress: '10.0.0.1' })).toBeUndefined();
    expect(addressOfHost({ hostType: 'System Host' })).toBeUndefined();
    expect(addressOfHost({ hostType: 'Network', ipAddress: '10.0.0.0', subnet: '255.0.255.0' })).toBeUndefined();
    expect(addressOfHost({ hostType: 'IP', ipAddress: '::ffff:192.0.2.7' })).toBe('192.0.2.7');
  });

  it("reads with the parser's strictness: lenient forms and host bits are not taken as an address", () => {
    for (const ipAddress of ['127.1', '0x7f.0.0.1', 'fe80::1%eth0', '010.0.0.1']) {
      expect(addressOfHost({ hostType: 'IP', ipAddress })).toBeUndefined();
    }
    expect(addressOfHost({ hostType: 'Network', ipAddress: '10.0.0.5', subnet: '255.0.0.0' })).toBeUndefined();
    expect(addressOfHost({ hostType: 'Network', ipAddress: '10.0.0.0/8', subnet: '255.0.0.0' })).toBeUndefined();
  });

  it('rejects what is not an address', () => {
    for (const bad of [
      '1.2.3',
      '1.2.3.4/33',
      '2001:db8::/129',
      'host.example',
      '1.2.3.4/24/1',
      '',
      '127.1',
      '0x7f.0.0.1',
      'fe80::1%eth0',
    ]) {
      expect(familyOf(bad)).toBeUndefined();
    }
    expect(() => addressFields('nope')).toThrow(RangeError);
  });
});

describe('canonical', () => {
  it('gives the parser normal form', () => {
    expect(canonical('2001:0DB8::0001')).toBe('2001:db8::1');
    expect(canonical('2001:DB8:1::/064')).toBe('2001:db8:1::/64');
    expect(canonical('203.0.113.7')).toBe('203.0.113.7');
    expect(canonical('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(canonical('198.51.100.7/24')).toBe('198.51.100.0/24');
    expect(canonical('nope')).toBeUndefined();
  });
});
