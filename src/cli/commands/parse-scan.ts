/**
 * The byte-level core of `parse`: no I/O, so it can be driven by a file, stdin or a benchmark.
 *
 * Lines are found and dismissed on their bytes (mayBeEvent). The common event shape (fail2ban's
 * own format, fail2ban.actions, a ban-family verb, nothing to escape) is recognised and formatted
 * straight from the bytes into the output buffer (fastEvent); every other candidate line is
 * decoded and goes through parseLine and the string formatters. The fast path only ever accepts
 * a line whose generic result it reproduces byte for byte, and declines (falls back) otherwise.
 */
import { isAscii } from 'node:buffer';
import { checkAddress, mayBeEvent, parseLine } from '../../parser/index.js';
import { longestZeroRun } from '../../parser/ip.js';
import type { F2bEvent } from '../../parser/types.js';

export const WRITE_CHUNK = 1 << 20;

export interface Format {
  json: boolean;
  /** Include the raw line (JSON: "raw" field; text: after a tab). */
  raw: boolean;
}

export interface Totals {
  lines: number;
  events: number;
  rejected: number;
  /** Insertion order is the order of first occurrence, which the summary line keeps. */
  reasons: Map<string, number>;
}

export function newTotals(): Totals {
  return { lines: 0, events: 0, rejected: 0, reasons: new Map() };
}

export function summaryLine(t: Totals, failed: number): string {
  const reasons = [...t.reasons].map(([r, n]) => `${r} ${n}`).join(', ');
  return (
    `parse: ${t.lines} line(s), ${t.events} event(s), ${t.rejected} rejected${reasons ? ` (${reasons})` : ''}` +
    `${failed ? `, ${failed} unreadable input(s)` : ''}\n`
  );
}

/**
 * Output bytes collected in WRITE_CHUNK buffers; a full one is handed to `emit` and the next taken
 * from `alloc` (parse.ts recycles written buffers there: fresh 1 MiB allocations cost page faults
 * on every chunk). The fast path writes bytes at `pos` after `reserve`.
 */
export class OutBuffer {
  buf: Buffer;
  pos = 0;

  constructor(
    private readonly emit: (full: Buffer) => void,
    private readonly alloc: () => Buffer,
  ) {
    this.buf = alloc();
  }

  /** Encodes at once (no string joining): then `reserve`, on the fast path, has nothing to flush. */
  pushText(s: string): void {
    // 3 bytes per UTF-16 unit is the UTF-8 worst case (a surrogate pair is 4 bytes for 2 units).
    if (this.pos + s.length * 3 > this.buf.length) {
      this.handOff();
      if (s.length * 3 > this.buf.length) {
        this.emit(Buffer.from(s, 'utf8'));
        return;
      }
    }
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** Room for n (≤ WRITE_CHUNK) bytes at pos. */
  reserve(n: number): void {
    if (this.pos + n > this.buf.length) this.handOff();
  }

  /** Hands off everything collected so far. */
  finish(): void {
    this.handOff();
  }

  private handOff(): void {
    if (this.pos === 0) return;
    this.emit(this.buf.subarray(0, this.pos));
    this.buf = this.alloc();
    this.pos = 0;
  }
}

/** Feeds complete lines to the parser and the output; counts into `totals`. */
export class Scanner {
  private carry: Buffer | undefined;
  private readonly format: (e: F2bEvent) => string;

  constructor(
    private readonly out: OutBuffer,
    readonly totals: Totals,
    private readonly fmt: Format,
  ) {
    this.format = fmt.json ? (e) => jsonLine(e, fmt.raw) : (e) => textLine(e, fmt.raw);
  }

  /**
   * One chunk of input. Works on the bytes of complete lines (a newline byte never occurs inside
   * a UTF-8 sequence, so no decoder state is carried); only the line that straddles the chunk
   * boundary is copied, since a file's chunks share one buffer that the next read overwrites.
   */
  chunk(buf: Buffer): void {
    let from = 0;
    if (this.carry !== undefined) {
      const nl = buf.indexOf(10);
      if (nl < 0) {
        this.carry = Buffer.concat([this.carry, buf]);
        return;
      }
      this.block(Buffer.concat([this.carry, buf.subarray(0, nl + 1)]));
      this.carry = undefined;
      from = nl + 1;
    }
    const last = buf.lastIndexOf(10);
    if (last < from) {
      if (from < buf.length) this.carry = Buffer.from(buf.subarray(from));
      return;
    }
    if (last + 1 < buf.length) this.carry = Buffer.from(buf.subarray(last + 1));
    this.block(buf.subarray(from, last + 1));
  }

  /** End of input: a static file may end without a newline; its last line is complete here (unlike a tail). */
  end(): void {
    if (this.carry !== undefined && this.carry.length > 0) this.block(Buffer.concat([this.carry, NEWLINE]));
    this.carry = undefined;
  }

