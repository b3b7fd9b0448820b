import { describe, expect, it } from 'vitest';

import { isValidSourceName } from '../../src/core/source-name.js';
import { PatternError, isLogPattern, matchPath, parseLogPattern, sourceOf } from '../../src/tail/pattern.js';

describe('parseLogPattern', () => {
  it('splits the literal root from the segments after the first wildcard', () => {
    const p = parseLogPattern('/var/log/remote/*/fail2ban.log');
    expect(p.root).toBe('/var/log/remote');
    expect(p.segments).toHaveLength(2);
    expect(p.segments[1]).toEqual({ literal: 'fail2ban.log' });
    expect(parseLogPattern('/*.log').root).toBe('/');
  });

  it.each([
    ['var/log/*.log', 'absolute'],
    ['/var/log/fail2ban.log', 'no `*`'],
    ['/var/log/**/fail2ban.log', '`**` is not supported'],
    ['/var/log/web?/*.log', '"?" is not supported'],
    ['/var/log/[ab]*/fail2ban.log', '"[" is not supported'],
    ['/var/log/{a,b}/*.log', '"{" is not supported'],
    ['/var/log//*.log', 'empty path segment'],
    ['/var/log/*/', 'empty path segment'],
    ['/var/log/../*.log', '".."'],
  ])('refuses %s (%s)', (text, why) => {
    let err: unknown;
    try {
      parseLogPattern(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PatternError);
    expect((err as PatternError).message).toContain(why);
    expect((err as PatternError).code).toBe('BAD_LOG_PATTERN');
    expect((err as PatternError).retryable).toBe(false);
  });

  it('tells patterns from plain paths by the `*`', () => {
    expect(isLogPattern('/var/log/remote/*.log')).toBe(true);
    expect(isLogPattern('/var/log/fail2ban.log')).toBe(false);
  });
});

describe('matchPath / sourceOf', () => {
  const dirs = parseLogPattern('/var/log/remote/*/fail2ban.log');
  const flat = parseLogPattern('/var/log/remote/*.log');
  const two = parseLogPattern('/var/log/hosts/*/f2b-*.log');

  it.each<[string, string, string | null]>([
    ['dirs', '/var/log/remote/web1/fail2ban.log', 'web1'],
    ['dirs', '/var/log/remote/10.0.0.7/fail2ban.log', '10.0.0.7'],
    ['dirs', '/var/log/remote/web1/fail2ban.log.1', null],
    ['dirs', '/var/log/remote/web1/x/fail2ban.log', null],
    ['dirs', '/var/log/remote/.tmp/fail2ban.log', null], // hidden
    ['dirs', '/var/log/remote//fail2ban.log', null], // `*` never matches an empty string
    ['dirs', '/var/log/other/web1/fail2ban.log', null],
    ['flat', '/var/log/remote/web1.log', 'web1'],
    ['flat', '/var/log/remote/web1.example.com.log', 'web1.example.com'],
    ['flat', '/var/log/remote/.log', null],
    ['flat', '/var/log/remote/.hidden.log', null],
    ['flat', '/var/log/remote/web1.log.1', null],
    ['two', '/var/log/hosts/web1/f2b-sshd.log', 'web1'],
    ['two', '/var/log/hosts/web1/f2b-.log', null],
  ])('%s: %s → %s', (which, path, source) => {
    const p = { dirs, flat, two }[which as 'dirs' | 'flat' | 'two'];
    expect(sourceOf(p, path)).toBe(source);
  });

  it('returns what every `*` matched, the first `*` of a segment taking the shortest match', () => {
    expect(matchPath(two, '/var/log/hosts/web1/f2b-sshd.log')).toEqual(['web1', 'sshd']);
    expect(matchPath(parseLogPattern('/l/*-*.log'), '/l/a-b-c.log')).toEqual(['a', 'b-c']);
  });

  it('matches a name that is no valid source name; selection refuses it (core/source-name.ts)', () => {
    expect(sourceOf(flat, '/var/log/remote/web 1.log')).toBe('web 1');
    expect(isValidSourceName('web 1')).toBe(false);
  });
});
