/**
 * `f2b-sophosxg parse FILE... [--json] [--raw]`: prints the events the sidecar would see in
 * fail2ban logs (`-` = stdin), one per line, with a summary on stderr. Meant for checking a log
 * before pointing the sidecar at it, and fast enough for a year of logs: large reads, lines cut
 * in place (parseSpan, no string per line) and output written in large chunks.
 */
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { Command } from 'commander';
import { parseSpan } from '../../parser/index.js';
import type { F2bEvent, ParseResult } from '../../parser/types.js';
import type { CliDeps, CommandModule } from '../deps.js';

export interface ParseArgs {
  files: string[];
  json?: boolean;
  /** Include the raw line (JSON: "raw" field; text: after a tab). */
  raw?: boolean;
}

const READ_CHUNK = 1 << 20;
const WRITE_CHUNK = 1 << 20;

interface Totals {
  lines: number;
  events: number;
  rejected: number;
  reasons: Map<string, number>;
}

export async function run(args: ParseArgs, deps: CliDeps): Promise<number> {
  const files = args.files.length > 0 ? args.files : ['-'];
  const out = new Output(deps.stdout);
  const totals: Totals = { lines: 0, events: 0, rejected: 0, reasons: new Map() };
  const format = args.json ? (e: F2bEvent) => jsonLine(e, args.raw === true) : (e: F2bEvent) => textLine(e, args.raw === true);
  const onResult = (r: ParseResult): void => {
    if (r.kind === 'event') {
      totals.events++;
      out.push(format(r.event));
    } else if (r.kind === 'rejected') {
      totals.rejected++;
      totals.reasons.set(r.reason, (totals.reasons.get(r.reason) ?? 0) + 1);
    }
  };
  let failed = 0;
  for (const file of files) {
    if (deps.signal.aborted) break;
    const name = file === '-' ? 'stdin' : file;
    try {
      const input: Readable = file === '-' ? deps.stdin : createReadStream(resolve(deps.cwd, file), { highWaterMark: READ_CHUNK });
      totals.lines += await scan(input, onResult, out, deps.signal);
    } catch (err) {
      failed++;
      const cause = err instanceof Error ? err.message : String(err);
      deps.stderr.write(`f2b-sophosxg: cannot read ${name}: ${cause.split('\n')[0]}\n`);
    }
  }
  await out.flush();
  const reasons = [...totals.reasons].map(([r, n]) => `${r} ${n}`).join(', ');
  deps.stderr.write(
    `parse: ${totals.lines} line(s), ${totals.events} event(s), ${totals.rejected} rejected${reasons ? ` (${reasons})` : ''}` +
      `${failed ? `, ${failed} unreadable input(s)` : ''}\n`,
  );
  if (deps.signal.aborted) return 130;
  return failed > 0 ? 1 : 0;
}

/** Feeds every line of `input` to onResult; returns the number of lines. */
async function scan(input: Readable, onResult: (r: ParseResult) => void, out: Output, signal: AbortSignal): Promise<number> {
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let lines = 0;
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const text = carry + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    let pos = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', pos)) {
      lines++;
      const r = parseSpan(text, pos, nl);
      if (r.kind !== 'none') onResult(r);
      pos = nl + 1;
    }
    carry = pos === 0 ? text : text.slice(pos);
    await out.maybeFlush();
    if (signal.aborted) return lines;
  }
  carry += decoder.end();
  if (carry !== '') {
    // A static file may end without a newline; its last line is complete here (unlike a tail).
    lines++;
    const r = parseSpan(carry, 0, carry.length);
    if (r.kind !== 'none') onResult(r);
  }
  return lines;
}

/** Collects output text and writes it in large pieces, honouring back-pressure. */
class Output {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly stream: Writable) {}

  push(s: string): void {
    this.parts.push(s);
    this.size += s.length;
  }

  async maybeFlush(): Promise<void> {
    if (this.size >= WRITE_CHUNK) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.size === 0 && this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (!this.stream.write(text)) {
      await new Promise<void>((done) => {
        const finish = () => {
          this.stream.off('drain', finish);
          this.stream.off('error', finish);
          this.stream.off('close', finish);
          done();
        };
        this.stream.on('drain', finish);
        this.stream.on('error', finish);
        this.stream.on('close', finish);
      });
    }
  }
}

function textLine(e: F2bEvent, raw: boolean): string {
  let s = `${e.time ?? '-'} ${e.type} ${e.jail ?? '-'} ${e.ip ?? '-'}`;
  if (e.version !== undefined) s += ` v${e.version}`;
  if (raw) s += `\t${e.raw}`;
  return `${s}\n`;
}

function jsonLine(e: F2bEvent, raw: boolean): string {
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

export const command: CommandModule = {
  register(program: Command, deps: CliDeps, invoke) {
    program
      .command('parse')
      .description("print the events found in fail2ban log files ('-' = stdin)")
      .argument('[files...]', 'fail2ban log files', [])
      .option('--json', 'one JSON object per event')
      .option('--raw', 'include the raw log line')
      .action((files: string[], opts: { json?: boolean; raw?: boolean }) => invoke(() => run({ files, ...opts }, deps)));
  },
};

export const { register } = command;
