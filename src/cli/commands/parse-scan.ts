/**
 * The core of `parse`: no I/O, so it can be driven by a file, stdin or a benchmark.
 *
 * The lines are scanned by a small WebAssembly module (wasm/parse-scan.ts, built into
 * parse-scan.wasm.ts): it finds the lines, dismisses those that cannot be events (mayBeEvent), and
 * formats fail2ban's common event shapes straight from the bytes. Every line it does not fully
 * recognise is handed back here, decoded and run through parseLine and the string formatters. The
 * module only ever accepts a line whose generic result it reproduces byte for byte
 * (test/cli/parse-scan.test.ts); it is WebAssembly rather than JavaScript because the same scan in
 * JavaScript spent longer in V8's warm-up than in its steady state (bench/RESULTS.md).
 */
import { isAscii } from 'node:buffer';
import { mayBeEvent, parseLine } from '../../parser/index.js';
import type { F2bEvent } from '../../parser/types.js';
import { PARSE_SCAN_WASM } from './parse-scan.wasm.js';

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
 * on every chunk).
 */
export class OutBuffer {
  private buf: Buffer;
  private pos = 0;

  constructor(
    private readonly emit: (full: Buffer) => void,
    private readonly alloc: () => Buffer,
  ) {
    this.buf = alloc();
  }

  /** Encodes at once (no string joining). */
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

