/**
 * Recognises the wrapper around a fail2ban record on one physical line, for every transport:
 *
 *   F  "2026-11-25 04:39:52,876 fail2ban.actions        [10839]: NOTICE  MSG"  file / STDOUT (0.8.12+,
 *      padding on or off), "… fail2ban.actions: WARNING MSG" (0.8.0–0.8.11, no PID)
 *   N  "fail2ban.actions        [10839]: NOTICE  MSG"                        SYSOUT (no time)
 *   P  "<29>fail2ban.actions[11595]: NOTICE MSG"                              syslog datagram payload
 *   S  "STIME HOST fail2ban.actions[11595]: NOTICE MSG"                       rsyslog file (SYSLOG target)
 *      "STIME HOST fail2ban-server[11816]: <F or N>"                          journalctl, SYSOUT/STDOUT target
 *      "STIME HOST fail2ban[11670]: <F>"                                      journalctl, systemd-journal (lower case)
 *      "STIME HOST fail2ban[11670]: MSG"                                      journalctl, SYSTEMD-JOURNAL: bare message,
 *                                                                            logger unknown
 *   STIME is RFC 3339 (rsyslog's default on Debian 12) or "Mmm dd hh:mm:ss". HOST is what rsyslog
 *   writes: a short name, an FQDN, or an address literal when no name resolves (IPv6 included).
 *   A message that reached rsyslog as RFC 5424 has no colon after its tag ("fail2ban.actions[11595]
 *   NOTICE MSG", rsyslog's %syslogtag% is APP-NAME[PROCID]): accepted here, PID required.
 *
 * Everything is done with charCodeAt on the caller's string and index ranges, writing into one
 * reused scratch object, so that the common case (a line that is not an event) allocates nothing.
 */

/** Which fail2ban logger wrote the record; events are only accepted from their own logger. */
export const LOGGER_OTHER = 0;
export const LOGGER_ACTIONS = 1;
export const LOGGER_JAIL = 2;
export const LOGGER_SERVER = 3;
/** The transport does not carry the logger (journal MESSAGE, journalctl of SYSTEMD-JOURNAL). */
export const LOGGER_UNKNOWN = 4;

export const TIME_NONE = 0;
/** "2026-11-25 04:39:52,876" (fail2ban's asctime) */
export const TIME_ASCTIME = 1;
/** "2026-11-25T04:42:54.123456+00:00" */
export const TIME_RFC3339 = 2;
/** "Nov 25 04:42:54" (no year) */
export const TIME_BSD = 3;

export interface HeaderScratch {
  logger: number;
  pid: number; // -1 when absent
  timeKind: number;
  timeStart: number;
  timeEnd: number;
  /** Index of the first character of the message. */
  msg: number;
  /**
   * The syslog HOST field s[hostStart, hostEnd) of an S line; hostEnd === hostStart when the
   * transport has none or the field is not a usable source name (contains '/').
   */
  hostStart: number;
  hostEnd: number;
}

/** The scratch filled by scanHeader; valid until the next call. */
export const H: HeaderScratch = { logger: 0, pid: -1, timeKind: 0, timeStart: 0, timeEnd: 0, msg: 0, hostStart: 0, hostEnd: 0 };

const C_0 = 48;
const C_9 = 57;
const C_A = 65;
const C_Z = 90;
const C_SPACE = 32;
const C_DASH = 45;
const C_COLON = 58;
const C_LBRACK = 91;
const C_RBRACK = 93;
const C_DOT = 46;
const C_LT = 60;
const C_GT = 62;
const C_SLASH = 47;

function isDigit(c: number): boolean {
  return c >= C_0 && c <= C_9;
}

function digitsAt(s: string, i: number, n: number): boolean {
  for (let k = i; k < i + n; k++) if (!isDigit(s.charCodeAt(k))) return false;
  return true;
}

/**
 * Fills H for the line s[start, end) and returns true when it carries a fail2ban header.
 * `end` must exclude any line terminator.
 */
