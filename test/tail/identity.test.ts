import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';

import { HEAD_BYTES, canResume, hashHead, headLength, sameFile, type FileIdentity } from '../../src/tail/identity.js';

const A = hashHead(Buffer.from('2026-11-25 04:40:35,658 fail2ban.server [11071]: INFO'));
const B = hashHead(Buffer.from('2026-11-25 04:41:06,887 fail2ban.server [11071]: INFO'));

describe('sameFile', () => {
  const base: FileIdentity = { dev: 2049, ino: 2146530, head: A };
  it.each<[string, FileIdentity, boolean]>([
    ['identical', { ...base }, true],
    ['other inode', { ...base, ino: 2147114 }, false],
    ['other device, same inode', { ...base, dev: 2050 }, false],
    // The rotation capture: logrotate's new file got the inode of the file it had just gzipped.
    ['inode reused by a new file (different first bytes)', { ...base, head: B }, false],
  ])('%s', (_name, other, expected) => {
    expect(sameFile(base, other)).toBe(expected);
    expect(sameFile(other, base)).toBe(expected);
  });
});

describe('canResume', () => {
  const cp = { path: '/var/log/fail2ban.log', dev: 1, ino: 7, offset: 1000, head: A };
  it.each<[string, { dev: number; ino: number; head: string; size: number }, boolean]>([
    ['same file, grown', { dev: 1, ino: 7, head: A, size: 5000 }, true],
    ['same file, nothing new', { dev: 1, ino: 7, head: A, size: 1000 }, true],
    ['same inode but shorter: truncated or reused', { dev: 1, ino: 7, head: A, size: 999 }, false],
    ['same inode, other first bytes: reused', { dev: 1, ino: 7, head: B, size: 5000 }, false],
    ['other inode', { dev: 1, ino: 8, head: A, size: 5000 }, false],
  ])('%s', (_name, file, expected) => {
    expect(canResume(cp, file)).toBe(expected);
  });
});

describe('head hash', () => {
  it('covers min(256, offset) bytes, so it is stable while a short file grows', () => {
    expect([0, 1, 100, 255, 256, 257, 10_000].map(headLength)).toEqual([0, 1, 100, 255, 256, 256, 256]);
    expect(HEAD_BYTES).toBe(256);
    expect(hashHead(Buffer.from('abc'))).toBe(createHash('sha256').update('abc').digest('hex'));
  });
});
