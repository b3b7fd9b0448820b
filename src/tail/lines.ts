/**
 * Byte-level line splitting with file offsets, pure. Splitting happens on bytes (0x0A) before any
 * decoding, so a multi-byte UTF-8 character cut by a chunk boundary is reassembled intact and offsets
 * stay exact byte positions. At most maxLineBytes of a line are kept in memory: a 1 GiB line costs
 * 64 KiB, the rest is counted and dropped.
 */

export interface SplitLine {
  /** The line without its newline, UTF-8 decoded with replacement characters. */
  text: string;
  /** File offset just past the line's newline (past its last byte for a flushed fragment). */
  end: number;
  /**
   * Present when the line was cut: how many bytes it really had (newline excluded). A cut line is
   * not a log line: its end may fall inside an address ("Ban 198.51.100.123" cut to
   * "Ban 198.51.100.1"), so it must never be parsed into an event; see isTruncated.
   */
  originalBytes?: number;
}

/** A cut line: consumers skip it (and count it) instead of parsing it. */
export function isTruncated(line: SplitLine): boolean {
  return line.originalBytes !== undefined;
}

export interface SplitterOptions {
  maxLineBytes: number;
  /** File offset of the first byte that will be pushed. */
  startOffset: number;
  /** Drop everything up to and including the first newline (we start in the middle of a line). */
  skipToNewline?: boolean;
}

export class LineSplitter {
  private readonly maxLineBytes: number;
  private parts: Buffer[] = [];
  private kept = 0;
  private seen = 0;
  private next: number;
  private skipping: boolean;

  constructor(opts: SplitterOptions) {
    this.maxLineBytes = opts.maxLineBytes;
    this.next = opts.startOffset;
    this.skipping = opts.skipToNewline ?? false;
  }

  /** File offset of the next byte to push. */
  get offset(): number {
    return this.next;
  }

  /** Bytes of the unterminated line currently held back. */
  get pendingBytes(): number {
    return this.seen;
  }

  /** Feeds the next bytes of the file; returns the lines they complete. `chunk` may be reused after. */
  push(chunk: Uint8Array): SplitLine[] {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: SplitLine[] = [];
    let start = 0;
    while (start < buf.length) {
      const nl = buf.indexOf(0x0a, start);
      if (nl === -1) {
        this.keep(buf.subarray(start));
        break;
      }
      this.keep(buf.subarray(start, nl));
      const line = this.take(this.next + nl + 1);
      if (this.skipping) this.skipping = false;
      else out.push(line);
      start = nl + 1;
    }
    this.next += buf.length;
    return out;
  }

  /**
   * Gives up the unterminated remainder (only for a file that will never grow again: an old file
   * closed after rotation). Undefined when nothing is pending.
   */
  flush(): SplitLine | undefined {
    if (this.seen === 0) return undefined;
    const line = this.take(this.next);
    if (this.skipping) {
      this.skipping = false;
      return undefined;
    }
    return line;
  }

  private keep(segment: Buffer): void {
    if (segment.length === 0) return;
    this.seen += segment.length;
    if (this.skipping) return;
    const room = this.maxLineBytes - this.kept;
    if (room <= 0) return;
    // Copy: the caller reuses its read buffer.
    const part = Buffer.from(segment.subarray(0, room));
    this.parts.push(part);
    this.kept += part.length;
  }

  private take(end: number): SplitLine {
    let bytes = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.kept);
    const truncated = this.seen > this.kept;
    if (truncated) bytes = trimIncompleteUtf8(bytes);
    const line: SplitLine = { text: bytes.toString('utf8'), end };
    if (truncated) line.originalBytes = this.seen;
    this.parts = [];
    this.kept = 0;
    this.seen = 0;
    return line;
  }
}

/** Drops a UTF-8 sequence cut by truncation, so a cut line does not end in a replacement character. */
export function trimIncompleteUtf8(bytes: Buffer): Buffer {
  const len = bytes.length;
  for (let i = len - 1; i >= 0 && i >= len - 4; i--) {
    const b = bytes[i] as number;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return i + need > len ? bytes.subarray(0, i) : bytes;
  }
  return bytes;
}
