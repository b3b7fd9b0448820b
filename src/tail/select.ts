/**
 * Which matching files become sources, pure. Rotation must never create a phantom source (a source
 * that reads an old copy of another host's log again, then holds its bans forever), so a file is
 * left out when it is:
 *   - compressed (`.gz`, `.xz`, `.bz2`, `.zst`, `.lz4`, ...): never read, as in single-log mode;
 *   - a rotated sibling of another candidate or of a followed file, named as logrotate names them
 *     (siblings.ts): `X.1`, `X.2.gz`, `X-20261204`, `X.2026-12-04`, and with logrotate's
 *     `extension .log` the generation before the extension (`web1.1.log`, `web1-20261204.log`).
 *     A name is only a sibling of a file that exists (or is followed): an address-named log
 *     `10.0.0.1` is not mistaken for generation 1 of `10.0.0`, and `db-1` is no rotated `db`
 *     (a dash suffix must be a date).
 * Two files naming the same source are never merged: the followed one (or, among new ones, the
 * first in sorted order) keeps the name, the other is reported as a duplicate.
 */
import { COMPRESSED } from './siblings.js';
import { isValidSourceName } from '../core/source-name.js';
import { sourceOf, type LogPattern } from './pattern.js';

/** `.N`, or a date (`-20261204`, `.2026-12-04`, `-20261204-1733300000`, `_2026120412`). */
const ROTATION = String.raw`(?:\.\d+|[-._]\d{4}-?\d{2}-?\d{2}(?:[-_.]?\d+)?)`;
const AT_END = new RegExp(`^(.+?)${ROTATION}$`);
const BEFORE_EXTENSION = new RegExp(`^(.+?)${ROTATION}(\\.[A-Za-z][A-Za-z0-9]*)$`);

/** The names `name` would have had before rotation (at most two), compression removed. */
export function rotationOriginals(name: string): string[] {
  const bare = name.replace(COMPRESSED, '');
  const out: string[] = [];
  const end = AT_END.exec(bare);
  if (end?.[1]) out.push(end[1]);
  const ext = BEFORE_EXTENSION.exec(bare);
  if (ext?.[1] && ext[2]) out.push(ext[1] + ext[2]);
  return out;
}

export interface Selection {
  /** New sources, in sorted order of their paths. */
  add: Array<{ source: string; path: string }>;
  /** Files whose source name is already taken by another file. */
  duplicates: Array<{ source: string; path: string; kept: string }>;
  /** Files whose first `*` matched something that cannot be a source name (whitespace). */
  invalid: Array<{ path: string; name: string }>;
}

const split = (path: string): [string, string] => {
  const i = path.lastIndexOf('/');
  return [path.slice(0, i), path.slice(i + 1)];
};

/**
 * `files`: the regular files matching the pattern now; `followed`: source → path already followed
 * (kept even when its file is missing right now, so its name stays taken and its siblings stay
 * siblings).
 */
export function selectSources(pattern: LogPattern, files: readonly string[], followed: ReadonlyMap<string, string>): Selection {
  const namesByDir = new Map<string, Set<string>>();
  for (const p of [...files, ...followed.values()]) {
    const [dir, name] = split(p);
    let set = namesByDir.get(dir);
    if (!set) namesByDir.set(dir, (set = new Set()));
    set.add(name);
  }
  const owner = new Map<string, string>();
  for (const [source, path] of followed) owner.set(source, path);
  const out: Selection = { add: [], duplicates: [], invalid: [] };
  for (const path of [...new Set(files)].sort()) {
    const [dir, name] = split(path);
    if (COMPRESSED.test(name)) continue;
    const names = namesByDir.get(dir);
    if (rotationOriginals(name).some((o) => o !== name && names?.has(o))) continue;
    const source = sourceOf(pattern, path);
    if (source === null) continue;
    if (!isValidSourceName(source)) {
      out.invalid.push({ path, name: source });
      continue;
    }
    const kept = owner.get(source);
    if (kept === path) continue;
    if (kept !== undefined) {
      out.duplicates.push({ source, path, kept });
      continue;
    }
    owner.set(source, path);
    out.add.push({ source, path });
  }
  return out;
}