  /** Copies src[from, to) in. */
  pushBytes(src: Buffer, from: number, to: number): void {
    while (from < to) {
      if (this.pos === this.buf.length) this.handOff();
      const n = Math.min(to - from, this.buf.length - this.pos);
      src.copy(this.buf, this.pos, from, from + n);
      this.pos += n;
      from += n;
    }
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

/** The module's constants (wasm/parse-scan.ts): scan's answers and flags, state words, region sizes. */
const CONSTS = ['DONE', 'DECLINED', 'OUT_FULL', 'FLAG_JSON', 'FLAG_RAW', 'S_OUT', 'S_LINES', 'S_EVENTS', 'S_STOP', 'S_STOP_NL', 'IN_CAP', 'IN_PAD', 'OUT_CAP'] as const;
type Consts = Record<(typeof CONSTS)[number], number>;

/** What the module exports. */
interface ScanExports {
  memory: WebAssembly.Memory;
  init(): void;
  statePtr(): number;
  inPtr(): number;
  outPtr(): number;
  scan(from: number, to: number, flags: number): number;
}

let compiled: { module: WebAssembly.Module; k: Consts } | undefined;

/** Compiled once per process (about a millisecond), with its constants read once. */
function compile(): { module: WebAssembly.Module; k: Consts } {
  if (compiled) return compiled;
  const module = new WebAssembly.Module(Buffer.from(PARSE_SCAN_WASM, 'base64'));
  const { exports } = new WebAssembly.Instance(module, {});
  const k = Object.fromEntries(CONSTS.map((name) => [name, (exports[name] as WebAssembly.Global).value as number])) as Consts;
  return (compiled = { module, k });
}

/**
 * One instance of the module (its own memory) with views of its regions. The memory never grows
 * after init, so the views stay valid.
 */
class FastScan {
  readonly x: ScanExports;
  readonly k: Consts;
  readonly mem: Buffer;
  readonly state: Int32Array;
  readonly in: number;
  readonly out: number;

  constructor() {
    const { module, k } = compile();
    this.k = k;
    this.x = new WebAssembly.Instance(module, {}).exports as unknown as ScanExports;
    this.x.init();
    const ab = this.x.memory.buffer;
    this.mem = Buffer.from(ab);
    this.state = new Int32Array(ab, this.x.statePtr(), 8);
    this.in = this.x.inPtr();
    this.out = this.x.outPtr();
  }

  flags(fmt: Format): number {
    return (fmt.json ? this.k.FLAG_JSON : 0) | (fmt.raw ? this.k.FLAG_RAW : 0);
  }

  /** Copies the block of complete lines (at most IN_CAP bytes) into the module's input region. */
  load(block: Buffer, from: number, to: number): void {
    block.copy(this.mem, this.in, from, to);
    this.mem.fill(0, this.in + to - from, this.in + to - from + this.k.IN_PAD);
  }
}

/** Feeds complete lines to the module and the generic parser; counts into `totals`. */
export class Scanner {
  private carry: Buffer | undefined;
  private readonly format: (e: F2bEvent) => string;
  private readonly fast = new FastScan();
  private readonly flags: number;
  /**
   * How the current block's lines decode: pure ASCII (the usual case) as latin1, the same string
   * several times cheaper than UTF-8. Asked only when a line of the block needs decoding.
   */
  private encoding: BufferEncoding | undefined;

  constructor(
    private readonly out: OutBuffer,
    readonly totals: Totals,
    fmt: Format,
  ) {
    this.format = fmt.json ? (e) => jsonLine(e, fmt.raw) : (e) => textLine(e, fmt.raw);
    this.flags = this.fast.flags(fmt);
  }

  /**
   * One chunk of input. Works on the bytes of complete lines (a newline byte never occurs inside
   * a UTF-8 sequence, so no decoder state is carried); only the line that straddles the chunk
   * boundary is copied here, since a file's chunks share one buffer that the next read overwrites.
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

  /** `block` ends with a newline; it goes to the module in pieces of whole lines that fit its input. */
  private block(block: Buffer): void {
    this.encoding = undefined;
    const cap = this.fast.k.IN_CAP;
    for (let from = 0; from < block.length; ) {
      let to = block.length;
      if (to - from > cap) {
        to = block.lastIndexOf(10, from + cap - 1) + 1;
        if (to <= from) {
          // One line longer than the module's input (megabytes): the generic path alone.
          const nl = block.indexOf(10, from);
          this.totals.lines++;
          if (mayBeEvent(block, from, nl)) this.generic(block, from, nl);
          from = nl + 1;
          continue;
        }
      }
      this.piece(block, from, to);
      from = to;
    }
  }

  private piece(block: Buffer, from: number, to: number): void {
    const { fast, totals } = this;
    const { DONE, DECLINED, OUT_FULL, S_STOP, S_STOP_NL, S_LINES, S_EVENTS } = fast.k;
    const st = fast.state;
    fast.load(block, from, to);
    for (let pos = 0; ; ) {
      const r = fast.x.scan(pos, to - from, this.flags);
      if (r === DONE) break;
      if (r === OUT_FULL) {
        this.drain();
        pos = st[S_STOP] as number;
        continue;
      }
      if (r !== DECLINED) throw new Error(`parse-scan module: unexpected answer ${r}`);
      const s = st[S_STOP] as number;
      const nl = st[S_STOP_NL] as number;
      this.generic(block, from + s, from + nl);
      pos = nl + 1;
    }
    totals.lines += st[S_LINES] as number;
    totals.events += st[S_EVENTS] as number;
    st[S_LINES] = 0;
    st[S_EVENTS] = 0;
    this.drain();
  }

  /** The line block[s, nl) through parseLine; its output goes after the module's. */
  private generic(block: Buffer, s: number, nl: number): void {
    const t = this.totals;
    this.encoding ??= isAscii(block) ? 'latin1' : 'utf8';
    const r = parseLine(block.toString(this.encoding, s, nl));
    if (r.kind === 'event') {
      t.events++;
      this.drain();
      this.out.pushText(this.format(r.event));
    } else if (r.kind === 'rejected') {
      t.rejected++;
      t.reasons.set(r.reason, (t.reasons.get(r.reason) ?? 0) + 1);
    }
  }

  /** Moves the module's output into `out`. */
  private drain(): void {
    const { state: st, k } = this.fast;
    const n = st[k.S_OUT] as number;
    if (n === 0) return;
    // The module keeps room for a whole line before it writes one; past its region it would have
    // written over memory that is not its own.
    if (n > k.OUT_CAP) throw new Error(`parse-scan module: output overran its region (${n} bytes)`);
    this.out.pushBytes(this.fast.mem, this.fast.out, this.fast.out + n);
    st[k.S_OUT] = 0;
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

/** What the module makes of one line: written by it, certainly no event, or left to parseLine. */
export type FastResult = 'written' | 'not-event' | 'declined';

let testScan: FastScan | undefined;

/** Runs one line (without its newline) through the module alone; for tests. */
export function fastLine(line: Buffer, fmt: Format): { result: FastResult; out: string } {
  const fast = (testScan ??= new FastScan());
  fast.state.fill(0);
  const block = Buffer.concat([line, NEWLINE]);
  const { DONE, DECLINED, S_OUT, S_EVENTS, IN_CAP } = fast.k;
  if (block.length > IN_CAP) return { result: 'declined', out: '' };
  fast.load(block, 0, block.length);
  const r = fast.x.scan(0, block.length, fast.flags(fmt));
  const out = fast.mem.toString('utf8', fast.out, fast.out + (fast.state[S_OUT] as number));
  if (r === DECLINED) return { result: 'declined', out };
  if (r !== DONE) throw new Error(`parse-scan module: unexpected answer ${r}`);
  return { result: fast.state[S_EVENTS] === 1 ? 'written' : 'not-event', out };
}