export function scanHeader(s: string, start: number, end: number): boolean {
  H.logger = LOGGER_OTHER;
  H.pid = -1;
  H.timeKind = TIME_NONE;
  H.hostEnd = H.hostStart;
  const c0 = s.charCodeAt(start);
  if (isDigit(c0)) {
    const sep = s.charCodeAt(start + 10);
    if (sep === C_SPACE) return scanFile(s, start, end);
    if (sep === 84 /* T */) return scanSyslogLine(s, start, end);
    return false;
  }
  if (c0 === 102 /* f */) return scanNoTime(s, start, end) >= 0;
  if (c0 === C_LT) return scanPayload(s, start, end);
  if (c0 >= C_A && c0 <= C_Z) return scanSyslogLine(s, start, end);
  return false;
}

/** F at `start`: time stamp, then the logger part with optional PID. */
function scanFile(s: string, start: number, end: number): boolean {
  if (!isAsctime(s, start, end)) return false;
  const m = scanLogger(s, start + 24, end, false);
  if (m < 0) return false;
  H.timeKind = TIME_ASCTIME;
  H.timeStart = start;
  H.timeEnd = start + 23;
  H.msg = m;
  return true;
}

function isAsctime(s: string, i: number, end: number): boolean {
  return (
    end - i > 24 &&
    s.charCodeAt(i + 4) === C_DASH &&
    s.charCodeAt(i + 7) === C_DASH &&
    s.charCodeAt(i + 10) === C_SPACE &&
    s.charCodeAt(i + 13) === C_COLON &&
    s.charCodeAt(i + 16) === C_COLON &&
    s.charCodeAt(i + 19) === 44 /* , */ &&
    s.charCodeAt(i + 23) === C_SPACE &&
    digitsAt(s, i, 4) &&
    digitsAt(s, i + 5, 2) &&
    digitsAt(s, i + 8, 2) &&
    digitsAt(s, i + 11, 2) &&
    digitsAt(s, i + 14, 2) &&
    digitsAt(s, i + 17, 2) &&
    digitsAt(s, i + 20, 3)
  );
}

/** N at `i` (PID required). Returns the message index or -1. */
function scanNoTime(s: string, i: number, end: number, colonOptional = false): number {
  const m = scanLogger(s, i, end, true, colonOptional);
  if (m >= 0) H.msg = m;
  return m;
}

/** P: "<PRI>" then N. */
function scanPayload(s: string, start: number, end: number): boolean {
  let i = start + 1;
  while (i < end && i - start <= 3 && isDigit(s.charCodeAt(i))) i++;
  if (i === start + 1 || s.charCodeAt(i) !== C_GT) return false;
  return scanNoTime(s, i + 1, end) >= 0;
}

/**
 * `fail2ban(\.[\w.-]+)? *(\[\d+\])?: LEVEL +` at i; sets H.logger/H.pid. With colonOptional
 * (a syslog tag), `fail2ban.x[PID] LEVEL +` too: rsyslog's tag of an RFC 5424 message.
 * Returns the index of the message or -1.
 */
function scanLogger(s: string, i: number, end: number, needPid: boolean, colonOptional = false): number {
  if (!s.startsWith('fail2ban', i)) return -1;
  const nameStart = i;
  i += 8;
  if (s.charCodeAt(i) === C_DOT) {
    i++;
    const first = i;
    while (i < end && isLoggerChar(s.charCodeAt(i))) i++;
    if (i === first) return -1;
  }
  const nameEnd = i;
  while (s.charCodeAt(i) === C_SPACE) i++;
  const bracket = i;
  let pid = -1;
  if (s.charCodeAt(i) === C_LBRACK) {
    const d = ++i;
    while (i < end && isDigit(s.charCodeAt(i))) i++;
    if (i === d || i - d > 10 || s.charCodeAt(i) !== C_RBRACK) return -1;
    pid = digitsValue(s, d, i);
    i++;
  } else if (needPid) return -1;
  if (s.charCodeAt(i) === C_COLON) i++;
  else if (!colonOptional || pid < 0 || bracket !== nameEnd) return -1;
  if (s.charCodeAt(i) !== C_SPACE) return -1;
  const kind = loggerKind(s, nameStart, nameEnd);
  const m = scanLevel(s, i + 1, end);
  if (m < 0) return -1;
  H.logger = kind;
  H.pid = pid;
  return m;
}

function isLoggerChar(c: number): boolean {
  // [\w.-]
  return (c >= C_0 && c <= C_9) || (c >= C_A && c <= C_Z) || (c >= 97 && c <= 122) || c === 95 || c === C_DOT || c === C_DASH;
}

