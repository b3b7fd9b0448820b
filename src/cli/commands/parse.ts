/**
 * `f2b-sophosxg parse FILE... [--json] [--raw]`: prints the events the sidecar would see in
 * fail2ban logs (`-` = stdin), one per line, with a summary on stderr. Meant for checking a log
 * before pointing the sidecar at it, and fast enough for a year of logs: the WebAssembly scanner
 * of parse-scan.ts, large reads into reused buffers, large writes. One thread: a worker scanning
 * the second half of a file was tried and made it slower here (bench/RESULTS.md).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import type { CliDeps, CommandModule } from '../deps.js';
import { OutBuffer, Scanner, WRITE_CHUNK, newTotals, summaryLine, type Format, type Totals } from './parse-scan.js';

export interface ParseArgs {
  files: string[];
  json?: boolean;
  /** Include the raw line (JSON: "raw" field; text: after a tab). */
  raw?: boolean;
}

const READ_CHUNK = 1 << 20;

export async function run(args: ParseArgs, deps: CliDeps): Promise<number> {
  const files = args.files.length > 0 ? args.files : ['-'];
  const fmt: Format = { json: args.json === true, raw: args.raw === true };
  const ctx: Ctx = { out: new StreamOut(deps.stdout), totals: newTotals(), fmt, signal: deps.signal };
  let failed = 0;
  for (const file of files) {
    if (deps.signal.aborted) break;
    const name = file === '-' ? 'stdin' : file;
    try {
      if (file === '-') await scanInput(deps.stdin as AsyncIterable<Buffer | string>, ctx);
      else await scanFile(resolve(deps.cwd, file), ctx);
    } catch (err) {
      failed++;
      const cause = err instanceof Error ? err.message : String(err);
      deps.stderr.write(`f2b-sophosxg: cannot read ${name}: ${cause.split('\n')[0]}\n`);
    }
  }
  await ctx.out.flush();
  deps.stderr.write(summaryLine(ctx.totals, failed));
  if (deps.signal.aborted) return 130;
  return failed > 0 ? 1 : 0;
}

interface Ctx {
  out: StreamOut;
  totals: Totals;
  fmt: Format;
  signal: AbortSignal;
}

async function scanInput(input: AsyncIterable<Buffer | string>, ctx: Ctx): Promise<void> {
  const scanner = new Scanner(ctx.out.buf, ctx.totals, ctx.fmt);
  for await (const chunk of input) {
    scanner.chunk(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
    await ctx.out.maybeFlush();
    if (ctx.signal.aborted) return;
  }
  scanner.end();
}

async function scanFile(path: string, ctx: Ctx): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await scanInput(fileChunks(fh), ctx);
  } finally {
    await fh.close();
  }
}

/**
 * A file's bytes in chunks of two reused buffers: a read stream allocates a fresh
 * buffer per chunk, and on a 116 MB log the page faults of those allocations cost more time than
 * grep takes for the whole file.
 */
async function* fileChunks(fh: FileHandle): AsyncGenerator<Buffer> {
  // Two buffers: the next read runs in the thread pool while this thread scans the current chunk
  // (the scanner copies what it keeps of a chunk, so a buffer is free again once yielded back).
  let cur = Buffer.allocUnsafe(READ_CHUNK);
  let spare = Buffer.allocUnsafe(READ_CHUNK);
  const read = (buf: Buffer) => fh.read(buf, 0, READ_CHUNK, null);
  let next: ReturnType<typeof read> | undefined = read(cur);
  try {
    while (next !== undefined) {
      const { bytesRead } = await next;
      next = undefined;
      if (bytesRead === 0) return;
      next = read(spare);
      yield cur.subarray(0, bytesRead);
      [cur, spare] = [spare, cur];
    }
  } finally {
    // Left early (abort): the read ahead must be over before the caller closes the file.
    await next?.catch(() => undefined);
  }
}

/** Output to the command's stream, honouring back-pressure; written buffers are reused. */
class StreamOut {
  private readonly pool: Buffer[] = [];
  private pending: Buffer[] = [];
  readonly buf = new OutBuffer(
    (full) => this.pending.push(full),
    () => this.pool.pop() ?? Buffer.allocUnsafeSlow(WRITE_CHUNK),
  );

  constructor(private readonly stream: Writable) {}

  async maybeFlush(): Promise<void> {
    if (this.pending.length > 0) await this.writePending();
  }

  async flush(): Promise<void> {
    this.buf.finish();
    await this.writePending();
  }

  private async writePending(): Promise<void> {
    const parts = this.pending;
    this.pending = [];
    for (const part of parts) await this.write(part);
  }

  private async write(part: Buffer): Promise<void> {
    if (part.length === 0) return;
    // The stream is done with a chunk when its callback runs, not when write() returns.
    if (!this.stream.write(part, () => this.recycle(part))) await drained(this.stream);
  }

  private recycle(part: Buffer): void {
    const ab = part.buffer;
    if (part.byteOffset === 0 && ab.byteLength === WRITE_CHUNK && this.pool.length < 4) this.pool.push(Buffer.from(ab));
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
