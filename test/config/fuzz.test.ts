import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ConfigError, parseConfig } from '../../src/config/index.js';

const EXAMPLE = readFileSync(new URL('../../config.example.yaml', import.meta.url), 'utf8');
const LINES = EXAMPLE.split('\n');

/** parseConfig either returns a config or throws a ConfigError whose every line has a file:line prefix. */
function onlyConfigErrors(text: string): void {
  try {
    parseConfig(text, 'f.yaml');
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    expect(err.issues.length).toBeGreaterThan(0);
    for (const line of err.message.split('\n')) expect(line).toMatch(/^f\.yaml:\d+ /);
  }
}

type Json = unknown;
const anyValue: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom('', '*', '10.0.0.0/8', 'https://x', '::1', '#x', 'a,b', null, -1, 0, 1e9, 1.5, true),
);

/** Mutation at a random path of the example's object: replace, delete, or add a key. */
function mutate(doc: Json, path: number[], op: number, value: Json, key: string): Json {
  const clone = structuredClone(doc) as Record<string, unknown>;
  let node: unknown = clone;
  for (const step of path) {
    if (node === null || typeof node !== 'object') break;
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const k = keys[step % keys.length] as string;
    const child = (node as Record<string, unknown>)[k];
    if (child === null || typeof child !== 'object' || op % 3 === 0) {
      if (op % 3 === 0) delete (node as Record<string, unknown>)[k];
      else (node as Record<string, unknown>)[k] = value;
      return clone;
    }
    node = child;
  }
  if (node !== null && typeof node === 'object') (node as Record<string, unknown>)[key] = value;
  return clone;
}

describe('parseConfig never throws anything but ConfigError', () => {
  it('on structural mutations of the example', () => {
    const base = parse(EXAMPLE) as Json;
    fc.assert(
      fc.property(fc.array(fc.nat(20), { maxLength: 5 }), fc.nat(), anyValue, fc.string({ maxLength: 12 }), (path, op, value, key) => {
        onlyConfigErrors(stringify(mutate(base, path, op, value, key)));
      }),
      { numRuns: 400 },
    );
  });

  it('on line-level edits of the example text', () => {
    const edit = fc.record({
      line: fc.nat(LINES.length - 1),
      kind: fc.constantFrom('delete', 'duplicate', 'indent', 'dedent', 'insert', 'truncate'),
      text: fc.string({ maxLength: 20 }),
    });
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
        const lines = [...LINES];
        for (const e of edits) {
          const at = e.line % Math.max(1, lines.length);
          const cur = lines[at] ?? '';
          if (e.kind === 'delete') lines.splice(at, 1);
          else if (e.kind === 'duplicate') lines.splice(at, 0, cur);
          else if (e.kind === 'indent') lines[at] = `  ${cur}`;
          else if (e.kind === 'dedent') lines[at] = cur.replace(/^ {1,2}/, '');
          else if (e.kind === 'insert') lines.splice(at, 0, e.text);
          else lines[at] = cur.slice(0, e.text.length);
        }
        onlyConfigErrors(lines.join('\n'));
      }),
      { numRuns: 400 },
    );
  });

  it('on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200, unit: 'binary' }), (text) => onlyConfigErrors(text)),
      { numRuns: 300 },
    );
  });

  // A billion-laughs document is refused rather than expanded.
  it('on alias bombs', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 9; i++)
      bomb.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(97 + i)}`)
          .join(',')}]`,
      );
    expect(() => parseConfig(bomb.join('\n'), 'f.yaml')).toThrow(/^f\.yaml:1 YAML: Excessive alias count/);
  });
});
