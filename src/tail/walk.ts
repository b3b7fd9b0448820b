/**
 * The files matching a log path pattern now: one readdir per directory at each wildcard level, no
 * I/O for literal directory segments (the next readdir finds out), and a stat only where readdir's
 * entry type does not say enough (a symbolic link) or for a literal last segment not followed yet.
 * A missing directory is no error (a host that has not logged yet); others are reported.
 */
import { readdir, stat } from 'node:fs/promises';
import type { Dirent } from 'node:fs';

import { errnoCode } from './errors.js';
import { segmentMatches, type LogPattern, type Segment } from './pattern.js';

export interface WalkResult {
  /** Regular files (or links to them) matching the pattern, plus followed paths not re-checked. */
  files: string[];
  /** Directories that could not be read for another reason than not existing. */
  errors: Array<{ dir: string; error: unknown }>;
}

const join = (dir: string, name: string): string => (dir === '/' ? `/${name}` : `${dir}/${name}`);

const absent = (err: unknown): boolean => {
  const code = errnoCode(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
};

async function kind(path: string, entry: Dirent | null): Promise<'file' | 'dir' | 'other'> {
  if (entry && !entry.isSymbolicLink()) return entry.isFile() ? 'file' : entry.isDirectory() ? 'dir' : 'other';
  const st = await stat(path).catch(() => null);
  return st?.isFile() ? 'file' : st?.isDirectory() ? 'dir' : 'other';
}

/** `followed(path)`: already followed, so returned as it is without a stat (its tailer watches it). */
export async function walkPattern(pattern: LogPattern, followed: (path: string) => boolean): Promise<WalkResult> {
  const errors: WalkResult['errors'] = [];
  let dirs = [pattern.root];
  const last = pattern.segments.length - 1;
  for (let i = 0; i <= last; i++) {
    const seg = pattern.segments[i] as Segment;
    const want = i === last ? 'file' : 'dir';
    const next: string[] = [];
    for (const dir of dirs) {
      if ('literal' in seg) {
        const path = join(dir, seg.literal);
        if (want === 'dir' || followed(path) || (await kind(path, null)) === 'file') next.push(path);
        continue;
      }
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if (!absent(error)) errors.push({ dir, error });
        continue;
      }
      for (const e of entries) {
        if (!segmentMatches(seg, e.name)) continue;
        const path = join(dir, e.name);
        if ((want === 'file' && followed(path)) || (await kind(path, e)) === want) next.push(path);
      }
    }
    dirs = next;
  }
  return { files: dirs, errors };
}
