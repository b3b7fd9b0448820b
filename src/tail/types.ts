/**
 * Where the tailer stands in the log. Persisted by the caller (inside the state file) and handed
 * back at start-up; the tailer resumes right after the last line it delivered.
 */
export interface Checkpoint {
  /** Path that was followed when the checkpoint was taken. */
  path: string;
  /** File identity: device and inode of the file the offset belongs to. */
  dev: number;
  ino: number;
  /** Byte offset just past the newline of the last delivered line. */
  offset: number;
  /**
   * Hash (hex sha256) of the file's first bytes (up to 256), so inode reuse after rotation
   * is not mistaken for the same file. Exactly: the first min(256, offset) bytes — only bytes
   * already delivered, so the hash of a file shorter than 256 bytes stays valid as it grows.
   */
  head: string;
}

export interface TailLine {
  /** One complete line, without its trailing newline (UTF-8 decoded, invalid bytes replaced). */
  line: string;
  /** Checkpoint just after this line: persisting it means "this line and all before are handled". */
  checkpoint: Checkpoint;
  /** The line was longer than maxLineBytes and `line` is only its start: never parse it into an event. */
  truncated?: true;
}
