/**
 * Jail globs: `*` (any run), `?` (one character), `[abc]`, `[a-z]`, `[!abc]` / `[^abc]`, and `\x`
 * for a literal. Matched against the whole jail name, case-sensitively like fail2ban's names.
 */

const cache = new Map<string, RegExp>();

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Throws RangeError on a malformed pattern (unterminated `[`, trailing `\`). */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '\\') {
      const next = pattern[++i];
      if (next === undefined) throw new RangeError('pattern ends with a lone "\\"');
      re += escapeRe(next);
    } else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) throw new RangeError('"[" without a closing "]"');
      let body = pattern.slice(i + 1, close);
      let negate = false;
      if (body.startsWith('!') || body.startsWith('^')) {
        negate = true;
        body = body.slice(1);
      }
      if (body === '') throw new RangeError('empty character class "[]"');
      // Keep `a-z` ranges, escape everything else so the class cannot break out.
      const cls = body.replace(/[\\\]^[]/g, '\\$&');
      re += `[${negate ? '^' : ''}${cls}]`;
      i = close;
    } else re += escapeRe(c);
  }
  try {
    return new RegExp(`^${re}$`);
  } catch {
    throw new RangeError('invalid character class (a range out of order?)');
  }
}

export function jailMatches(patterns: readonly string[], jail: string): boolean {
  for (const p of patterns) {
    let re = cache.get(p);
    if (!re) {
      re = globToRegExp(p);
      cache.set(p, re);
    }
    if (re.test(jail)) return true;
  }
  return false;
}