function loggerKind(s: string, from: number, to: number): number {
  switch (to - from) {
    case 16:
      return s.startsWith('fail2ban.actions', from) ? LOGGER_ACTIONS : LOGGER_OTHER;
    case 13:
      return s.startsWith('fail2ban.jail', from) ? LOGGER_JAIL : LOGGER_OTHER;
    case 15:
      return s.startsWith('fail2ban.server', from) ? LOGGER_SERVER : LOGGER_OTHER;
    default:
      return LOGGER_OTHER;
  }
}

/** Logger name (a whole string, e.g. the journal's LOGGER field) to its kind. */
export function loggerKindOf(name: string): number {
  return loggerKind(name, 0, name.length);
}

/** `([A-Z]+|#\d\d-Lev\.|Level \d+) +` at i; returns the index after the spaces or -1. */
function scanLevel(s: string, i: number, end: number): number {
  const c = s.charCodeAt(i);
  let j = i;
  if (c >= C_A && c <= C_Z) {
    while (j < end) {
      const d = s.charCodeAt(j);
      if (d < C_A || d > C_Z) break;
      j++;
    }
    if (s.charCodeAt(j) !== C_SPACE && s.startsWith('Level ', i)) {
      j = i + 6;
      const d = j;
      while (j < end && isDigit(s.charCodeAt(j))) j++;
      if (j === d) return -1;
    }
  } else if (c === 35 /* # */) {
    if (!(isDigit(s.charCodeAt(i + 1)) && isDigit(s.charCodeAt(i + 2)) && s.startsWith('-Lev.', i + 3))) return -1;
    j = i + 8;
  } else return -1;
  if (j >= end || s.charCodeAt(j) !== C_SPACE) return -1;
  while (j < end && s.charCodeAt(j) === C_SPACE) j++;
  return j;
}

/** Month (0–11) of the English abbreviation at s[i, i+3), or -1; compares in place (no slice). */
export function monthAt(s: string, i: number): number {
  const c1 = s.charCodeAt(i + 1);
  const c2 = s.charCodeAt(i + 2);
  switch (s.charCodeAt(i)) {
    case 74 /* J */:
      if (c1 === 97 /* a */) return c2 === 110 /* n */ ? 0 : -1;
      if (c1 !== 117 /* u */) return -1;
      return c2 === 110 ? 5 : c2 === 108 /* l */ ? 6 : -1;
    case 70 /* F */:
      return c1 === 101 && c2 === 98 ? 1 : -1;
    case 77 /* M */:
      if (c1 !== 97) return -1;
      return c2 === 114 /* r */ ? 2 : c2 === 121 /* y */ ? 4 : -1;
    case 65 /* A */:
      if (c1 === 112 /* p */) return c2 === 114 ? 3 : -1;
      return c1 === 117 && c2 === 103 /* g */ ? 7 : -1;
    case 83 /* S */:
      return c1 === 101 && c2 === 112 ? 8 : -1;
    case 79 /* O */:
      return c1 === 99 && c2 === 116 ? 9 : -1;
    case 78 /* N */:
      return c1 === 111 && c2 === 118 ? 10 : -1;
    case 68 /* D */:
      return c1 === 101 && c2 === 99 ? 11 : -1;
    default:
      return -1;
  }
}

/** Value of the decimal digits s[from, to), without cutting a string when it is short. */
function digitsValue(s: string, from: number, to: number): number {
  if (to - from > 15) return Number(s.slice(from, to)); // exact rounding beyond 2^53
  let v = 0;
  for (let k = from; k < to; k++) v = v * 10 + (s.charCodeAt(k) - C_0);
  return v;
}