  /** `block` ends with a newline. */
  private block(block: Buffer): void {
    const t = this.totals;
    const { out, fmt } = this;
    // Pure ASCII (the usual case) decodes as latin1: same string, several times cheaper than
    // UTF-8. Only asked when a line needs decoding: the fast path checks its own bytes.
    let encoding: BufferEncoding | undefined;
    let lines = 0;
    for (let pos = 0, nl = block.indexOf(10); nl >= 0; pos = nl + 1, nl = block.indexOf(10, pos)) {
      lines++;
      if (!mayBeEvent(block, pos, nl)) continue;
      const fast = fastEvent(block, pos, nl, out, fmt);
      if (fast === WRITTEN) t.events++;
      if (fast !== DECLINED) continue;
      encoding ??= isAscii(block) ? 'latin1' : 'utf8';
      const r = parseLine(block.toString(encoding, pos, nl));
      if (r.kind === 'event') {
        t.events++;
        out.pushText(this.format(r.event));
      } else if (r.kind === 'rejected') {
        t.rejected++;
        t.reasons.set(r.reason, (t.reasons.get(r.reason) ?? 0) + 1);
      }
    }
    t.lines += lines;
  }
}

const NEWLINE = Buffer.from('\n');

export function textLine(e: F2bEvent, raw: boolean): string {
  let s = `${e.time ?? '-'} ${e.type} ${e.jail ?? '-'} ${e.ip ?? '-'}`;
  if (e.version !== undefined) s += ` v${e.version}`;
  if (raw) s += `\t${e.raw}`;
  return `${s}\n`;
}

export function jsonLine(e: F2bEvent, raw: boolean): string {
  // Hand-assembled: the fixed-charset fields (type, ip, family, times, pid) need no escaping,
  // and this runs once per event on logs of millions of lines.
  let s = `{"type":"${e.type}"`;
  if (e.jail !== undefined) s += `,"jail":${JSON.stringify(e.jail)}`;
  if (e.ip !== undefined) s += `,"ip":"${e.ip}","family":"${e.family ?? ''}"`;
  if (e.time !== undefined) s += `,"time":${JSON.stringify(e.time)}`;
  if (e.isoTime !== undefined) s += `,"isoTime":"${e.isoTime}"`;
  if (e.pid !== undefined) s += `,"pid":${e.pid}`;
  if (e.version !== undefined) s += `,"version":${JSON.stringify(e.version)}`;
  if (raw) s += `,"raw":${JSON.stringify(e.raw)}`;
  return `${s}}\n`;
}

// ---- fast path ----------------------------------------------------------------------------

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

interface Verb {
  /** The verb with its trailing space, as in the message. */
  word: Buffer;
  /** Output pieces up to the jail: JSON `{"type":"…","jail":"`, text ` … ` (after the time). */
  jsonHead: Buffer;
  textType: Buffer;
}

const verb = (word: string, type: string): Verb => ({
  word: bytes(word),
  jsonHead: bytes(`{"type":"${type}","jail":"`),
  textType: bytes(` ${type} `),
});
/** In parser order (message.ts VERBS); the first letters differ except Restore/Repeal. */
const BAN = verb('Ban ', 'ban');
const UNBAN = verb('Unban ', 'unban');
const RESTORE = verb('Restore Ban ', 'restore-ban');
const REPEAL = verb('Repeal Ban ', 'repeal-ban');
const ALREADY = verb(' already banned', 'already-banned');

const ACTIONS = bytes('fail2ban.actions');
const J_IP = bytes('","ip":"');
const J_V4 = bytes('","family":"IPv4","time":"');
const J_V6 = bytes('","family":"IPv6","time":"');
const J_ISO = bytes('","isoTime":"');
const J_PID = bytes('","pid":');
const J_RAW = bytes(',"raw":"');
const J_END_RAW = bytes('"}\n');
const J_END = bytes('}\n');
/** Offsets of the digits in "2026-11-25 04:39:52,876". */
const TIME_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22];
/** Lines longer than this take the generic path (keeps `reserve` within one buffer). */
const FAST_MAX = 1 << 14;

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/**
 * Bytes that JSON.stringify escapes, and non-ASCII ones: a line is only taken by the fast path
 * when the bytes it copies are ASCII (then byte and character offsets agree, and the copy is
 * what the generic path would encode).
 */
function needsEscape(b: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = b[i] as number;
    if (c < 32 || c === 34 || c === 92 || c > 126) return true;
  }
  return false;
}

function startsWithAt(b: Buffer, at: number, end: number, word: Buffer): boolean {
  if (at + word.length > end) return false;
  for (let k = 0; k < word.length; k++) if (b[at + k] !== word[k]) return false;
  return true;
}

