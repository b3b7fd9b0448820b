/**
 * Log path patterns (glob mode, issue 13), pure: `/var/log/remote/*\/fail2ban.log` names one log
 * file per host, and the host is what the FIRST `*` matched (the source name).
 *
 * Only `*` is a wildcard, and only within one path segment: it never matches '/', never an empty
 * string and never text starting with '.' (hidden files and directories, and editors' or rsyslog's
 * temporary files, are not logs). `**`, `?`, `[...]` and `{...}` are refused with a clear error
 * rather than taken literally: a user who writes them expects them to work.
 *
 * The walking of directories lives in walk.ts; the choice of which matching files become sources
 * (compressed and rotated files never do) in select.ts.
 */

export class PatternError extends Error {
  readonly code = 'BAD_LOG_PATTERN';
  readonly retryable = false;

  constructor(
    readonly pattern: string,
    why: string,
  ) {
    super(`log path pattern ${JSON.stringify(pattern)}: ${why}`);
    this.name = 'PatternError';
  }
}

/** One path segment of a pattern: either a literal name or a matcher with one group per `*`. */
export type Segment = { literal: string } | { re: RegExp };

export interface LogPattern {
  readonly text: string;
  /** The literal directory before the first segment holding a `*` ('/' at least). */
  readonly root: string;
  /** The segments after `root`; the first one holds a `*`. */
  readonly segments: readonly Segment[];
}

/** The pattern mode is chosen by the presence of a `*`; anything else is a single log path. */
export function isLogPattern(path: string): boolean {
  return path.includes('*');
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** A `*`: one or more characters, no '/', not starting with '.'. Lazy: the first `*` of a segment takes the shortest match. */
const STAR = '((?!\\.)[^/]+?)';

/** Throws PatternError naming what is wrong. */
export function parseLogPattern(text: string): LogPattern {
  const fail = (why: string): never => {
    throw new PatternError(text, why);
  };
  if (!text.startsWith('/')) fail('must be an absolute path (starting with "/")');
  if (!text.includes('*')) fail('has no `*` (a path without one is followed as a single log)');
  if (text.includes('**')) fail('`**` is not supported: a `*` matches within one path segment only');
  const other = /[?[\]{}\\]/.exec(text);
  if (other) fail(`only \`*\` is a wildcard; "${other[0]}" is not supported`);
  const parts = text.slice(1).split('/');
  if (parts.some((p) => p === '')) fail('has an empty path segment ("//" or a trailing "/")');
  if (parts.some((p) => p === '.' || p === '..')) fail('has a "." or ".." segment; write the path without them');
  const first = parts.findIndex((p) => p.includes('*'));
  const root = '/' + parts.slice(0, first).join('/');
  const segments = parts
    .slice(first)
    .map((p): Segment => (p.includes('*') ? { re: new RegExp(`^${p.split('*').map(escapeRe).join(STAR)}$`) } : { literal: p }));
  return { text, root, segments };
}

/** What every `*` matched, in order; null when `path` does not match the pattern. */
export function matchPath(pattern: LogPattern, path: string): string[] | null {
  const prefix = pattern.root === '/' ? '/' : `${pattern.root}/`;
  if (!path.startsWith(prefix)) return null;
  const parts = path.slice(prefix.length).split('/');
  if (parts.length !== pattern.segments.length) return null;
  const captures: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const seg = pattern.segments[i] as Segment;
    const part = parts[i] as string;
    if ('literal' in seg) {
      if (part !== seg.literal) return null;
      continue;
    }
    const m = seg.re.exec(part);
    if (!m) return null;
    captures.push(...m.slice(1).map((c) => c ?? ''));
  }
  return captures;
}

/** Whether `segment` (one name in a directory) matches the pattern's segment `i`. */
export function segmentMatches(seg: Segment, name: string): boolean {
  return 'literal' in seg ? seg.literal === name : seg.re.test(name);
}

/** The source a matching path belongs to (what the first `*` matched); null if it does not match. */
export function sourceOf(pattern: LogPattern, path: string): string | null {
  const captures = matchPath(pattern, path);
  return captures?.[0] ?? null;
}