/** S: syslog daemon / journalctl line. */
function scanSyslogLine(s: string, start: number, end: number): boolean {
  let i: number;
  let kind: number;
  if (isDigit(s.charCodeAt(start))) {
    i = scanRfc3339(s, start, end);
    kind = TIME_RFC3339;
  } else {
    i = scanBsdTime(s, start, end);
    kind = TIME_BSD;
  }
  if (i < 0 || s.charCodeAt(i) !== C_SPACE) return false;
  const timeEnd = i;
  // host: \S+. A '/' or a non-ASCII white space in it makes it no source name (rsyslog writes
  // neither by default): the line still counts, without a host.
  const h = ++i;
  let unusable = false;
  for (let c = s.charCodeAt(i); i < end && c > C_SPACE; c = s.charCodeAt(++i)) {
    if (c === C_SLASH || (c > 126 && isUnicodeSpace(c))) unusable = true;
  }
  if (i === h || s.charCodeAt(i) !== C_SPACE) return false;
  const hostEnd = unusable ? h : i;
  i++;
  if (!s.startsWith('fail2ban', i)) return false;
  let ok: boolean;
  if (s.startsWith('fail2ban-server[', i)) {
    // journald stream of the SYSOUT/STDOUT/STDERR target: a full record follows the tag
    const inner = skipIdent(s, i + 16, end);
    ok = inner >= 0 && scanInner(s, inner, end);
  } else if (scanNoTime(s, i, end, true) >= 0) {
    ok = true; // SYSLOG target: the tag is the logger
  } else if (s.startsWith('fail2ban[', i)) {
    // SYSTEMD-JOURNAL target: full header (lower-case spelling) or the bare message
    const inner = skipIdent(s, i + 9, end);
    if (inner < 0) return false;
    ok = scanInner(s, inner, end);
    if (!ok) {
      H.logger = LOGGER_UNKNOWN;
      H.pid = digitsValue(s, i + 9, inner - 3);
      H.msg = inner;
      ok = true;
    }
  } else ok = false;
  if (!ok) return false;
  H.hostStart = h;
  H.hostEnd = hostEnd;
  if (H.timeKind === TIME_NONE) {
    H.timeKind = kind;
    H.timeStart = start;
    H.timeEnd = timeEnd;
  }
  return true;
}

/** White space beyond ASCII (what \\s matches, plus DEL and C1 controls). */
function isUnicodeSpace(c: number): boolean {
  return (
    c <= 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** After "ident[": digits, "]: ". Returns the index after it or -1. */
function skipIdent(s: string, i: number, end: number): number {
  const d = i;
  while (i < end && isDigit(s.charCodeAt(i))) i++;
  if (i === d || s.charCodeAt(i) !== C_RBRACK || s.charCodeAt(i + 1) !== C_COLON || s.charCodeAt(i + 2) !== C_SPACE) return -1;
  return i + 3;
}

function scanInner(s: string, i: number, end: number): boolean {
  if (isDigit(s.charCodeAt(i))) return s.charCodeAt(i + 10) === C_SPACE && scanFile(s, i, end);
  return scanNoTime(s, i, end) >= 0;
}

function scanRfc3339(s: string, i: number, end: number): number {
  if (
    end - i < 20 ||
    !digitsAt(s, i, 4) ||
    s.charCodeAt(i + 4) !== C_DASH ||
    !digitsAt(s, i + 5, 2) ||
    s.charCodeAt(i + 7) !== C_DASH ||
    !digitsAt(s, i + 8, 2) ||
    !digitsAt(s, i + 11, 2) ||
    s.charCodeAt(i + 13) !== C_COLON ||
    !digitsAt(s, i + 14, 2) ||
    s.charCodeAt(i + 16) !== C_COLON ||
    !digitsAt(s, i + 17, 2)
  )
    return -1;
  let j = i + 19;
  if (s.charCodeAt(j) === C_DOT) {
    const d = ++j;
    while (j < end && isDigit(s.charCodeAt(j))) j++;
    if (j === d) return -1;
  }
  const z = s.charCodeAt(j);
  if (z === 90 /* Z */) return j + 1;
  if ((z === 43 || z === C_DASH) && digitsAt(s, j + 1, 2) && s.charCodeAt(j + 3) === C_COLON && digitsAt(s, j + 4, 2)) return j + 6;
  return -1;
}

function scanBsdTime(s: string, i: number, end: number): number {
  if (end - i < 15) return -1;
  if (monthAt(s, i) < 0) return -1;
  const d1 = s.charCodeAt(i + 4);
  if (
    s.charCodeAt(i + 3) !== C_SPACE ||
    !(d1 === C_SPACE || isDigit(d1)) ||
    !isDigit(s.charCodeAt(i + 5)) ||
    s.charCodeAt(i + 6) !== C_SPACE ||
    !digitsAt(s, i + 7, 2) ||
    s.charCodeAt(i + 9) !== C_COLON ||
    !digitsAt(s, i + 10, 2) ||
    s.charCodeAt(i + 12) !== C_COLON ||
    !digitsAt(s, i + 13, 2)
  )
    return -1;
  return i + 15;
}
