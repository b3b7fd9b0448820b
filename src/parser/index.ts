/**
 * fail2ban log line → event. Pure: no I/O, no clock.
 *
 * Entry points:
 * - parseLine(line, opts?): one physical line of any transport that carries a header (file, SYSOUT,
 *   syslog payload, rsyslog file, journalctl short output). A line without a fail2ban header
 *   (continuation of a multi-line record, foreign text) is "none".
 * - parseSpan(text, start, end, opts?): the same on a slice of a bigger string, so bulk readers need not
 *   cut every line into its own string.
 * - parseMessage(message, ctx): a journal MESSAGE field, which may be bare (SYSTEMD-JOURNAL: the
 *   logger comes from the LOGGER field, passed in ctx) or carry a full header (lower-case
 *   `systemd-journal` target), in which case the header decides.
 *
 * How transports are told apart (first character, then fixed positions): a digit with a space at
 * +10 is fail2ban's own time stamp; a digit with "T" at +10 is an RFC 3339 syslog time; "<" a
 * syslog payload; "f" a header without time; an upper-case letter a "Mmm dd hh:mm:ss" syslog or
 * journalctl line, whose tag says which wrapper follows (logger[pid] = SYSLOG target,
 * fail2ban-server[pid] = SYSOUT under systemd, fail2ban[pid] = SYSTEMD-JOURNAL). See header.ts.
 *
 * Syslog-format lines (rsyslog file, journalctl) also give the event its `host`. The traditional
 * syslog time has no year: with `opts.now` (the caller's clock, epoch ms) the year is chosen by
 * syslog-year.ts and isoTime filled; without it isoTime stays undefined.
 */
import type { F2bEvent, ParseResult } from './types.js';
import { H, LOGGER_OTHER, LOGGER_UNKNOWN, TIME_ASCTIME, TIME_RFC3339, TIME_BSD, loggerKindOf, scanHeader } from './header.js';
import { bsdIsoTime } from './syslog-year.js';
import { M, classifyMessage } from './message.js';
import { checkAddress } from '../core/address.js';

export type { F2bEvent, ParseResult, EventType } from './types.js';

const NONE: ParseResult = Object.freeze({ kind: 'none' }) as ParseResult;

export interface ParseOptions {
  /**
   * The reader's "now" (epoch ms, injected: the parser has no clock). Picks the year of a
   * traditional syslog time ("Dec  4 12:00:00"); without it such an event has no isoTime.
   */
  now?: number;
}

/** One physical line (without its newline) → event, rejected or none. Never throws. */
export function parseLine(line: string, opts?: ParseOptions): ParseResult {
  return parseSpan(line, 0, line.length, opts);
}

/** parseLine on text[start, end) (end excludes the newline). Never throws. */
export function parseSpan(text: string, start: number, end: number, opts?: ParseOptions): ParseResult {
  if (end > start && text.charCodeAt(end - 1) === 13) end--; // CRLF
  if (end - start < 16 || isOtherLoggerFast(text, start) || !scanHeader(text, start, end)) return NONE;
  if (H.logger === LOGGER_OTHER) return NONE;
  if (!classifyMessage(text, H.msg, end, H.logger)) return NONE;
  const raw = start === 0 && end === text.length ? text : text.slice(start, end);
  const r = build(text, raw, headerTime(text, opts?.now), H.pid < 0 ? undefined : H.pid);
  if (H.hostEnd > H.hostStart && r.kind === 'event') r.event.host = text.slice(H.hostStart, H.hostEnd);
  return r;
}

/**
 * Most lines of a busy log come from fail2ban.filter/.observer/.utils. In fail2ban's own format
 * (digit first, space at +10) the logger starts at +24, and only "fail2ban.actions", ".jail" and
 * ".server" write events, so "." at +32 followed by a/j/s is necessary: anything else is "none"
 * without scanning the header. (A line too short to reach +33 cannot be an event either.)
 */
function isOtherLoggerFast(text: string, start: number): boolean {
  const c0 = text.charCodeAt(start);
  if (c0 < 48 || c0 > 57 || text.charCodeAt(start + 10) !== 32) return false;
  if (text.charCodeAt(start + 32) !== 46) return true;
  const c = text.charCodeAt(start + 33);
  return c !== 97 /* a */ && c !== 106 /* j */ && c !== 115; /* s */
}

/**
 * The same early rule on raw bytes (UTF-8/ASCII) of the line bytes[start, end), for bulk readers
 * that want to skip decoding lines that cannot be events. False only when parseSpan of the decoded
 * line is certainly "none": an event in fail2ban's own format has an ASCII prefix up to +33, so byte
 * and character offsets agree wherever this rule says no; a non-ASCII first byte is a non-ASCII
 * first character, which no header starts with.
 */
