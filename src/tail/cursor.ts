/**
 * One open log file: its descriptor, identity, read position and line splitter. Reading goes through
 * the descriptor, never the path, so a renamed or deleted file is still read to its end.
 */
import type { FileHandle } from 'node:fs/promises';

import { HEAD_BYTES, canResume, hashHead, headLength } from './identity.js';
import { LineSplitter, type SplitLine } from './lines.js';
import type { Checkpoint } from '../core/checkpoint.js';

const CHUNK_BYTES = 64 * 1024;

/**
 * Read buffers are borrowed for one readBatch, not owned per cursor: with many followed files
 * (glob mode, issue 13) a 64 KiB buffer per idle file was 6.6 MB for 100 sources. The splitter
 * copies what it keeps, so a buffer is free again once the batch is split.
 */
const spare: Buffer[] = [];
const SPARE_MAX = 4;
const borrow = (): Buffer => spare.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES);
const giveBack = (b: Buffer): void => {
  if (spare.length < SPARE_MAX) spare.push(b);
};

export interface Batch {
  lines: SplitLine[];
  /** The byte budget was used up before reaching the end of the file. */
  more: boolean;
}

export class FileCursor {
  /** Next byte to read. */
  private pos = 0;
  private splitter: LineSplitter;
  /** The file's first min(HEAD_BYTES, pos) bytes at least. */
  private head: Buffer = Buffer.alloc(0);
  private readonly hashes = new Map<number, string>();

  constructor(
    private readonly fh: FileHandle,
    readonly dev: number,
    readonly ino: number,
    /** The followed path (written into checkpoints); not necessarily this file's current name. */
    private readonly path: string,
    private readonly maxLineBytes: number,
  ) {
    this.splitter = new LineSplitter({ maxLineBytes, startOffset: 0 });
  }

  get offset(): number {
    return this.pos;
  }

  async size(): Promise<number> {
    return (await this.fh.stat()).size;
  }

  /** Positions the cursor; `midLine` drops the bytes up to the next newline. */
  async seek(offset: number, midLine = false): Promise<void> {
    this.pos = offset;
    this.splitter = new LineSplitter({ maxLineBytes: this.maxLineBytes, startOffset: offset, skipToNewline: midLine });
    this.head = Buffer.alloc(0);
    this.hashes.clear();
    await this.fillHead();
  }

  /**
   * Positions the cursor at the start of the line being written at the end of the file, so a line
   * half-written at start-up is delivered whole. Lines longer than maxLineBytes are not searched
   * for: we then start at the end and drop the rest of that line.
   */
  async seekEnd(): Promise<void> {
    const size = await this.size();
    const from = Math.max(0, size - (this.maxLineBytes + 1));
    const tail = await this.readAt(from, size - from);
    const nl = tail.lastIndexOf(0x0a);
    if (nl !== -1) await this.seek(from + nl + 1);
    else if (from === 0) await this.seek(0);
    else await this.seek(size, true);
  }

  /** Reads up to `budget` bytes (whole chunks) from the position on; returns the completed lines. */
  async readBatch(budget: number): Promise<Batch> {
    const lines: SplitLine[] = [];
    let total = 0;
    let more = false;
    const buf = borrow();
    try {
      for (;;) {
        const { bytesRead } = await this.fh.read(buf, 0, CHUNK_BYTES, this.pos);
        if (bytesRead === 0) break;
        for (const l of this.splitter.push(buf.subarray(0, bytesRead))) lines.push(l);
        this.pos += bytesRead;
        total += bytesRead;
        if (bytesRead < CHUNK_BYTES) break;
        if (total >= budget) {
          more = true;
          break;
        }
      }
    } finally {
      giveBack(buf);
    }
    await this.fillHead();
    return { lines, more };
  }

  /** The unterminated remainder, for a file that will not be read any more. */
  flush(): SplitLine | undefined {
    return this.splitter.flush();
  }

  /** False when the bytes already read from the start of the file are no longer there (copytruncate). */
  async headUnchanged(): Promise<boolean> {
    if (this.head.length === 0) return true;
    const now = await this.readAt(0, this.head.length);
    return now.equals(this.head);
  }

  /** Same file as the checkpoint and still long enough to resume at its offset. */
  async matches(cp: Checkpoint): Promise<boolean> {
    if (cp.dev !== this.dev || cp.ino !== this.ino) return false;
    const head = hashHead(await this.readAt(0, headLength(cp.offset)));
    return canResume(cp, { dev: this.dev, ino: this.ino, head, size: await this.size() });
  }

  /**
   * Holds the checkpoint's bytes under another inode: a copy (copytruncate's `.1`) starts with the
   * same leading bytes and reaches the offset.
   */
  async continues(cp: Checkpoint): Promise<boolean> {
    const head = hashHead(await this.readAt(0, headLength(cp.offset)));
    return cp.offset > 0 && head === cp.head && (await this.size()) >= cp.offset;
  }

  checkpoint(end: number): Checkpoint {
    const len = headLength(end);
    let head = this.hashes.get(len);
    if (head === undefined) {
      head = hashHead(this.head.subarray(0, len));
      // Past HEAD_BYTES every offset shares one hash; below it only a few lines can exist.
      this.hashes.set(len, head);
    }
    return { path: this.path, dev: this.dev, ino: this.ino, offset: end, head };
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  private async fillHead(): Promise<void> {
    const want = Math.min(HEAD_BYTES, this.pos);
    if (this.head.length < want) this.head = await this.readAt(0, want);
  }

  private async readAt(position: number, length: number): Promise<Buffer> {
    const out = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await this.fh.read(out, got, length - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return out.subarray(0, got);
  }
}
