// Real fail2ban captures as pipeline input: every line with its time offset (from the log's own
// time stamps) and a checkpoint. Uses the project's parser (src/parser/index.ts `parseLine`) when
// it is there; until then a minimal reader of the §4 regexes of the reference covering the
// event types the pipeline consumes.
import { readFileSync } from 'node:fs';
import type { EventType, F2bEvent, ParseResult } from '../../src/parser/types.js';
import type { Checkpoint } from '../../src/core/checkpoint.js';

export const FIXTURES = new URL('../../../shared/fixtures/fail2ban/', import.meta.url);

export interface TimedLine {
  /** ms since the first line's time stamp */
  t: number;
  line: string;
  event?: F2bEvent;
  checkpoint: Checkpoint;
}

type ParseLine = (line: string) => ParseResult;

const HEADER =
  /^(?<ts>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}) (?<logger>fail2ban(?:\.[\w.-]+)?) *(?:\[(?<pid>\d+)\])?: (?<level>[A-Z]+) +(?<msg>.*)$/;
const J = String.raw`\[(?<jail>[^\]]+)\]`;
const RULES: Array<[RegExp, EventType]> = [
  [new RegExp(String.raw`^${J} Ban (?<id>.+?)\s*$`), 'ban'],
  [new RegExp(String.raw`^${J} Restore Ban (?<id>.+?)\s*$`), 'restore-ban'],
  [new RegExp(String.raw`^${J} Unban (?<id>.+?)\s*$`), 'unban'],
  [new RegExp(String.raw`^${J} Repeal Ban (?<id>.+?)\s*$`), 'repeal-ban'],
  [new RegExp(String.raw`^${J} (?<id>\S+) already banned\s*$`), 'already-banned'],
  [/^Jail u?(?<q>['"])(?<jail>.+)\k<q> started$/, 'jail-start'],
  [/^Jail u?(?<q>['"])(?<jail>.+)\k<q> stopped$/, 'jail-stop'],
  [/^Starting Fail2ban v(?<version>\S+)$/, 'server-start'],
  [/^Shutdown in progress\.\.\.$/, 'server-stopping'],
  [/^Stopping all jails$/, 'server-stopping'],
  [/^Exiting Fail2ban$/, 'server-stop'],
  [/^(?:rollover|flush) performed on .+$/, 'log-reopened'],
];

const minimalParseLine: ParseLine = (line) => {
  const h = HEADER.exec(line)?.groups;
  if (!h) return { kind: 'none' };
  for (const [re, type] of RULES) {
    const m = re.exec(h.msg ?? '');
    if (!m) continue;
    const g = m.groups ?? {};
    const event: F2bEvent = { type, raw: line, time: h.ts, pid: Number(h.pid) };
    if (g.jail !== undefined) event.jail = g.jail;
    if (g.version !== undefined) event.version = g.version;
    if (g.id !== undefined) {
      const id = g.id;
      const family = /^[\d.]+(\/\d+)?$/.test(id) ? 'IPv4' : /^[\da-f:]+(\/\d+)?$/i.test(id) && id.includes(':') ? 'IPv6' : undefined;
      if (!family) return { kind: 'rejected', reason: 'not an IP', raw: line, id };
      event.ip = id;
      event.family = family;
    }
    return { kind: 'event', event };
  }
  return { kind: 'none' };
};

async function parser(): Promise<{ parseLine: ParseLine; real: boolean }> {
  const spec = '../../src/parser/index.js';
  try {
    const mod = (await import(/* @vite-ignore */ spec)) as { parseLine?: ParseLine };
    if (typeof mod.parseLine === 'function') return { parseLine: mod.parseLine, real: true };
  } catch {
    // not written yet
  }
  return { parseLine: minimalParseLine, real: false };
}

function stampMs(line: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}),(\d{3})/.exec(line);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, ms] = m.map(Number) as number[];
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!, ms!);
}

export async function readFixture(name: string): Promise<{ lines: TimedLine[]; realParser: boolean }> {
  const { parseLine, real } = await parser();
  const text = readFileSync(new URL(name, FIXTURES), 'utf8');
  const out: TimedLine[] = [];
  let offset = 0;
  let first: number | undefined;
  let last = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    offset += Buffer.byteLength(line) + 1;
    const ms = stampMs(line);
    if (ms !== undefined) {
      first ??= ms;
      last = ms - first;
    }
    const checkpoint: Checkpoint = { path: `/var/log/${name}`, dev: 1, ino: 1, offset, head: 'fixture' };
    const r = parseLine(line);
    const tl: TimedLine = { t: last, line, checkpoint };
    if (r.kind === 'event') tl.event = r.event;
    out.push(tl);
  }
  return { lines: out, realParser: real };
}
