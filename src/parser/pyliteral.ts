/**
 * A reader for the Python literals `fail2ban-client` prints (repr of lists, dicts, strings, ints):
 * `[{'sshd': ['192.0.2.10', "it's"]}]`. Not JSON (single quotes, repr escapes), and never eval'd.
 */
import { ClientOutputError } from './errors.js';

export type PyValue = string | number | boolean | null | PyValue[] | Map<string | number, PyValue>;

/** Parses one Python literal (surrounding whitespace allowed). Throws ClientOutputError. */
export function parsePyLiteral(text: string): PyValue {
  const r = new Reader(text);
  r.ws();
  const v = r.value(0);
  r.ws();
  if (r.i !== text.length) r.fail('unexpected text after the value');
  return v;
}

const MAX_DEPTH = 64;

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  n: '\n',
  t: '\t',
  r: '\r',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  '\n': '',
};

class Reader {
  i = 0;
  constructor(readonly s: string) {}

  fail(what: string): never {
    throw new ClientOutputError(`cannot read Python literal at offset ${this.i}: ${what}`);
  }

  ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i] as string)) this.i++;
  }

  value(depth: number): PyValue {
    if (depth > MAX_DEPTH) this.fail('nested too deeply');
    const c = this.s[this.i];
    switch (c) {
      case '[':
        return this.seq(']', depth);
      case '(':
        return this.seq(')', depth);
      case '{':
        return this.dict(depth);
      case "'":
      case '"':
        return this.str();
      default:
        if (c !== undefined && /[-+\d]/.test(c)) return this.int();
        for (const [word, v] of [
          ['None', null],
          ['True', true],
          ['False', false],
        ] as const) {
          if (this.s.startsWith(word, this.i)) {
            this.i += word.length;
            return v;
          }
        }
        return this.fail(c === undefined ? 'unexpected end' : `unexpected ${JSON.stringify(c)}`);
    }
  }

  private seq(close: string, depth: number): PyValue[] {
    this.i++;
    const out: PyValue[] = [];
    for (;;) {
      this.ws();
      if (this.s[this.i] === close) {
        this.i++;
        return out;
      }
      out.push(this.value(depth + 1));
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== close) this.fail(`expected "," or "${close}"`);
    }
  }

  private dict(depth: number): Map<string | number, PyValue> {
    this.i++;
    const out = new Map<string | number, PyValue>();
    for (;;) {
      this.ws();
      if (this.s[this.i] === '}') {
        this.i++;
        return out;
      }
      const key = this.value(depth + 1);
      if (typeof key !== 'string' && typeof key !== 'number') this.fail('dict key must be a string or an int');
      this.ws();
      if (this.s[this.i] !== ':') this.fail('expected ":"');
      this.i++;
      this.ws();
      out.set(key, this.value(depth + 1));
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== '}') this.fail('expected "," or "}"');
    }
  }

  private int(): number {
    const m = /^[-+]?\d+/.exec(this.s.slice(this.i, this.i + 32));
    if (!m) this.fail('expected a number');
    this.i += m[0].length;
    const n = Number(m[0]);
    if (!Number.isSafeInteger(n)) this.fail('integer out of range');
    return n;
  }

  private str(): string {
    const q = this.s[this.i];
    this.i++;
    let out = '';
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined || c === '\n') this.fail('unterminated string');
      this.i++;
      if (c === q) return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.s[this.i];
      if (e === undefined) this.fail('unterminated string');
      this.i++;
      const simple = SIMPLE_ESCAPES[e];
      if (simple !== undefined) out += simple;
      else if (e === 'x') out += this.hex(2);
      else if (e === 'u') out += this.hex(4);
      else if (e === 'U') out += this.hex(8);
      else if (/[0-7]/.test(e)) {
        let oct = e;
        while (oct.length < 3 && /[0-7]/.test(this.s[this.i] ?? '')) oct += this.s[this.i++];
        out += String.fromCodePoint(parseInt(oct, 8));
      } else out += `\\${e}`; // Python keeps unknown escapes verbatim
    }
  }

  private hex(n: number): string {
    const h = this.s.slice(this.i, this.i + n);
    if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(h)) this.fail('bad escape');
    this.i += n;
    const cp = parseInt(h, 16);
    if (cp > 0x10ffff) this.fail('bad escape');
    return String.fromCodePoint(cp);
  }
}