/** A strict dotted quad without leading zeros spans [from, to): parseIPv4 would print it unchanged. */
function isPlainIPv4(b: Buffer, from: number, to: number): boolean {
  let p = from;
  for (let part = 0; ; part++) {
    const d = p;
    let n = 0;
    while (p < to && isDigit(b[p] as number)) n = n * 10 + (b[p++] as number) - 48;
    const len = p - d;
    if (len === 0 || len > 3 || n > 255 || (len > 1 && b[d] === 48)) return false;
    if (part === 3) return p === to;
    if (b[p] !== 46) return false;
    p++;
  }
}

const WORDS = new Int32Array(8);

/**
 * An IPv6 address in the form checkAddress prints (RFC 5952: lower case, no leading zeros, the
 * longest, first zero run of two or more words as "::"), not IPv4-mapped, spans [from, to).
 */
function isCanonicalIPv6(b: Buffer, from: number, to: number): boolean {
  let n = 0;
  let gap = -1;
  let p = from;
  if (b[p] === 58) {
    if (b[p + 1] !== 58) return false;
    gap = 0;
    p += 2;
  }
  while (p < to) {
    if (n === 8) return false;
    const d = p;
    let v = 0;
    for (; p < to; p++) {
      const c = b[p] as number;
      if (c >= 48 && c <= 57) v = v * 16 + c - 48;
      else if (c >= 97 && c <= 102) v = v * 16 + c - 87;
      else break;
    }
    const len = p - d;
    if (len === 0 || len > 4 || (len > 1 && b[d] === 48)) return false;
    WORDS[n++] = v;
    if (p === to) break;
    if (b[p++] !== 58) return false;
    if (b[p] === 58) {
      if (gap >= 0) return false;
      gap = n;
      p++;
    } else if (p === to) return false;
  }
  const fill = gap < 0 ? 0 : 8 - n;
  if (gap < 0 ? n !== 8 : fill < 2) return false;
  if (fill > 0) {
    WORDS.copyWithin(gap + fill, gap, n);
    WORDS.fill(0, gap, gap + fill);
  }
  if (WORDS[0] === 0 && WORDS[1] === 0 && WORDS[2] === 0 && WORDS[3] === 0 && WORDS[4] === 0 && WORDS[5] === 0xffff) return false;
  const best = longestZeroRun(WORDS);
  return gap < 0 ? best.start < 0 : best.start === gap && best.len === fill;
}

function put(o: OutBuffer, src: Buffer): void {
  // A builtin copy: until the JIT has optimised this code (the first megabytes), a byte loop
  // costs microseconds per line.
  o.buf.set(src, o.pos);
  o.pos += src.length;
}

function copy(o: OutBuffer, b: Buffer, from: number, to: number): void {
  const buf = o.buf;
  let p = o.pos;
  for (let k = from; k < to; k++) buf[p++] = b[k] as number;
  o.pos = p;
}

function putAscii(o: OutBuffer, s: string): void {
  const buf = o.buf;
  let p = o.pos;
  for (let k = 0; k < s.length; k++) buf[p++] = s.charCodeAt(k);
  o.pos = p;
}

/** fastEvent's answer: the generic path must decide, the event was written, or certainly no event. */
export const DECLINED = 0;
export const WRITTEN = 1;
export const NOT_EVENT = 2;
export type FastResult = typeof DECLINED | typeof WRITTEN | typeof NOT_EVENT;

/**
 * The ASCII line b[s, nl) when it is "TIME fail2ban.actions [PID]: LEVEL [JAIL] VERB ID" with a
 * valid ID: writes its output line and returns WRITTEN; with a message that does not start with
 * "[" returns NOT_EVENT. Returns DECLINED whenever anything differs
 * (other formats and loggers, no PID or one with leading zeros, characters JSON would escape,
 * rejected IDs, very long lines); the caller then runs the generic parser on the line. Each check
 * mirrors the generic path (header.ts scanFile/scanLogger/scanLevel, message.ts banFamily,
 * ip.ts checkAddress) on the subset it accepts.
 */
