// AssemblyScript: the byte-level fast path of `f2b-sophosxg parse`, compiled to WebAssembly by
// `npm run build:wasm` into src/cli/commands/parse-scan.wasm.ts (committed; a test checks that it
// is this file's build). Why WebAssembly: the same scan in JavaScript spent more time in V8's
// warm-up (interpreter, then 100+ ms of optimising compiles on a 2-core machine) than in its
// steady state. Liftoff compiles this module in about a millisecond and runs it at a steady
// 1.25 ms per MiB from the first byte, until V8 moves it to TurboFan (0.45 ms per MiB).
//
// What it does is what src/cli/commands/parse-scan.ts documents: split a block of complete lines,
// dismiss lines that cannot be events (mayBeEvent, mirrored from src/parser/index.ts), and format
// fail2ban's common event shapes straight from the bytes. Any line it does not fully recognise
// stops the scan and is handed back to JavaScript (DECLINED), which runs the generic parser on it
// and calls scan again after it. So the fast path only ever has to be right on what it accepts,
// and test/cli/parse-scan.test.ts checks that byte for byte against the generic path.
//
// Memory (one module instance per Scanner): [base, +STATE_SIZE) state words, then the input
// block (IN_CAP bytes + zero padding), then the output region (OUT_CAP). JavaScript writes the
// block, reads the output and the state words; nothing here allocates.

// The exported constants are the interface: parse-scan.ts reads them from the module.
const FAST_MAX: i32 = 1 << 14;
export const IN_CAP: i32 = (1 << 20) + (1 << 16);
/** Zeros after the block: a read past the last line sees 0, like `undefined` in JavaScript. */
export const IN_PAD: i32 = 64;
export const OUT_CAP: i32 = 1 << 20;
/** Room that must be left in the output before a fast line is formatted (long raw lines included). */
const OUT_MARGIN: i32 = 2 * FAST_MAX + 1024;
const STATE_SIZE: i32 = 64;

// State words (i32, index × 4 from base).
export const S_OUT: i32 = 0; // bytes in the output region
export const S_LINES: i32 = 1; // lines scanned since JavaScript last reset it
export const S_EVENTS: i32 = 2; // events written since JavaScript last reset it
export const S_STOP: i32 = 3; // DECLINED: start of the line (block offset); OUT_FULL: where to resume
export const S_STOP_NL: i32 = 4; // DECLINED: offset of the line's newline

/** scan's answers. */
export const DONE: i32 = 0;
export const DECLINED: i32 = 1;
export const OUT_FULL: i32 = 2;

/** Flags for scan. */
export const FLAG_JSON: i32 = 1;
export const FLAG_RAW: i32 = 2;

function base(): usize {
  return (__heap_base + 15) & ~15;
}
export function statePtr(): usize {
  return base();
}
export function inPtr(): usize {
  return base() + STATE_SIZE;
}
export function outPtr(): usize {
  return inPtr() + IN_CAP + IN_PAD;
}

/** Grows memory to hold the regions; JavaScript takes its views after this. */
export function init(): void {
  const need = <i32>((outPtr() + OUT_CAP + 0xffff) >> 16);
  const have = memory.size();
  if (have < need) memory.grow(need - have);
}

@inline function st(i: i32): i32 {
  return load<i32>(base() + (<usize>i << 2));
}
@inline function setSt(i: i32, v: i32): void {
  store<i32>(base() + (<usize>i << 2), v);
}
@inline function at(p: usize): i32 {
  return <i32>load<u8>(p);
}
@inline function isDigit(c: i32): bool {
  return c >= 48 && c <= 57;
}

/**
 * The first newline at or after p, 16 bytes at a time (the block ends with one, and the padding
 * after it makes the last 16-byte load safe). Byte by byte this loop alone took longer than grep.
 */
@inline function newline(p: usize): usize {
  const nl = i8x16.splat(10);
  let mask = i8x16.bitmask(i8x16.eq(v128.load(p), nl));
  while (mask == 0) {
    p += 16;
    mask = i8x16.bitmask(i8x16.eq(v128.load(p), nl));
  }
  return p + <usize>ctz(mask);
}

/** src/parser/index.ts mayBeEvent, on absolute addresses. */
function mayBeEvent(s: usize, end: usize): bool {
  if (end - s < 16) return false;
  const c0 = at(s);
  if (c0 < 48 || c0 > 57) {
    if (c0 >= 65 && c0 <= 90) return at(s + 3) == 32 && at(s + 9) == 58 && at(s + 12) == 58;
    return c0 == 102 || c0 == 60;
  }
  if (at(s + 10) != 32) return true;
  if (at(s + 32) != 46) return false;
  const c = at(s + 33);
  return c == 97 || c == 106 || c == 115;
}

