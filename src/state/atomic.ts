/**
 * Crash-safe replacement of a file: after any crash, the target holds either the complete old or
 * the complete new content. The data is written to a unique temp file in the same directory
 * (rename is only atomic within one file system), fsynced, renamed over the target, and the
 * directory is fsynced so the rename itself survives a power cut.
 */
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { StateWriteError, type WriteStep } from './errors.js';

/** The file handle operations used; node's FileHandle fits. */
export interface FileHandleLike {
  writeFile(data: string | Uint8Array): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** The file system operations used; `node:fs/promises` fits, tests inject failures. */
export interface FsLike {
  open(path: string, flags: string, mode?: number): Promise<FileHandleLike>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
}

export const nodeFs: FsLike = fsp;

export interface WriteAtomicOptions {
  /** Mode of the new file (default 0o600: the state lists who is banned). */
  mode?: number;
  fs?: FsLike;
}

/** Temp files are hidden and recognisable, so a start-up sweep can remove those a crash left. */
export function tempPrefix(target: string): string {
  return `.${basename(target)}.tmp-`;
}

export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: WriteAtomicOptions = {}): Promise<void> {
  const fs = opts.fs ?? nodeFs;
  const dir = dirname(path);
  const tmp = join(dir, `${tempPrefix(path)}${process.pid}-${randomBytes(6).toString('hex')}`);
  let step: WriteStep = 'open';
  let handle: FileHandleLike | undefined;
  let renamed = false;
  try {
    handle = await fs.open(tmp, 'wx', opts.mode ?? 0o600);
    step = 'write';
    await handle.writeFile(data);
    step = 'fsync';
    await handle.sync();
    step = 'close';
    const h = handle;
    handle = undefined;
    await h.close();
    step = 'rename';
    await fs.rename(tmp, path);
    renamed = true;
    step = 'fsync-dir';
    await syncDir(fs, dir);
  } catch (err) {
    if (handle) await handle.close().catch(() => undefined);
    if (!renamed) await fs.unlink(tmp).catch(() => undefined);
    throw new StateWriteError(path, step, err);
  }
}

/**
 * Makes renames/creations in `dir` durable. File systems that cannot fsync a directory
 * (EINVAL/EISDIR/ENOTSUP on some network and FUSE mounts) offer nothing better: ignored there.
 */
export async function syncDir(fs: FsLike, dir: string): Promise<void> {
  const h = await fs.open(dir, 'r');
  try {
    await h.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'ENOTSUP') throw err;
  } finally {
    await h.close();
  }
}
