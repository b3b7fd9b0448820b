// The one source-name rule: the tailer, the model, the state file and the CLI all use it.
import { describe, expect, it } from 'vitest';
import { SOURCE_NAME, isValidSourceName } from '../../src/core/source-name.js';

describe('source names', () => {
  it('a valid name: no whitespace, no "/", not empty', () => {
    expect(isValidSourceName('web1')).toBe(true);
    expect(isValidSourceName('10.0.0.7')).toBe(true);
    expect(isValidSourceName('web 1')).toBe(false);
    expect(isValidSourceName('web\t1')).toBe(false);
    expect(isValidSourceName('a/b')).toBe(false);
    expect(isValidSourceName('')).toBe(false);
  });

  it("SOURCE_NAME also takes the unnamed source ''", () => {
    expect(SOURCE_NAME.test('')).toBe(true);
    expect(SOURCE_NAME.test('web1')).toBe(true);
    expect(SOURCE_NAME.test('a/b')).toBe(false);
    expect(SOURCE_NAME.test('web 1')).toBe(false);
  });
});
