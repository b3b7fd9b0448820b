/**
 * File identity, pure. A file is (dev, ino) plus a hash of its first bytes: inode numbers are handed
 * out again right after a delete (seen in the rotation capture: the new fail2ban.log got the inode of
 * the file logrotate had just gzipped), so (dev, ino) alone can name a different file.
 *
 * The hash covers min(HEAD_BYTES, offset) bytes — only bytes already delivered — so it is comparable
 * between a checkpoint taken when the file was 100 bytes long and the same file grown to 1 MiB.
 */
import { createHash } from 'node:crypto';

import type { Checkpoint } from '../core/checkpoint.js';

export const HEAD_BYTES = 256;

export interface FileIdentity {
  dev: number;
  ino: number;
  /** sha256 hex of the file's first headLength(offset) bytes, for the offset being compared. */
  head: string;
}

/** How many leading bytes the head hash of a checkpoint at `offset` covers. */
export function headLength(offset: number): number {
  return Math.min(HEAD_BYTES, Math.max(0, offset));
}

export function hashHead(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Same file: same device, same inode and the same leading bytes (hashed over the same length). */
export function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.head === b.head;
}

/**
 * A checkpoint can be resumed in `file` when it is the same file and the file still reaches the
 * offset (shorter = truncated or reused inode: the offset means nothing there any more).
 * `file.head` must be hashed over headLength(cp.offset) bytes.
 */
export function canResume(cp: Checkpoint, file: FileIdentity & { size: number }): boolean {
  return sameFile(cp, file) && file.size >= cp.offset;
}
