/**
 * YAML text → validated Config. Every problem is collected and reported at once as
 * `FILE:LINE KEY: MESSAGE`, the line taken from the YAML node the problem is about (its parent
 * when a key is missing), so a sysadmin fixes the whole file in one go.
 */
import { readFile } from 'node:fs/promises';
import {
  CST,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  Parser,
  parseDocument,
  type Document,
  type Node as YamlNode,
  type YAMLError,
} from 'yaml';
import { z } from 'zod';
import { describeErrno } from '../util/errno.js';
import { crossCheck } from './cross.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { ConfigSchema, type Config } from './schema.js';

type Path = readonly PropertyKey[];

export function parseConfig(text: string, file: string): Config {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const lineAt = (offset: number) => lc.linePos(offset).line;

  if (doc.errors.length > 0) {
    const openers = unclosedOpeners(text);
    throw new ConfigError(
      doc.errors.map((e) => ({ file, line: lineAt(syntaxErrorOffset(e, openers)), key: '', message: `YAML: ${firstLine(e.message)}` })),
    );
  }
  let raw: unknown;
  try {
    // maxAliasCount bounds "billion laughs" alias expansion.
    raw = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    throw new ConfigError([{ file, line: 1, key: '', message: `YAML: ${firstLine((err as Error).message)}` }]);
  }
  if (raw === null || raw === undefined) {
    throw new ConfigError([{ file, line: 1, key: '', message: 'the file is empty; see config.example.yaml' }]);
  }

  const located: { path: Path; message: string }[] = [];
  const result = ConfigSchema.safeParse(raw, { reportInput: true });
  if (!result.success) located.push(...result.error.issues.flatMap(describeIssue));
  located.push(...crossCheck(raw));
  if (located.length === 0 && result.success) return result.data;

  const issues: ConfigIssue[] = located.map((i) => ({ file, line: lineOf(doc, i.path, lineAt), key: keyOf(i.path), message: i.message }));
  issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  throw new ConfigError(dedupe(issues));
}

export async function loadConfig(file: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file, key: '', message: `cannot read the config file: ${describeErrno(err)}` }], { cause: err });
  }
  return parseConfig(text, file);
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.line}\0${i.key}\0${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** `firewalls.main.tls` / `groups[0].jails[1]`; odd keys quoted so the path stays unambiguous. */
export function keyOf(path: Path): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && /^[A-Za-z0-9_-]+$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

interface Opener {
  offset: number;
  kind: 'flow' | 'quote';
}

/**
 * `[`, `{` and quotes that are never closed. The parser notices them only where the next line
 * starts (`c: [1, 2` on line 3 is reported at line 4), but the line to fix is the opener's.
 */
function unclosedOpeners(text: string): Opener[] {
  const found: Opener[] = [];
  for (const token of new Parser().parse(text)) {
    if (token.type !== 'document') continue;
    CST.visit(token, (item) => {
      for (const t of [item.key, item.value]) {
        if (t?.type === 'flow-collection' && !t.end.some((e) => e.type === 'flow-seq-end' || e.type === 'flow-map-end')) {
          found.push({ offset: t.offset, kind: 'flow' });
        } else if ((t?.type === 'double-quoted-scalar' || t?.type === 'single-quoted-scalar') && !closedQuote(t.source)) {
          found.push({ offset: t.offset, kind: 'quote' });
        }
      }
    });
  }
  return found.sort((a, b) => a.offset - b.offset);
}

function closedQuote(source: string): boolean {
  const q = source[0];
  if (source.length < 2 || !source.endsWith(q ?? '')) return false;
  // "…\\" closes, "…\"" does not: an odd run of backslashes escapes the last quote.
  if (q === '"') return (/\\*"$/.exec(source.slice(1))?.[0].length ?? 1) % 2 === 1;
  return true;
}

/** Where a syntax error is to be fixed: the unclosed opener before it, when it is about one. */
function syntaxErrorOffset(e: YAMLError, openers: readonly Opener[]): number {
  const at = e.pos[0];
  const kind = /quote/i.test(e.message) ? 'quote' : e.code === 'BAD_INDENT' || e.code === 'MISSING_CHAR' ? 'flow' : undefined;
  if (kind === undefined) return at;
  const before = openers.filter((o) => o.kind === kind && o.offset < at);
  return before.at(-1)?.offset ?? at;
}

/** Line of the node at `path`; where the path stops existing, the line of the deepest node found. */
function lineOf(doc: Document, path: Path, lineAt: (offset: number) => number): number {
  let node: unknown = doc.contents;
  let line = startLine(node, lineAt) ?? 1;
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc);
    let next: { at: unknown; value: unknown } | undefined;
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(seg));
      if (pair) next = { at: pair.key ?? pair.value, value: pair.value };
    } else if (isSeq(node) && typeof seg === 'number') {
      const item: unknown = node.items[seg];
      if (item !== undefined) next = { at: item, value: item };
    }
    if (!next) break;
    line = startLine(next.at, lineAt) ?? line;
    node = next.value;
  }
  return line;
}

