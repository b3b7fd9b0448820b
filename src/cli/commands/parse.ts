/**
 * `f2b-sophosxg parse FILE... [--json] [--raw]`: prints the events the sidecar would see in
 * fail2ban logs (`-` = stdin), one per line, with a summary on stderr. Meant for checking a log
 * before pointing the sidecar at it. Every line goes through the sidecar's own parser
 * (src/parser); this file only reads and prints.
 */
import { resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { Command } from 'commander';
import { parseLine } from '../../parser/index.js';
import type { F2bEvent } from '../../parser/types.js';
import type { CliDeps, CommandModule } from '../deps.js';
import { fileLines, streamLines } from '../lines.js';

export interface ParseArgs {
  files: string[];
  json?: boolean;
  /** Include the raw line (JSON: "raw" field; text: after a tab). */
  raw?: boolean;
}

export interface Totals {
  lines: number;
  events: number;
  rejected: number;
  /** Insertion order is the order of first occurrence, which the summary line keeps. */
  reasons: Map<string, number>;
}

/** Output is collected up to this many characters per write: one write per line costs more than the parsing. */
const WRITE_CHARS = 1 << 16;

export const USAGE = `usage: f2b-sophosxg parse [--json] [--raw] FILE...   ('-' reads stdin)
  e.g. f2b-sophosxg parse /var/log/fail2ban.log   or   zcat fail2ban.log.2.gz | f2b-sophosxg parse
`;

export async function run(args: ParseArgs, deps: CliDeps): Promise<number> {
  // No file and a terminal on stdin: nobody is going to type a log, so say how to use it instead
  // of waiting silently. From a pipe (or with an explicit '-'), stdin is read.
  if (args.files.length === 0 && (deps.stdin as Readable & { isTTY?: boolean }).isTTY === true) {
    deps.stderr.write(USAGE);
    return 2;
  }
  const files = args.files.length > 0 ? args.files : ['-'];
  const raw = args.raw === true;
  const format = args.json === true ? (e: F2bEvent) => jsonLine(e, raw) : (e: F2bEvent) => textLine(e, raw);
  const totals: Totals = { lines: 0, events: 0, rejected: 0, reasons: new Map() };
  const out = new Output(deps.stdout);
  let failed = 0;
  for (const file of files) {
    if (deps.signal.aborted) break;
    try {
      const lines = file === '-' ? streamLines(deps.stdin as Readable) : fileLines(resolve(deps.cwd, file));
      for await (const line of lines) {
        count(totals, line, format, out);
        if (out.full()) await out.flush();
        if (deps.signal.aborted) break;
      }
    } catch (err) {
      failed++;
      const cause = err instanceof Error ? err.message : String(err);
      deps.stderr.write(`f2b-sophosxg: cannot read ${file === '-' ? 'stdin' : file}: ${cause.split('\n')[0]}\n`);
    }
  }
  await out.flush();
  deps.stderr.write(summaryLine(totals, failed));
  if (deps.signal.aborted) return 130;
  return failed > 0 ? 1 : 0;
}

function count(t: Totals, line: string, format: (e: F2bEvent) => string, out: Output): void {
  t.lines++;
  const r = parseLine(line);
  if (r.kind === 'event') {
    t.events++;
    out.push(format(r.event));
  } else if (r.kind === 'rejected') {
    t.rejected++;
    t.reasons.set(r.reason, (t.reasons.get(r.reason) ?? 0) + 1);
  }
}

/** Collected output, written in large pieces, honouring back-pressure. */
class Output {
  private parts: string[] = [];
  private size = 0;

  constructor(private readonly stream: Writable) {}

  push(s: string): void {
    this.parts.push(s);
    this.size += s.length;
  }

  full(): boolean {
    return this.size >= WRITE_CHARS;
  }

  async flush(): Promise<void> {
    if (this.size === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (!this.stream.write(text)) await drained(this.stream);
  }
}

function drained(stream: Writable): Promise<void> {
  return new Promise<void>((done) => {
    const finish = () => {
      stream.off('drain', finish);
      stream.off('error', finish);
      stream.off('close', finish);
      done();
    };
    stream.on('drain', finish);
    stream.on('error', finish);
    stream.on('close', finish);
  });
}

export function summaryLine(t: Totals, failed: number): string {
  const reasons = [...t.reasons].map(([r, n]) => `${r} ${n}`).join(', ');
  return (
    `parse: ${t.lines} line(s), ${t.events} event(s), ${t.rejected} rejected${reasons ? ` (${reasons})` : ''}` +
    `${failed ? `, ${failed} unreadable input(s)` : ''}\n`
  );
}

export function textLine(e: F2bEvent, raw: boolean): string {
  let s = `${e.time ?? '-'} ${e.type} ${e.jail ?? '-'} ${e.ip ?? '-'}`;
  if (e.version !== undefined) s += ` v${e.version}`;
  if (raw) s += `\t${e.raw}`;
  return `${s}\n`;
}

export function jsonLine(e: F2bEvent, raw: boolean): string {
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

export const command: CommandModule = {
  register(program: Command, deps: CliDeps, invoke) {
    program
      .command('parse')
      .description("print the events found in fail2ban log files ('-' = stdin)")
      .argument('[files...]', 'fail2ban log files', [])
      .option('--json', 'one JSON object per event')
      .option('--raw', 'include the raw log line')
      .addHelpText(
        'after',
        `
Without FILE, reads stdin when it is a pipe; on a terminal prints the usage and exits 2.
No config is read (-c does not apply): this only shows what the sidecar would parse.

Examples:
  f2b-sophosxg parse /var/log/fail2ban.log
  zcat /var/log/fail2ban.log.2.gz | f2b-sophosxg parse --json
  f2b-sophosxg parse --raw /var/log/fail2ban.log | grep ' Ban '

Exit status: 0 when every input was read, 1 when one could not be, 2 on a usage error, 130 when interrupted.`,
      )
      .action((files: string[], opts: { json?: boolean; raw?: boolean }) => invoke(() => run({ files, ...opts }, deps)));
  },
};

export const { register } = command;
