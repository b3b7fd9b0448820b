/**
 * The operator's release of held removals (issue 11 item 6). The running sidecar has no control
 * socket: `f2b-sophosxg release` writes one request file per hold token into `stateDir/release/`,
 * and the sidecar polls that directory every few seconds, hands each token to the breaker and
 * deletes the request once honoured. A request whose hold does not exist (yet) is kept: after a
 * start the same held set forms again with the same token on the first pass, so a release written
 * while no sidecar ran is honoured by the next start. Requests nobody honours expire after an hour.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { RemovalBreaker } from '../pipeline/index.js';
import { writeFileAtomic } from '../state/index.js';
import { pollEvery } from './poll.js';
import type { Shutdown } from './shutdown.js';

export const RELEASE_DIR = 'release';
const SUFFIX = '.release';
export const RELEASE_POLL_MS = 2000;
export const RELEASE_EXPIRY_MS = 3_600_000;

interface ReleaseLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Writes a request to release the hold named by `token`; returns the file. */
export async function requestRelease(stateDir: string, token: string): Promise<string> {
  const dir = join(stateDir, RELEASE_DIR);
  await mkdir(dir, { recursive: true });
  // Tokens hold '/' and '#': the file is named by their hash and holds the token itself.
  const file = join(dir, `${createHash('sha256').update(token).digest('hex').slice(0, 16)}${SUFFIX}`);
  await writeFileAtomic(file, `${token}\n`);
  return file;
}

export interface ReleaseWatchOptions {
  stateDir: string;
  breaker: RemovalBreaker;
  log: ReleaseLogger;
  /** A release took effect: run a pass now. */
  onReleased?: () => void;
  now?: () => number;
}

/** One look at the request directory. Exported for tests; watchReleases() polls it. */
export async function pollReleases(o: ReleaseWatchOptions): Promise<number> {
  const dir = join(o.stateDir, RELEASE_DIR);
  const names = await readdir(dir).catch(() => [] as string[]);
  let released = 0;
  for (const name of names.filter((n) => n.endsWith(SUFFIX))) {
    const file = join(dir, name);
    const token = (await readFile(file, 'utf8').catch(() => '')).trim();
    const r = token ? o.breaker.release(token) : { ok: false as const, reason: 'unknown-token' as const };
    if (r.ok) {
      released += r.released;
      o.log.info({ token, group: r.group, released: r.released }, 'held removals released by the operator');
      await unlink(file).catch(() => undefined);
      continue;
    }
    const age = (o.now ?? Date.now)() - ((await stat(file).catch(() => undefined))?.mtimeMs ?? 0);
    if (age > RELEASE_EXPIRY_MS) {
      o.log.warn({ token }, 'release request for a hold that does not exist (it changed? run status): dropped');
      await unlink(file).catch(() => undefined);
    }
  }
  if (released > 0) o.onReleased?.();
  return released;
}

export function watchReleases(o: ReleaseWatchOptions, shutdown: Shutdown): void {
  pollEvery(
    () => pollReleases(o),
    RELEASE_POLL_MS,
    (err) => o.log.warn({ err }, 'cannot read release requests'),
    shutdown,
  );
}