function keyText(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  return String(key);
}

function startLine(node: unknown, lineAt: (offset: number) => number): number | undefined {
  const range = (node as YamlNode | null | undefined)?.range;
  return range ? lineAt(range[0]) : undefined;
}

const KIND: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  record: 'a mapping',
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
};

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'number') return Number.isInteger(v) ? 'a number' : 'a fraction';
  if (typeof v === 'object') return v instanceof Date ? 'a date' : 'a mapping';
  return `a ${typeof v}`;
}

/** One zod issue → messages in the config's own words (an unknown-key issue becomes one per key). */
function describeIssue(issue: z.core.$ZodIssue): { path: Path; message: string }[] {
  const path = issue.path;
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => ({ path: [...path, k], message: unknownKey(path, k) }));
    case 'invalid_type': {
      const expected = KIND[issue.expected] ?? issue.expected;
      if (issue.input === undefined) return [{ path, message: `missing (expected ${expected})` }];
      return [{ path, message: `expected ${expected}, got ${kindOf(issue.input)}` }];
    }
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const bound = Number(small ? (issue as z.core.$ZodIssueTooSmall).minimum : (issue as z.core.$ZodIssueTooBig).maximum);
      if (issue.origin === 'string') {
        return [
          { path, message: small && bound === 1 ? 'must not be empty' : `must be ${small ? 'at least' : 'at most'} ${bound} characters` },
        ];
      }
      if (issue.origin === 'array') {
        return [
          { path, message: small && bound === 1 ? 'must not be empty' : `must have ${small ? 'at least' : 'at most'} ${bound} entries` },
        ];
      }
      return [{ path, message: `must be ${small ? 'at least' : 'at most'} ${bound}` }];
    }
    case 'invalid_value':
      return [{ path, message: `must be one of: ${issue.values.map((v) => String(v)).join(', ')}` }];
    default:
      return [{ path, message: issue.message }];
  }
}

function unknownKey(parent: Path, key: string): string {
  if (/^pass(word)?$/i.test(key)) return 'unknown key: never put the password in the config; use passwordFile or passwordEnv';
  const allowed = allowedKeys(parent);
  const near = allowed.find((a) => a.toLowerCase() === key.toLowerCase()) ?? allowed.find((a) => editDistance(a, key) <= 2);
  return near ? `unknown key (did you mean ${near}?)` : 'unknown key';
}

/** Keys the schema accepts at `path`, found by walking the schema alongside the document. */
function allowedKeys(path: Path): string[] {
  let s: z.ZodType = ConfigSchema;
  const unwrap = (t: z.ZodType): z.ZodType => {
    let cur = t;
    while (cur instanceof z.ZodOptional || cur instanceof z.ZodDefault || cur instanceof z.ZodPrefault) cur = cur.unwrap() as z.ZodType;
    return cur;
  };
  for (const seg of path) {
    s = unwrap(s);
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, z.ZodType>)[String(seg)] ?? z.never();
    else if (s instanceof z.ZodRecord) s = s.valueType as z.ZodType;
    else if (s instanceof z.ZodArray) s = s.element as z.ZodType;
    else return [];
  }
  s = unwrap(s);
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j] as number;
      row[j] = Math.min(up + 1, (row[j - 1] as number) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length] as number;
}