/** True when the ASCII of `word` (a string literal) starts at p and ends by `end`. */
function startsWith(p: usize, end: usize, word: string): bool {
  const n = <usize>word.length;
  if (p + n > end) return false;
  for (let k: usize = 0; k < n; k++) if (at(p + k) != <i32>word.charCodeAt(<i32>k)) return false;
  return true;
}

/** Bytes JSON.stringify escapes, and non-ASCII ones (see parse-scan.ts needsEscape). */
function needsEscape(from: usize, to: usize): bool {
  for (let p = from; p < to; p++) {
    const c = at(p);
    if (c < 32 || c == 34 || c == 92 || c > 126) return true;
  }
  return false;
}

/** A strict dotted quad without leading zeros spans [from, to). */
function isPlainIPv4(from: usize, to: usize): bool {
  let p = from;
  for (let part = 0; ; part++) {
    const d = p;
    let n = 0;
    while (p < to && isDigit(at(p))) n = n * 10 + at(p++) - 48;
    const len = p - d;
    if (len == 0 || len > 3 || n > 255 || (len > 1 && at(d) == 48)) return false;
    if (part == 3) return p == to;
    if (at(p) != 46) return false;
    p++;
  }
  return false; // not reached: part 3 returns
}

const WORDS = memory.data(32);
@inline function word(i: i32): i32 {
  return load<i32>(WORDS + (<usize>i << 2));
}

/**
 * An IPv6 address exactly as checkAddress prints it (RFC 5952: lower case, no leading zeros,
 * the longest, first zero run of two or more words as "::"), not IPv4-mapped, spans [from, to).
 */
