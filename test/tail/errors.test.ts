import { describe, expect, it } from 'vitest';

import { TailError, tailError } from '../../src/tail/errors.js';

function fsError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: raw node message`), { code });
}

describe('tailError', () => {
  it.each([
    ['EACCES', 'cannot read /var/log/fail2ban.log: permission denied (EACCES)', true],
    ['ENOENT', 'cannot read /var/log/fail2ban.log: no such file or directory (ENOENT)', true],
    ['EISDIR', 'cannot read /var/log/fail2ban.log: is a directory (EISDIR)', false],
    ['ENOTDIR', 'cannot read /var/log/fail2ban.log: a component of the path is not a directory (ENOTDIR)', false],
    ['EWEIRD', 'cannot read /var/log/fail2ban.log: EWEIRD: raw node message (EWEIRD)', true],
  ])('%s', (code, message, retryable) => {
    const cause = fsError(code);
    const e = tailError('/var/log/fail2ban.log', cause);
    expect(e).toBeInstanceOf(TailError);
    expect(e.message).toBe(message);
    expect(e).toMatchObject({ code, path: '/var/log/fail2ban.log', retryable, cause, name: 'TailError' });
  });

  it('passes a TailError through unchanged', () => {
    const e = new TailError('x', { code: 'EISDIR', path: '/p', retryable: false });
    expect(tailError('/other', e)).toBe(e);
  });
});
