/**
 * The rotated siblings of the followed path (`fail2ban.log.1`, `fail2ban.log.2.gz`, …), as logrotate
 * names them: `PATH.N`, newest first. Used at start-up only, to find where a checkpoint's file went
 * while the tailer was not running (renamed, or copied before a truncation) and, on a first start
 * from the beginning, which rotated files the current one continues.
 *
 * Compressed siblings are never read: with Debian's `delaycompress` (the default of fail2ban's
 * logrotate file) the newest rotated file, `.1`, stays uncompressed for a whole period, so only two
 * rotations while the sidecar is down put a checkpoint's file out of reach.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export const COMPRESSED = /\.(gz|bz2|xz|zst|lz4|lzma|z|zip)$/i;

export interface Sibling {
  /** Full path. */
  file: string;
  /** N of `PATH.N` (1 = newest rotated file); Infinity for other names starting with the base name. */
  generation: number;
  compressed: boolean;
}

/** Siblings of `dir/base`, newest generation first; names without a generation number last. */
export async function rotatedSiblings(dir: string, base: string): Promise<Sibling[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: Sibling[] = [];
  for (const name of names) {
    if (name === base || !name.startsWith(base)) continue;
    const m = /^\.(\d+)(\.[A-Za-z0-9]+)?$/.exec(name.slice(base.length));
    out.push({ file: join(dir, name), generation: m ? Number(m[1]) : Infinity, compressed: COMPRESSED.test(name) });
  }
  return out.sort((a, b) => a.generation - b.generation || a.file.localeCompare(b.file));
}

/**
 * The uncompressed rotated files the current file continues, oldest first: `PATH.1`, `PATH.2`, …
 * up to the first missing or compressed generation, each no newer (mtime) than the one after it.
 */
export async function continuedChain(current: string, siblings: Sibling[]): Promise<string[]> {
  const newer = await stat(current).catch(() => null);
  if (!newer) return [];
  let limit = newer.mtimeMs;
  const chain: string[] = [];
  for (let n = 1; ; n++) {
    const s = siblings.find((x) => x.generation === n);
    if (!s || s.compressed) break;
    const st = await stat(s.file).catch(() => null);
    if (!st || !st.isFile() || st.mtimeMs > limit) break;
    chain.push(s.file);
    limit = st.mtimeMs;
  }
  return chain.reverse();
}

/** Uncompressed generations newer than `generation` (written after it), oldest first. */
export function newerGenerations(siblings: Sibling[], generation: number): string[] {
  const out: string[] = [];
  for (let n = generation - 1; n >= 1; n--) {
    const s = siblings.find((x) => x.generation === n);
    if (!s || s.compressed) break;
    out.push(s.file);
  }
  return out;
}
