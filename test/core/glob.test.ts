import { describe, expect, it } from 'vitest';
import { globToRegExp, jailMatches } from '../../src/core/glob.js';

describe('jailMatches', () => {
  const table: [string[], string, boolean][] = [
    [['*'], 'sshd', true],
    [['*'], '', true],
    [['sshd'], 'sshd', true],
    [['sshd'], 'sshd-ddos', false],
    [['sshd'], 'xsshd', false],
    [['sshd*'], 'sshd-ddos', true],
    [['nginx-*'], 'nginx-http-auth', true],
    [['nginx-*'], 'apache-auth', false],
    [['?ostfix'], 'postfix', true],
    [['?ostfix'], 'ostfix', false],
    [['[ps]shd'], 'sshd', true],
    [['[ps]shd'], 'xshd', false],
    [['[!p]shd'], 'sshd', true],
    [['[^s]shd'], 'sshd', false],
    [['jail[0-9]'], 'jail7', true],
    [['jail[0-9]'], 'jailx', false],
    [['a.b'], 'axb', false],
    [['a.b'], 'a.b', true],
    [['a+b'], 'aab', false],
    [['a\\*'], 'a*', true],
    [['a\\*'], 'ab', false],
    [['(x|y)'], 'x', false],
    [['SSHD'], 'sshd', false],
    [['apache', 'sshd'], 'sshd', true],
    [[], 'sshd', false],
  ];
  it.each(table)('%j ~ %j → %s', (patterns, jail, expected) => {
    expect(jailMatches(patterns, jail)).toBe(expected);
  });

  it.each(['[abc', 'x\\', '[]', '[z-a]'])('rejects the malformed pattern %j', (p) => {
    expect(() => globToRegExp(p)).toThrow(RangeError);
  });
});
