import { describe, expect, it } from 'vitest';
import { MASK, secretMasker, wireForms, xmlEscaped } from '../../src/util/mask.js';

const PASSWORD = `Zq7&<pa ss>"+%2F/='Zq7`;

describe('xmlEscaped', () => {
  it('writes the five predefined entities and nothing else', () => {
    expect(xmlEscaped(`<&>"'`)).toBe('&lt;&amp;&gt;&quot;&apos;');
    expect(xmlEscaped('&amp; stays escaped once more')).toBe('&amp;amp; stays escaped once more');
    expect(xmlEscaped('plain %26 + =')).toBe('plain %26 + =');
  });
});

describe('wireForms', () => {
  it('gives raw, XML-escaped, URL- and form-encoded spellings, without repeats', () => {
    expect(wireForms(PASSWORD)).toEqual([
      PASSWORD,
      'Zq7&amp;&lt;pa ss&gt;&quot;+%2F/=&apos;Zq7',
      encodeURIComponent(PASSWORD),
      new URLSearchParams({ p: PASSWORD }).toString().slice(2),
    ]);
    expect(wireForms('plain')).toEqual(['plain']);
  });
});

describe('secretMasker', () => {
  it('masks every wire form of every secret, longest first', () => {
    const mask = secretMasker(PASSWORD, '');
    for (const form of wireForms(PASSWORD)) expect(mask(`a ${form} b`)).toBe(`a ${MASK} b`);
    expect(mask('nothing secret')).toBe('nothing secret');
  });

  it('masks a secret contained in a longer one as part of the longer one', () => {
    const mask = secretMasker('abc', 'xxabcxx');
    expect(mask('1 xxabcxx 2 abc')).toBe(`1 ${MASK} 2 ${MASK}`);
  });

  it('with no secrets (or only empty ones) changes nothing', () => {
    expect(secretMasker()('a b')).toBe('a b');
    expect(secretMasker('')('a b')).toBe('a b');
  });
});