function isCanonicalIPv6(from: usize, to: usize): bool {
  let n = 0;
  let gap = -1;
  let p = from;
  if (at(p) == 58) {
    if (at(p + 1) != 58) return false;
    gap = 0;
    p += 2;
  }
  while (p < to) {
    if (n == 8) return false;
    const d = p;
    let v = 0;
    for (; p < to; p++) {
      const c = at(p);
      if (c >= 48 && c <= 57) v = v * 16 + c - 48;
      else if (c >= 97 && c <= 102) v = v * 16 + c - 87;
      else break;
    }
    const len = p - d;
    if (len == 0 || len > 4 || (len > 1 && at(d) == 48)) return false;
    store<i32>(WORDS + (<usize>n << 2), v);
    n++;
    if (p == to) break;
    if (at(p++) != 58) return false;
    if (at(p) == 58) {
      if (gap >= 0) return false;
      gap = n;
      p++;
    } else if (p == to) return false;
  }
  const fill = gap < 0 ? 0 : 8 - n;
  if (gap < 0 ? n != 8 : fill < 2) return false;
  if (fill > 0) {
    for (let i = n - 1; i >= gap; i--) store<i32>(WORDS + (<usize>(i + fill) << 2), word(i));
    for (let i = gap; i < gap + fill; i++) store<i32>(WORDS + (<usize>i << 2), 0);
  }
  if (word(0) == 0 && word(1) == 0 && word(2) == 0 && word(3) == 0 && word(4) == 0 && word(5) == 0xffff) return false;
  // src/parser/ip.ts longestZeroRun
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (word(i) != 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && word(j) == 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  return gap < 0 ? best < 0 : best == gap && bestLen == fill;
}

// ---- output ------------------------------------------------------------------------------

let op: usize = 0;

/**
 * n bytes from src to the output, 16 at a time: it may read up to 15 bytes past src + n (the
 * input and the literals have padding) and write up to 15 past op + n (overwritten by what
 * follows, and OUT_MARGIN leaves room). Lines are short, so this beats a byte loop and memory.copy.
 */
@inline function copy(src: usize, n: usize): void {
  for (let k: usize = 0; k < n; k += 16) v128.store(op + k, v128.load(src + k));
  op += n;
}
@inline function copyRange(from: usize, to: usize): void {
  copy(from, to - from);
}
@inline function putByte(c: i32): void {
  store<u8>(op, <u8>c);
  op++;
}

/** Output literals: a length byte, the ASCII, 16 bytes of padding for copy's over-read. */
const LITS = memory.data(1024);
let litEnd: usize = LITS;
function lit(s: string): usize {
  const p = litEnd;
  store<u8>(p, <u8>s.length);
  for (let k = 0; k < s.length; k++) store<u8>(p + 1 + <usize>k, <u8>s.charCodeAt(k));
  litEnd += <usize>s.length + 1 + 16;
  return p;
}
@inline function putLit(p: usize): void {
  copy(p + 1, <usize>load<u8>(p));
}

// ---- the scan ------------------------------------------------------------------------------

/** fastEvent's answers. */
const F_DECLINED = 0;
const F_WRITTEN = 1;
const F_NOT_EVENT = 2;

const L_ACTIONS = 0;
const L_SERVER = 1;
const L_JAIL = 2;

const T_BAN = 0;
const T_UNBAN = 1;
const T_RESTORE = 2;
const T_REPEAL = 3;
const T_ALREADY = 4;
const T_JAIL_START = 5;
const T_JAIL_STOP = 6;
const T_SERVER_START = 7;
const T_SERVER_STOPPING = 8;
const T_SERVER_STOP = 9;
const TYPES = 10;

/**
 * Per type (T_*): the JSON start `{"type":"…"` and the text form's " type ". Tables in static
 * memory, not arrays: nothing here may allocate (the regions start at the heap base).
 */
const JSON_TYPE = memory.data(TYPES * sizeof<usize>());
const TEXT_TYPE = memory.data(TYPES * sizeof<usize>());
function setType(t: i32, json: string, text: string): void {
  store<usize>(JSON_TYPE + (<usize>t) * sizeof<usize>(), lit(json));
  store<usize>(TEXT_TYPE + (<usize>t) * sizeof<usize>(), lit(text));
}
setType(T_BAN, '{"type":"ban"', ' ban ');
setType(T_UNBAN, '{"type":"unban"', ' unban ');
setType(T_RESTORE, '{"type":"restore-ban"', ' restore-ban ');
setType(T_REPEAL, '{"type":"repeal-ban"', ' repeal-ban ');
setType(T_ALREADY, '{"type":"already-banned"', ' already-banned ');
setType(T_JAIL_START, '{"type":"jail-start"', ' jail-start ');
setType(T_JAIL_STOP, '{"type":"jail-stop"', ' jail-stop ');
setType(T_SERVER_START, '{"type":"server-start"', ' server-start ');
setType(T_SERVER_STOPPING, '{"type":"server-stopping"', ' server-stopping ');
setType(T_SERVER_STOP, '{"type":"server-stop"', ' server-stop ');
// The field order of parse-scan.ts jsonLine and textLine.
const J_JAIL = lit(',"jail":"');
const J_IP = lit('","ip":"');
const J_V4 = lit('","family":"IPv4"');
const J_V6 = lit('","family":"IPv6"');
const J_TIME_Q = lit('","time":"');
const J_TIME = lit(',"time":"');
const J_ISO = lit('","isoTime":"');
const J_PID = lit('","pid":');
const J_VERSION = lit(',"version":"');
const J_RAW = lit(',"raw":"');
const J_END_Q = lit('"}\n');
const J_END = lit('}\n');
const T_VERSION = lit(' v');
const T_NONE = lit(' -');

/** Where the parts of one event are in the line; 0-length ranges are absent fields. */
let jailFrom: usize = 0;
let jailTo: usize = 0;
let idFrom: usize = 0;
let idTo: usize = 0;
let v6 = false;
let verFrom: usize = 0;
let verTo: usize = 0;

/** One output line in parse's format (parse-scan.ts jsonLine / textLine) for the line at s. */
function emit(t: i32, s: usize, lineEnd: usize, pidStart: usize, pidEnd: usize, flags: i32): void {
  const raw = (flags & FLAG_RAW) != 0;
  if ((flags & FLAG_JSON) != 0) {
    putLit(load<usize>(JSON_TYPE + (<usize>t) * sizeof<usize>()));
    if (jailTo > jailFrom) {
      putLit(J_JAIL);
      copyRange(jailFrom, jailTo);
      if (idTo > idFrom) {
        putLit(J_IP);
        copyRange(idFrom, idTo);
        putLit(v6 ? J_V6 : J_V4);
        putLit(J_TIME);
      } else putLit(J_TIME_Q);
    } else putLit(J_TIME);
    copy(s, 23);
    putLit(J_ISO);
    // "2026-11-25 04:39:52,876" → "2026-11-25T04:39:52.876"
    const iso = op;
    copy(s, 23);
    store<u8>(iso + 10, 84);
    store<u8>(iso + 19, 46);
    putLit(J_PID);
    copyRange(pidStart, pidEnd);
    if (verTo > verFrom) {
      putLit(J_VERSION);
      copyRange(verFrom, verTo);
      putByte(34);
    }
    if (raw) {
      putLit(J_RAW);
      copyRange(s, lineEnd);
      putLit(J_END_Q);
    } else putLit(J_END);
  } else {
    copy(s, 23);
    putLit(load<usize>(TEXT_TYPE + (<usize>t) * sizeof<usize>()));
    if (jailTo > jailFrom) copyRange(jailFrom, jailTo);
    else putByte(45);
    if (idTo > idFrom) {
      putByte(32);
      copyRange(idFrom, idTo);
    } else putLit(T_NONE);
    if (verTo > verFrom) {
      putLit(T_VERSION);
      copyRange(verFrom, verTo);
    }
    if (raw) {
      putByte(9);
      copyRange(s, lineEnd);
    }
    putByte(10);
  }
}

/**
 * The ASCII line [s, nl) in fail2ban's file format ("TIME LOGGER [PID]: LEVEL MESSAGE") from
 * fail2ban.actions, .jail or .server. When the message is an event in its common shape (ban
 * family with an address as checkAddress prints it, "Jail 'NAME' started|stopped", "Starting
 * Fail2ban vX", "Shutdown in progress...", "Stopping all jails", "Exiting Fail2ban"): writes its
 * output line and returns F_WRITTEN. When the message cannot be an event of that logger: returns
 * F_NOT_EVENT. Anything else: F_DECLINED. Each check mirrors the generic path (header.ts
 * scanFile/scanLogger/scanLevel, message.ts classifyMessage, ip.ts checkAddress) on the subset it
 * accepts.
 */
function fastEvent(s: usize, nl: usize, flags: i32): i32 {
  let end = nl;
  if (at(end - 1) == 13) end--;
  const lineEnd = end;
  if (end - s > <usize>FAST_MAX || end - s < 48) return F_DECLINED;
  if (at(s + 4) != 45 || at(s + 7) != 45 || at(s + 10) != 32 || at(s + 13) != 58 || at(s + 16) != 58 || at(s + 19) != 44 || at(s + 23) != 32)
    return F_DECLINED;
  // "2026-11-25 04:39:52,876": the separators are checked above, these are the digits.
  for (let k: usize = 0; k < 23; k++) {
    if (k == 4 || k == 7 || k == 10 || k == 13 || k == 16 || k == 19) continue;
    if (!isDigit(at(s + k))) return F_DECLINED;
  }
  // The three loggers that write events (header.ts loggerKind); others never get this far.
  if (!startsWith(s + 24, end, 'fail2ban.')) return F_DECLINED;
  let logger: i32;
  let i: usize;
  if (startsWith(s + 33, end, 'actions')) {
    logger = L_ACTIONS;
    i = s + 40;
  } else if (startsWith(s + 33, end, 'server')) {
    logger = L_SERVER;
    i = s + 39;
  } else if (startsWith(s + 33, end, 'jail')) {
    logger = L_JAIL;
    i = s + 37;
  } else return F_DECLINED;
  // Only spaces or "[" may follow: the name ends there ("fail2ban.actions2" is another logger).
  while (at(i) == 32) i++;
  if (at(i) != 91) return F_DECLINED;
  const pidStart = ++i;
  while (i < end && isDigit(at(i))) i++;
  const pidEnd = i;
  // Leading zeros would print differently as a number ("[007]" → 7).
  if (pidEnd == pidStart || pidEnd - pidStart > 10 || (at(pidStart) == 48 && pidEnd - pidStart > 1)) return F_DECLINED;
  if (at(i) != 93 || at(i + 1) != 58 || at(i + 2) != 32) return F_DECLINED;
  i += 3;
  const level = i;
  while (i < end && at(i) >= 65 && at(i) <= 90) i++;
  if (i == level || i >= end || at(i) != 32) return F_DECLINED;
  while (i < end && at(i) == 32) i++;
  const m = i;
  // The message is trimmed of trailing white space (ASCII here: space, \t..\r).
  while (end > m && (at(end - 1) == 32 || (at(end - 1) >= 9 && at(end - 1) <= 13))) end--;
  if (end <= m) return F_DECLINED;
  const len = end - m;
  jailFrom = jailTo = idFrom = idTo = verFrom = verTo = 0;
  v6 = false;
  let t: i32;
  // message.ts classifyMessage: the first character and the logger decide which event it can be.
  const c0 = at(m);
  if (logger == L_SERVER) {
    if (c0 == 83 /* S */) {
      if (startsWith(m, end, 'Starting Fail2ban v')) {
        // version: \S+ to the end, and nothing JSON would escape
        verFrom = m + 19;
        verTo = end;
        if (verFrom >= verTo || needsEscape(verFrom, verTo)) return F_DECLINED;
        for (let p = verFrom; p < verTo; p++) if (at(p) == 32) return F_DECLINED;
        t = T_SERVER_START;
      } else if ((len == 23 && startsWith(m, end, 'Shutdown in progress...')) || (len == 18 && startsWith(m, end, 'Stopping all jails')))
        t = T_SERVER_STOPPING;
      else return F_DECLINED;
    } else if (c0 == 69 /* E */) {
      if (len == 16 && startsWith(m, end, 'Exiting Fail2ban')) t = T_SERVER_STOP;
      else return F_DECLINED;
    } else if (c0 == 67 || c0 == 114 || c0 == 102) return F_DECLINED;
    else return F_NOT_EVENT;
  } else if (logger == L_JAIL) {
    if (c0 != 74 /* J */) return F_NOT_EVENT;
    // "Jail 'NAME' started|stopped" (0.9: u'NAME'; either quote)
    if (!startsWith(m, end, 'Jail ')) return F_DECLINED;
    let q = m + 5;
    if (at(q) == 117) q++;
    const quote = at(q);
    if (quote != 39 && quote != 34) return F_DECLINED;
    if (startsWith(end - 8, end, ' started')) t = T_JAIL_START;
    else if (startsWith(end - 8, end, ' stopped')) t = T_JAIL_STOP;
    else return F_DECLINED;
    const close = end - 9;
    if (close <= q + 1 || at(close) != quote || needsEscape(q + 1, close)) return F_DECLINED;
    jailFrom = q + 1;
    jailTo = close;
  } else {
    if (c0 != 91 /* [ */) return F_NOT_EVENT;
    let close = m + 1;
    while (close < end && at(close) != 93) close++;
    if (close >= end || close == m + 1 || at(close + 1) != 32 || needsEscape(m + 1, close)) return F_DECLINED;
    jailFrom = m + 1;
    jailTo = close;
    const rest = close + 2;
    idFrom = rest;
    idTo = end;
    const v0 = at(rest);
    if (v0 == 66 && startsWith(rest, end, 'Ban ')) {
      t = T_BAN;
      idFrom = rest + 4;
    } else if (v0 == 85 && startsWith(rest, end, 'Unban ')) {
      t = T_UNBAN;
      idFrom = rest + 6;
    } else if (v0 == 82 && startsWith(rest, end, 'Restore Ban ')) {
      t = T_RESTORE;
      idFrom = rest + 12;
    } else if (v0 == 82 && startsWith(rest, end, 'Repeal Ban ')) {
      t = T_REPEAL;
      idFrom = rest + 11;
    } else if (end - rest > 15 && startsWith(end - 15, end, ' already banned')) {
      t = T_ALREADY;
      idTo = end - 15;
    } else return F_DECLINED;
    if (idFrom >= idTo) return F_DECLINED;
    if (isPlainIPv4(idFrom, idTo)) {
      // printed as is
    } else if (isCanonicalIPv6(idFrom, idTo)) v6 = true;
    // Other spellings are normalised (or rejected) by the generic path.
    else return F_DECLINED;
  }
  if ((flags & FLAG_RAW) != 0 && needsEscape(s, lineEnd)) return F_DECLINED;
  emit(t, s, lineEnd, pidStart, pidEnd, flags);
  return F_WRITTEN;
}

/**
 * Scans the lines of the block from offset `from` to `to` (the block ends with a newline at
 * to - 1). Returns DONE at the end, DECLINED on a line the generic parser must decide (S_STOP,
 * S_STOP_NL give it; resume after it), OUT_FULL when the output needs emptying first (resume at
 * S_STOP). Counts lines and written events into the state words.
 */
export function scan(from: i32, to: i32, flags: i32): i32 {
  const b = inPtr();
  const end = b + <usize>to;
  const outLimit = outPtr() + <usize>(OUT_CAP - OUT_MARGIN);
  op = outPtr() + <usize>st(S_OUT);
  let lines = st(S_LINES);
  let events = st(S_EVENTS);
  let status = DONE;
  let s = b + <usize>from;
  while (s < end) {
    const nl = newline(s);
    if (mayBeEvent(s, nl)) {
      if (op > outLimit) {
        setSt(S_STOP, <i32>(s - b));
        status = OUT_FULL;
        break;
      }
      const r = fastEvent(s, nl, flags);
      if (r == F_WRITTEN) events++;
      else if (r == F_DECLINED) {
        lines++;
        setSt(S_STOP, <i32>(s - b));
        setSt(S_STOP_NL, <i32>(nl - b));
        status = DECLINED;
        break;
      }
    }
    lines++;
    s = nl + 1;
  }
  setSt(S_OUT, <i32>(op - outPtr()));
  setSt(S_LINES, lines);
  setSt(S_EVENTS, events);
  return status;
}
