// Shared by the parser suites: fixture access, an independent address oracle (node:net + ipaddr.js,
// not src/core/address.ts), the reference grammar of shared/fixtures (sandbox/parser-check) as a second
// opinion on which records are events, and a projection of parser results for table comparisons.
import { readFileSync, readdirSync } from 'node:fs';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

import { parseLine } from '../../src/parser/index.js';
import type { EventType, ParseResult } from '../../src/parser/types.js';

export const FIXTURES = new URL('../../../shared/fixtures/fail2ban/', import.meta.url);

export function readFixture(name: string): string {
  return readFileSync(new URL(name, FIXTURES), 'utf8');
}

export function listFixtures(pattern: RegExp, sub = ''): string[] {
  return readdirSync(new URL(sub, FIXTURES))
    .filter((f) => pattern.test(f))
    .sort()
    .map((f) => sub + f);
}

/** Physical lines without their terminators (a final newline does not make an empty last line). */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** Reference-grammar event names (fixtures' .events.jsonl, derived-lines) → the parser's event types. */
export const REF_TYPE: Readonly<Record<string, EventType>> = {
  ban: 'ban',
  unban: 'unban',
  restore_ban: 'restore-ban',
  repeal_ban: 'repeal-ban',
  already_banned: 'already-banned',
  jail_started: 'jail-start',
  jail_stopped: 'jail-stop',
  server_starting: 'server-start',
  logtarget_changed: 'server-start',
  server_shutdown: 'server-stopping',
  stopping_all: 'server-stopping',
  server_exit: 'server-stop',
  log_reopened: 'log-reopened',
};
export const BAN_FAMILY = new Set<EventType>(['ban', 'unban', 'restore-ban', 'repeal-ban', 'already-banned']);

/**
 * What a strict firewall feed should make of an ID, computed without src/parser: node:net decides
 * validity (it rejects leading zeros, accepts zone ids, so those are excluded by hand), ipaddr.js
 * gives the RFC 5952 text, folds IPv4-mapped addresses and masks networks.
 */
export function oracleAddress(id: string): string | undefined {
  const slash = id.indexOf('/');
  const addr = slash < 0 ? id : id.slice(0, slash);
  const family = addr.includes('%') ? 0 : isIP(addr);
  if (family === 0) return undefined;
  let prefix = family === 4 ? 32 : 128;
  if (slash >= 0) {
    const p = id.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > prefix) return undefined;
    prefix = Number(p);
  }
  let ip: ipaddr.IPv4 | ipaddr.IPv6 = family === 4 ? ipaddr.IPv4.parse(addr) : ipaddr.IPv6.parse(dottedTailToHex(addr));
  // fail2ban prints ::ffff:a.b.c.d as a.b.c.d; a mapped network only stays IPv4 when it lies inside ::ffff:0:0/96.
  if (ip instanceof ipaddr.IPv6 && ip.isIPv4MappedAddress() && prefix >= 96) {
    ip = ip.toIPv4Address();
    prefix -= 96;
  }
  const bits = ip.kind() === 'ipv4' ? 32 : 128;
  if (prefix === bits) return ip.toString();
  const net =
    ip instanceof ipaddr.IPv4
      ? ipaddr.IPv4.networkAddressFromCIDR(`${ip.toString()}/${prefix}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${ip.toString()}/${prefix}`);
  return `${net.toString()}/${prefix}`;
}

/** ipaddr.js reads "::192.0.2.1" as "::ffff:192.0.2.1"; spell the embedded quad in hex first. */
function dottedTailToHex(addr: string): string {
  const m = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(addr);
  if (!m) return addr;
  const [a, b, c, d] = m.slice(2).map(Number) as [number, number, number, number];
  return `${m[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

/** The comparable part of a result; `line` is 1-based. */
export interface Row {
  line: number;
  kind: 'event' | 'rejected';
  type?: EventType;
  jail?: string;
  ip?: string;
  time?: string;
  isoTime?: string;
  pid?: number;
  version?: string;
}

export function project(line: number, r: ParseResult): Row | undefined {
  if (r.kind === 'none') return undefined;
  if (r.kind === 'rejected') return { line, kind: 'rejected', ...(r.jail === undefined ? {} : { jail: r.jail }) };
  const e = r.event;
  const row: Row = { line, kind: 'event', type: e.type };
  for (const k of ['jail', 'ip', 'time', 'isoTime', 'pid', 'version'] as const) {
    if (e[k] !== undefined) (row as unknown as Record<string, unknown>)[k] = e[k];
  }
  return row;
}

/** parseLine over every physical line of a text. */
export function parseAll(text: string): Row[] {
  const rows: Row[] = [];
  splitLines(text).forEach((l, i) => {
    const row = project(i + 1, parseLine(l));
    if (row) rows.push(row);
  });
  return rows;
}

/** "2026-11-25 04:39:52,876" → "2026-11-25T04:39:52.876", written out independently of the parser. */
export function isoOf(asctime: string): string {
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d),(\d{3})$/.exec(asctime);
  if (!m) throw new Error(`not an asctime: ${asctime}`);
  return `${m[1]}T${m[2]}.${m[3]}`;
}

/** An expected row from a reference-grammar classification (null when it is no event of ours). */
export function expectedRow(
  line: number,
  ref: { event: string; jail?: string; id?: string; version?: string },
  header: { ts?: string; pid?: number },
): Row | undefined {
  const type = REF_TYPE[ref.event];
  if (type === undefined) return undefined;
  if (BAN_FAMILY.has(type)) {
    const ip = oracleAddress(ref.id ?? '');
    if (ip === undefined) return { line, kind: 'rejected', ...(ref.jail === undefined ? {} : { jail: ref.jail }) };
    return { line, kind: 'event', type, jail: ref.jail as string, ip, ...times(header) };
  }
  const row: Row = { line, kind: 'event', type };
  if (ref.jail !== undefined) row.jail = ref.jail;
  Object.assign(row, times(header));
  if (ref.version !== undefined) row.version = ref.version;
  return row;
}

function times(h: { ts?: string; pid?: number }): Partial<Row> {
  const out: Partial<Row> = {};
  if (h.ts !== undefined) {
    out.time = h.ts;
    out.isoTime = isoOf(h.ts);
  }
  if (h.pid !== undefined) out.pid = h.pid;
  return out;
}

interface Grammar {
  parseAnyLine(line: string): { ts?: string; pid?: string; msg: string } | null;
  classify(msg: string): { event: string; jail?: string; id?: string; version?: string } | null;
}

/** The reference grammar shipped with the fixtures (plain JS, loaded at run time). */
export async function loadGrammar(): Promise<Grammar> {
  return (await import(new URL('sandbox/parser-check/f2b-grammar.mjs', FIXTURES).href)) as Grammar;
}

/**
 * Expected rows for a whole text according to the reference grammar: a line is an event when it
 * has a fail2ban header and its message classifies (continuation lines never match a header).
 */
export function grammarRows(g: Grammar, text: string): Row[] {
  const rows: Row[] = [];
  splitLines(text).forEach((l, i) => {
    const h = g.parseAnyLine(l);
    const c = h && g.classify(h.msg);
    if (!h || !c) return;
    const row = expectedRow(i + 1, c, {
      ...(h.ts === undefined ? {} : { ts: h.ts }),
      ...(h.pid === undefined ? {} : { pid: Number(h.pid) }),
    });
    if (row) rows.push(row);
  });
  return rows;
}
