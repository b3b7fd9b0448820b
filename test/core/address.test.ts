// checkAddress / normalizeAddress: what a firewall may be fed. Expectations are written out by hand
// and cross-checked against the node:net + ipaddr.js oracle of helpers.ts.
import { describe, expect, it } from 'vitest';

import { addressFamily, checkAddress, ipv4Value, normalizeAddress } from '../../src/core/address.js';
import { oracleAddress } from '../parser/helpers.js';

describe('valid IDs and their normal form', () => {
  const table: Array<[string, string, 'IPv4' | 'IPv6']> = [
    ['192.0.2.10', '192.0.2.10', 'IPv4'],
    ['0.0.0.0', '0.0.0.0', 'IPv4'],
    ['255.255.255.255', '255.255.255.255', 'IPv4'],
    ['198.51.100.0/24', '198.51.100.0/24', 'IPv4'],
    ['198.51.100.77/24', '198.51.100.0/24', 'IPv4'],
    ['203.0.113.255/25', '203.0.113.128/25', 'IPv4'],
    ['192.0.2.1/32', '192.0.2.1', 'IPv4'],
    ['10.1.2.3/0', '0.0.0.0/0', 'IPv4'],
    ['10.1.2.3/8', '10.0.0.0/8', 'IPv4'],
    ['2001:db8::10', '2001:db8::10', 'IPv6'],
    ['2001:DB8::10', '2001:db8::10', 'IPv6'],
    ['2001:0db8:0000:0000:0000:0000:0000:0042', '2001:db8::42', 'IPv6'],
    ['2001:0DB8:0:0:1:0:0:42', '2001:db8::1:0:0:42', 'IPv6'], // first of two equal runs
    ['2001:db8:0:1:0:0:0:7', '2001:db8:0:1::7', 'IPv6'], // longest run, not the first
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1', 'IPv6'], // a single zero word is not "::"
    ['::', '::', 'IPv6'],
    ['::1', '::1', 'IPv6'],
    ['fe80::', 'fe80::', 'IPv6'],
    ['2001:db8:1::/64', '2001:db8:1::/64', 'IPv6'],
    ['2001:db8:1:2:3::9/64', '2001:db8:1:2::/64', 'IPv6'],
    ['2001:db8::1/128', '2001:db8::1', 'IPv6'],
    ['2001:db8::ffff/113', '2001:db8::8000/113', 'IPv6'],
    ['::ffff:192.0.2.123', '192.0.2.123', 'IPv4'],
    ['::FFFF:c000:27b', '192.0.2.123', 'IPv4'],
    ['::ffff:192.0.2.0/120', '192.0.2.0/24', 'IPv4'],
    ['::ffff:0:0/96', '0.0.0.0/0', 'IPv4'],
    ['64:ff9b::192.0.2.1', '64:ff9b::c000:201', 'IPv6'],
    ['::192.0.2.1', '::c000:201', 'IPv6'],
  ];
  it.each(table)('%s → %s', (id, ip, family) => {
    expect(checkAddress(id)).toEqual({ ok: true, ip, family });
    expect(normalizeAddress(id)).toEqual({ ip, family });
    expect(oracleAddress(id)).toBe(ip);
  });
});

describe('rejected IDs and why', () => {
  const table: Array<[string, string]> = [
    ['', 'empty'],
    ['bad-host.example', 'hostname'],
    ['bäd-host.example', 'hostname'],
    ['localhost', 'hostname'],
    ['example.com.', 'hostname'],
    ['010.1.1.1', 'leading-zero'],
    ['192.0.2.01', 'leading-zero'],
    ['fe80::1%eth0', 'zone-id'],
    ['192.0.2.0/33', 'bad-prefix'],
    ['192.0.2.0/', 'bad-prefix'],
    ['192.0.2.0/x', 'bad-prefix'],
    ['192.0.2.0/-1', 'bad-prefix'],
    ['192.0.2.0/0024', 'bad-prefix'],
    ['2001:db8::/129', 'bad-prefix'],
    ['256.0.0.1', 'not-an-ip'],
    ['1.2.3', 'not-an-ip'],
    ['1.2.3.4.5', 'not-an-ip'],
    ['1.2.3.4 ', 'not-an-ip'],
    [' 1.2.3.4', 'not-an-ip'],
    ['1..2.3', 'not-an-ip'],
    ['1234.1.1.1', 'not-an-ip'],
    ['not_an_ip', 'not-an-ip'],
    ['2001:db8:::1', 'not-an-ip'],
    ['2001:db8::1::2', 'not-an-ip'],
    ['1:2:3:4:5:6:7:8:9', 'not-an-ip'],
    ['1:2:3:4:5:6:7', 'not-an-ip'],
    ['1:2:3:4::5:6:7:8', 'not-an-ip'],
    ['12345::1', 'not-an-ip'],
    ['g::1', 'not-an-ip'],
    [':1', 'not-an-ip'],
    ['1:', 'not-an-ip'],
    ['::ffff:1.2.3', 'not-an-ip'],
    ['::ffff:01.2.3.4', 'not-an-ip'],
    ['1.2.3.4::', 'not-an-ip'],
  ];
  it.each(table)('%j → %s', (id, reason) => {
    expect(checkAddress(id)).toEqual({ ok: false, reason });
    expect(normalizeAddress(id)).toBeUndefined();
    expect(oracleAddress(id)).toBeUndefined();
  });
});

describe('addressFamily', () => {
  it.each([
    ['192.0.2.1', 'IPv4'],
    ['198.51.100.0/24', 'IPv4'],
    ['2001:db8::1', 'IPv6'],
    ['2001:db8::/64', 'IPv6'],
    ['::ffff:192.0.2.1', 'IPv4'], // judged by its IPv4 meaning, as the parser normalises it
    ['bad-host.example', undefined],
    ['192.0.2.1/40', undefined],
    // What the pipeline's own (ipaddr.js) check used to let through: now the parser's verdict.
    ['127.1', undefined],
    ['0x7f.0.0.1', undefined],
    ['fe80::1%eth0', undefined],
  ])('%s → %s', (a, f) => expect(addressFamily(a)).toBe(f));
});

describe('ipv4Value', () => {
  it.each([
    ['0.0.0.0', 0],
    ['192.0.2.1', 0xc0000201],
    ['255.255.255.255', 0xffffffff],
    ['1.2.3', undefined],
    ['010.0.0.1', undefined],
    ['::1', undefined],
  ])('%s → %s', (text, value) => expect(ipv4Value(text)).toBe(value));
});
