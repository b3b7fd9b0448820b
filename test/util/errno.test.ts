import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeErrno } from '../../src/util/errno.js';

describe('describeErrno', () => {
  it('names the errno code and its meaning for a real system error', () => {
    let err: unknown;
    try {
      readFileSync('/nonexistent/f2b-sophosxg-errno-test');
    } catch (e) {
      err = e;
    }
    expect(describeErrno(err)).toBe('ENOENT (no such file or directory)');
  });
  it('falls back to the code alone without an errno number, and to the message without a code', () => {
    expect(describeErrno(Object.assign(new Error('x'), { code: 'EWHATEVER' }))).toBe('EWHATEVER');
    expect(describeErrno(new Error('plain failure'))).toBe('plain failure');
    expect(describeErrno('a string')).toBe('a string');
  });
});