export function fastEvent(b: Buffer, s: number, nl: number, o: OutBuffer, fmt: Format): FastResult {
  let end = nl;
  if (b[end - 1] === 13) end--;
  const lineEnd = end;
  if (end - s > FAST_MAX || end - s < 48) return DECLINED;
  if (b[s + 4] !== 45 || b[s + 7] !== 45 || b[s + 10] !== 32 || b[s + 13] !== 58 || b[s + 16] !== 58 || b[s + 19] !== 44 || b[s + 23] !== 32)
    return DECLINED;
  for (let k = 0; k < TIME_DIGITS.length; k++) if (!isDigit(b[s + (TIME_DIGITS[k] as number)] as number)) return DECLINED;
  if (!startsWithAt(b, s + 24, end, ACTIONS)) return DECLINED;
  let i = s + 40;
  // The logger name must end here ([\w.-] would continue it: "fail2ban.actions2" is another logger).
  const c = b[i] as number;
  if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 46 || c === 45) return DECLINED;
  while (b[i] === 32) i++;
  if (b[i] !== 91) return DECLINED;
  const pidStart = ++i;
  while (i < end && isDigit(b[i] as number)) i++;
  const pidEnd = i;
  // Leading zeros would print differently as a number ("[007]" → 7).
  if (pidEnd === pidStart || pidEnd - pidStart > 10 || (b[pidStart] === 48 && pidEnd - pidStart > 1)) return DECLINED;
  if (b[i] !== 93 || b[i + 1] !== 58 || b[i + 2] !== 32) return DECLINED;
  i += 3;
  const level = i;
  while (i < end && (b[i] as number) >= 65 && (b[i] as number) <= 90) i++;
  if (i === level || i >= end || b[i] !== 32) return DECLINED;
  while (i < end && b[i] === 32) i++;
  const m = i;
  // The message is trimmed of trailing white space (ASCII here: space, \t..\r).
  while (end > m && (b[end - 1] === 32 || ((b[end - 1] as number) >= 9 && (b[end - 1] as number) <= 13))) end--;
  if (end <= m) return DECLINED;
  // From fail2ban.actions only "[JAIL] …" messages are events (message.ts classifyMessage).
  if (b[m] !== 91) return NOT_EVENT;
  let close = m + 1;
  while (close < end && b[close] !== 93) close++;
  if (close >= end || close === m + 1 || b[close + 1] !== 32 || needsEscape(b, m + 1, close)) return DECLINED;
  const rest = close + 2;
  let v: Verb;
  let idStart = rest;
  let idEnd = end;
  const v0 = b[rest];
  if (v0 === 66 && startsWithAt(b, rest, end, BAN.word)) v = BAN;
  else if (v0 === 85 && startsWithAt(b, rest, end, UNBAN.word)) v = UNBAN;
  else if (v0 === 82 && startsWithAt(b, rest, end, RESTORE.word)) v = RESTORE;
  else if (v0 === 82 && startsWithAt(b, rest, end, REPEAL.word)) v = REPEAL;
  else if (end - rest > ALREADY.word.length && startsWithAt(b, end - ALREADY.word.length, end, ALREADY.word)) {
    v = ALREADY;
    idEnd = end - ALREADY.word.length;
  } else return DECLINED;
  if (v !== ALREADY) idStart = rest + v.word.length;
  if (idStart >= idEnd) return DECLINED;
  let ip: string | undefined;
  let v6 = false;
  if (isPlainIPv4(b, idStart, idEnd)) {
    // printed as is
  } else if (isCanonicalIPv6(b, idStart, idEnd)) v6 = true;
  else {
    const a = checkAddress(b.toString('latin1', idStart, idEnd));
    // Rejections are counted by the generic path.
    if (!a.ok) return DECLINED;
    ip = a.ip;
    v6 = a.family === 'IPv6';
  }
  if (fmt.raw && needsEscape(b, s, lineEnd)) return DECLINED;
  const ipLen = ip === undefined ? idEnd - idStart : ip.length;
  o.reserve(256 + (close - m) + ipLen + (fmt.raw ? lineEnd - s + 16 : 0));
  if (fmt.json) {
    put(o, v.jsonHead);
    copy(o, b, m + 1, close);
    put(o, J_IP);
    if (ip === undefined) copy(o, b, idStart, idEnd);
    else putAscii(o, ip);
    put(o, v6 ? J_V6 : J_V4);
    copy(o, b, s, s + 23);
    put(o, J_ISO);
    copy(o, b, s, s + 10);
    o.buf[o.pos++] = 84; // T
    copy(o, b, s + 11, s + 19);
    o.buf[o.pos++] = 46; // .
    copy(o, b, s + 20, s + 23);
    put(o, J_PID);
    copy(o, b, pidStart, pidEnd);
    if (fmt.raw) {
      put(o, J_RAW);
      copy(o, b, s, lineEnd);
      put(o, J_END_RAW);
    } else put(o, J_END);
  } else {
    copy(o, b, s, s + 23);
    put(o, v.textType);
    copy(o, b, m + 1, close);
    o.buf[o.pos++] = 32;
    if (ip === undefined) copy(o, b, idStart, idEnd);
    else putAscii(o, ip);
    if (fmt.raw) {
      o.buf[o.pos++] = 9;
      copy(o, b, s, lineEnd);
    }
    o.buf[o.pos++] = 10;
  }
  return WRITTEN;
}
