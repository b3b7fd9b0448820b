/**
 * Readers for `fail2ban-client` stdout, used for start-up reconciliation (reference §10).
 * IDs are returned as printed: validating them (normalizeAddress) is the caller's decision, so a
 * hostname ban shows up here and can be reported rather than silently dropped.
 */
import { ClientOutputError } from './errors.js';
import { parsePyLiteral, type PyValue } from './pyliteral.js';

export { ClientOutputError } from './errors.js';
export { parsePyLiteral, type PyValue } from './pyliteral.js';

/**
 * `fail2ban-client banned` (0.10.6, 0.11.2+): `[{'sshd': ['192.0.2.10', …]}, {'webapp-auth': []}]`
 * → jail → IDs, in the order printed.
 */
export function parseBanned(stdout: string): Map<string, string[]> {
  const v = parsePyLiteral(stdout);
  if (!Array.isArray(v)) throw new ClientOutputError('`banned` output is not a list');
  const out = new Map<string, string[]>();
  for (const item of v) {
    if (!(item instanceof Map)) throw new ClientOutputError('`banned` list item is not a dict');
    for (const [jail, ids] of item) {
      if (typeof jail !== 'string') throw new ClientOutputError('`banned` jail name is not a string');
      out.set(jail, [...(out.get(jail) ?? []), ...stringList(ids, `jail ${jail}`)]);
    }
  }
  return out;
}

/** `fail2ban-client get JAIL banned`: `['192.0.2.10', '2001:db8::10']`. */
export function parseJailBanned(stdout: string): string[] {
  return stringList(parsePyLiteral(stdout), '`get JAIL banned`');
}

function stringList(v: PyValue, what: string): string[] {
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) {
    throw new ClientOutputError(`${what}: expected a list of strings`);
  }
  return v;
}

export interface BanIpEntry {
  id: string;
  /** Ticket time, server-local "YYYY-MM-DD HH:MM:SS". */
  start: string;
  /** Seconds; -1 = permanent. */
  bantime: number;
  /** Server-local end; "9999-12-31 23:59:59" for permanent bans. */
  end: string;
}

const WITH_TIME = /^(?<id>.+?) \t(?<start>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \+ (?<bantime>-?\d+) = (?<end>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)$/;

/**
 * `fail2ban-client get JAIL banip --with-time` (0.11.1+): one `ID \tSTART + BANTIME = END` per
 * line; empty output (or a single empty line) when nothing is banned.
 */
export function parseBanIpWithTime(stdout: string): BanIpEntry[] {
  const out: BanIpEntry[] = [];
  for (const line of stdout.split('\n')) {
    const l = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (l === '') continue;
    const g = WITH_TIME.exec(l)?.groups;
    if (!g) throw new ClientOutputError(`unexpected \`banip --with-time\` line: ${JSON.stringify(l.slice(0, 200))}`);
    out.push({ id: g.id as string, start: g.start as string, bantime: Number(g.bantime), end: g.end as string });
  }
  return out;
}

/** `fail2ban-client status`: the names after "Jail list:\t", split on ", ". */
export function parseStatusJails(stdout: string): string[] {
  const m = /^\s*`- Jail list:\t?(.*?)\r?$/m.exec(stdout);
  if (!m || !/^Status\r?$/m.test(stdout)) throw new ClientOutputError('`status` output has no "Jail list:" line');
  const list = (m[1] as string).trim();
  const jails = list === '' ? [] : list.split(/,\s*/);
  const count = /^\|- Number of jail:\t?\s*(\d+)/m.exec(stdout);
  if (count && Number(count[1]) !== jails.length) {
    throw new ClientOutputError(`\`status\` says ${count[1]} jail(s) but lists ${jails.length}`);
  }
  return jails;
}