export function mayBeEvent(bytes: Uint8Array, start: number, end: number): boolean {
  if (end - start < 16) return false;
  const c0 = bytes[start] as number;
  // Only a digit, "f", "<" or an upper-case letter can start a header (scanHeader's dispatch):
  // continuation lines of tracebacks and command output are dismissed here. An upper-case letter
  // must start a BSD time ("Nov 25 04:42:54"), which "Traceback (most …" and "OSError: …" don't.
  if (c0 < 48 || c0 > 57) {
    if (c0 >= 65 && c0 <= 90) return bytes[start + 3] === 32 && bytes[start + 9] === 58 && bytes[start + 12] === 58;
    return c0 === 102 || c0 === 60;
  }
  if (bytes[start + 10] !== 32) return true;
  if (bytes[start + 32] !== 46) return false;
  const c = bytes[start + 33];
  return c === 97 || c === 106 || c === 115;
}

export interface MessageContext {
  /** Journal LOGGER field ("fail2ban.actions"); without it the message alone decides. */
  logger?: string;
  /** Journal _PID / SYSLOG_PID. */
  pid?: number;
  /** Time as the caller has it (e.g. from __REALTIME_TIMESTAMP) and its ISO form. */
  time?: string;
  isoTime?: string;
}

/**
 * A journal MESSAGE (possibly multi-line: only the first line counts). With a full fail2ban
 * header in it, the header decides (ctx.logger is ignored); otherwise the bare message is
 * classified with ctx.logger when given, and by message alone when not.
 */
export function parseMessage(message: string, ctx: MessageContext = {}): ParseResult {
  let end = message.indexOf('\n');
  if (end < 0) end = message.length;
  if (end > 0 && message.charCodeAt(end - 1) === 13) end--;
  if (end >= 16 && scanHeader(message, 0, end)) return parseSpan(message, 0, end);
  const logger = ctx.logger === undefined ? LOGGER_UNKNOWN : loggerKindOf(ctx.logger);
  if (logger === LOGGER_OTHER || !classifyMessage(message, 0, end, logger)) return NONE;
  const raw = end === message.length ? message : message.slice(0, end);
  const t = ctx.time === undefined ? undefined : { time: ctx.time, isoTime: ctx.isoTime };
  return build(message, raw, t, ctx.pid);
}

interface Times {
  time: string;
  isoTime: string | undefined;
}

function headerTime(text: string, now: number | undefined): Times | undefined {
  switch (H.timeKind) {
    case TIME_ASCTIME: {
      const t = text.slice(H.timeStart, H.timeEnd);
      return { time: t, isoTime: `${t.slice(0, 10)}T${t.slice(11, 19)}.${t.slice(20, 23)}` };
    }
    case TIME_RFC3339: {
      // The syslog daemon's wall-clock time; the offset is dropped like fail2ban's own (local) time:
      // stamps are only compared with stamps of the same source. Any fraction length ("5", "123456").
      const t = text.slice(H.timeStart, H.timeEnd);
      const frac = t.charCodeAt(19) === 46 ? (/^\.(\d+)/.exec(t.slice(19))?.[1] ?? '') : '';
      return { time: t, isoTime: `${t.slice(0, 19)}.${(frac + '000').slice(0, 3)}` };
    }
    case TIME_BSD:
      // No year: only the caller's clock can supply one.
      return { time: text.slice(H.timeStart, H.timeEnd), isoTime: now === undefined ? undefined : bsdIsoTime(text, H.timeStart, now) };
    default:
      return undefined;
  }
}

function build(text: string, raw: string, t: Times | undefined, pid: number | undefined): ParseResult {
  const event: F2bEvent = { type: M.type, raw };
  if (t) {
    event.time = t.time;
    if (t.isoTime !== undefined) event.isoTime = t.isoTime;
  }
  if (pid !== undefined) event.pid = pid;
  if (M.jail !== undefined) event.jail = M.jail;
  if (M.version !== undefined) event.version = M.version;
  if (M.idStart >= 0) {
    const id = text.slice(M.idStart, M.idEnd);
    const a = checkAddress(id);
    if (!a.ok) {
      const r: ParseResult = { kind: 'rejected', reason: a.reason, raw, id };
      if (M.jail !== undefined) r.jail = M.jail;
      return r;
    }
    event.ip = a.ip;
    event.family = a.family;
  }
  return { kind: 'event', event };
}
