/**
 * Classifies the MESSAGE part of a fail2ban record (first physical line only) into the event types
 * of types.ts. Equivalent to the §4 regexes of the reference (ban family, jail and server
 * lifecycle), written as fixed-prefix checks: the verbs are matched exactly, so `[sshd] Found …`,
 * `[sshd] Increase Ban …` or `[sshd] Ignore …` never look like a ban, and each verb is only
 * accepted from the logger that writes it (fail2ban.actions / .jail / .server) unless the
 * transport does not say (LOGGER_UNKNOWN).
 */
import type { EventType } from './types.js';
import { LOGGER_ACTIONS, LOGGER_JAIL, LOGGER_SERVER, LOGGER_UNKNOWN } from './header.js';

/** Result of the last classifyMessage call (valid until the next one). */
export interface MessageScratch {
  type: EventType;
  jail: string | undefined;
  /** ID range (ban family); -1 when none. */
  idStart: number;
  idEnd: number;
  version: string | undefined;
}

export const M: MessageScratch = { type: 'ban', jail: undefined, idStart: -1, idEnd: -1, version: undefined };

const C_LBRACK = 91;
const C_SPACE = 32;

const UNICODE_SPACE = /\s/;

/** JavaScript's `\s`, as in the reference regexes (`\S+` IDs, `\s*$`): ASCII first, the rest rarely. */
function isSpace(c: number): boolean {
  return c === C_SPACE || (c >= 9 && c <= 13) || (c > 127 && UNICODE_SPACE.test(String.fromCharCode(c)));
}

/** Returns true (and fills M) when s[m, end) is an event message for that logger. */
export function classifyMessage(s: string, m: number, end: number, logger: number): boolean {
  // fail2ban's regexes end in \s*$ for the ban family; trimming the rest is harmless.
  while (end > m && isSpace(s.charCodeAt(end - 1))) end--;
  if (end <= m) return false;
  M.jail = undefined;
  M.idStart = -1;
  M.version = undefined;
  const c = s.charCodeAt(m);
  if (c === C_LBRACK) return (logger === LOGGER_ACTIONS || logger === LOGGER_UNKNOWN) && banFamily(s, m, end);
  if (c === 74 /* J */) return (logger === LOGGER_JAIL || logger === LOGGER_UNKNOWN) && jailLifecycle(s, m, end);
  return (logger === LOGGER_SERVER || logger === LOGGER_UNKNOWN) && serverLifecycle(s, m, end);
}

const VERBS: Array<[string, EventType]> = [
  ['Ban ', 'ban'],
  ['Unban ', 'unban'],
  ['Restore Ban ', 'restore-ban'],
  ['Repeal Ban ', 'repeal-ban'],
];
const ALREADY = ' already banned';

/** `[JAIL] Ban ID`, `[JAIL] Unban ID`, `[JAIL] Restore Ban ID`, `[JAIL] Repeal Ban ID`, `[JAIL] ID already banned`. */
function banFamily(s: string, m: number, end: number): boolean {
  const close = s.indexOf(']', m + 1);
  if (close < 0 || close >= end || close === m + 1 || s.charCodeAt(close + 1) !== C_SPACE) return false;
  const rest = close + 2;
  for (const [verb, type] of VERBS) {
    if (s.startsWith(verb, rest)) {
      const id = rest + verb.length;
      if (id >= end) return false;
      return hit(s, type, m, close, id, end);
    }
  }
  if (end - rest > ALREADY.length && s.endsWith(ALREADY, end)) {
    const idEnd = end - ALREADY.length;
    for (let i = rest; i < idEnd; i++) if (isSpace(s.charCodeAt(i))) return false;
    return hit(s, 'already-banned', m, close, rest, idEnd);
  }
  return false;
}

function hit(s: string, type: EventType, m: number, close: number, idStart: number, idEnd: number): boolean {
  M.type = type;
  M.jail = s.slice(m + 1, close);
  M.idStart = idStart;
  M.idEnd = idEnd;
  return true;
}

/** `Jail 'NAME' started` / `Jail 'NAME' stopped` (`"NAME"` when the name holds a quote; `u'…'` on Python 2). */
function jailLifecycle(s: string, m: number, end: number): boolean {
  if (!s.startsWith('Jail ', m)) return false;
  let q = m + 5;
  if (s.charCodeAt(q) === 117 /* u */) q++;
  const quote = s.charCodeAt(q);
  if (quote !== 39 && quote !== 34) return false;
  let type: EventType;
  if (s.endsWith(' started', end)) type = 'jail-start';
  else if (s.endsWith(' stopped', end)) type = 'jail-stop';
  else return false;
  const close = end - 9;
  if (close <= q + 1 || s.charCodeAt(close) !== quote) return false;
  M.type = type;
  M.jail = s.slice(q + 1, close);
  return true;
}

const LOGTARGET = 'Changed logging target to ';
const FOR_VERSION = ' for Fail2ban v';

function serverLifecycle(s: string, m: number, end: number): boolean {
  const len = end - m;
  switch (s.charCodeAt(m)) {
    case 83 /* S */:
      if (s.startsWith('Starting Fail2ban v', m)) return version(s, m + 19, end);
      if (len === 23 && s.startsWith('Shutdown in progress...', m)) return is('server-stopping');
      if (len === 18 && s.startsWith('Stopping all jails', m)) return is('server-stopping');
      return false;
    case 69 /* E */:
      return len === 16 && s.startsWith('Exiting Fail2ban', m) && is('server-stop');
    case 67 /* C */: {
      // 0.9 has no "Starting …" line in the target: this is the first line of every server start,
      // and (0.10+) of a runtime `set logtarget` (same PID, so not mistaken for a restart).
      if (!s.startsWith(LOGTARGET, m)) return false;
      const at = s.lastIndexOf(FOR_VERSION, end - 1);
      if (at <= m + LOGTARGET.length) return false;
      return version(s, at + FOR_VERSION.length, end);
    }
    case 114 /* r */:
      return s.startsWith('rollover performed on ', m) && len > 22 && is('log-reopened');
    case 102 /* f */:
      return s.startsWith('flush performed on ', m) && len > 19 && is('log-reopened');
    default:
      return false;
  }
}

function is(type: EventType): true {
  M.type = type;
  return true;
}

/** `v(?<version>\S+)$` from `from`. */
function version(s: string, from: number, end: number): boolean {
  if (from >= end) return false;
  for (let i = from; i < end; i++) if (isSpace(s.charCodeAt(i))) return false;
  M.type = 'server-start';
  M.version = s.slice(from, end);
  return true;
}
