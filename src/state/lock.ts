/**
 * One sidecar per state directory: two would each write their own desired state and fight over
 * the firewall. A lock file is created with O_EXCL and holds the owner's pid, its start time and
 * the boot id, so a lock left by a killed process is recognised as stale even when the pid has
 * been reused since (after a reboot, or a long uptime).
 *
 * Taking over a stale lock must be atomic too (issue 11 item 10: two starters both held it in 11
 * of 150 tries). Deleting the stale file and creating a new one cannot be: between a starter's
 * "still the stale one?" and its unlink, another may have replaced it, and the unlink removes the
 * new holder's lock. Renaming over it has the same hole. flock() would do it, but Node has no
 * flock without native code. So the lock is a sequence of generations, lock.1, lock.2, ...: the
 * newest one is the lock, and a stale (or released) newest generation N is taken over by
 * creating N+1 with O_EXCL — exactly one starter can create it, and nothing is deleted that a
 * competitor could still be judging. Older generations are removed only by the holder of a newer
 * one, and a starter whose new file turns out not to be the newest (it re-created a generation
 * the holder had just cleaned up) gives way, so the newest generation ever created always exists.
 * Release rewrites the holder's generation to "released" instead of deleting it, for that reason.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describeErrno } from '../util/errno.js';
import { StateLockError } from './errors.js';

/** The lock's name: generations are `lock.N`; a plain `lock` is the single file of earlier versions. */
export const LOCK_FILE = 'lock';
const GENERATION = /^lock\.([1-9]\d{0,14})$/;
/** What a released generation says: free to take. */
const RELEASED = 'released\n';

function generationPath(dir: string, n: number): string {
  return join(dir, `${LOCK_FILE}.${n}`);
}

/** Generation numbers present in `dir`, newest first. */
async function generations(dir: string): Promise<number[]> {
  const names = await readdir(dir);
  const out: number[] = [];
  for (const name of names) {
    const m = GENERATION.exec(name);
    if (m) out.push(Number(m[1]));
  }
  return out.sort((a, b) => b - a);
}

export interface LockOwner {
  pid: number;
  /** Process start time in clock ticks since boot (/proc/PID/stat field 22), Linux only. */
  startTime?: number;
  /** /proc/sys/kernel/random/boot_id, Linux only. */
  bootId?: string;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

export async function processStartTime(pid: number): Promise<number | undefined> {
  const stat = await readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const v = Number(fields[19]);
  return Number.isFinite(v) ? v : undefined;
}

export async function bootId(): Promise<string | undefined> {
  return (await readText('/proc/sys/kernel/random/boot_id'))?.trim() || undefined;
}

export async function currentOwner(): Promise<LockOwner> {
  const owner: LockOwner = { pid: process.pid };
  const st = await processStartTime(process.pid);
  if (st !== undefined) owner.startTime = st;
  const b = await bootId();
  if (b !== undefined) owner.bootId = b;
  return owner;
}

function parseOwner(text: string): LockOwner | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  // A bare pid, as other tools write it, parses as a number.
  const o = (typeof v === 'number' ? { pid: v } : v) as Partial<LockOwner> | null;
  if (typeof o?.pid !== 'number' || !Number.isInteger(o.pid) || o.pid <= 0) return undefined;
  const owner: LockOwner = { pid: o.pid };
  if (typeof o.startTime === 'number') owner.startTime = o.startTime;
  if (typeof o.bootId === 'string') owner.bootId = o.bootId;
  return owner;
}

/** Is the process that wrote `owner` still running? */
export async function isAlive(owner: LockOwner): Promise<boolean> {
  if (owner.bootId !== undefined) {
    const b = await bootId();
    if (b !== undefined && b !== owner.bootId) return false;
  }
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (owner.startTime !== undefined) {
    const st = await processStartTime(owner.pid);
    if (st !== undefined && st !== owner.startTime) return false;
  }
  return true;
}

/** O_EXCL creation of `path` with `content`; by hard link where possible, so it is never seen half-written. */
async function createExclusive(tmp: string, path: string, content: string): Promise<void> {
  try {
    await link(tmp, path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
    // File systems without hard links: plain O_EXCL; a competitor may see it empty for a moment (see below).
    await writeFile(path, content, { flag: 'wx', mode: 0o600 });
  }
}

function inUse(dir: string, path: string, owner: LockOwner): StateLockError {
  return new StateLockError(
    `${dir} is in use by another f2b-sophosxg process (pid ${owner.pid}, lock ${path}); only one sidecar may use a state directory`,
    path,
  );
}

/** The owner named by a lock text when that process still runs; undefined for free, stale or garbage. */
async function liveOwner(text: string): Promise<LockOwner | undefined> {
  const owner = parseOwner(text);
  return owner && (await isAlive(owner)) ? owner : undefined;
}

/**
 * Takes the lock of `dir` (created with mode 0700 if missing) or throws StateLockError naming
 * the live owner. A stale or released lock is taken over (see the top of this file). Returns the
 * release function, which frees the lock only while it is still this process's.
 */
export async function acquireLock(dir: string): Promise<() => Promise<void>> {
  const content = `${JSON.stringify(await currentOwner())}\n`;
  const tmp = join(dir, `.${LOCK_FILE}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(tmp, content, { mode: 0o600 });
  } catch (err) {
    throw new StateLockError(`cannot create the lock in ${dir}: ${describeErrno(err)}`, join(dir, LOCK_FILE), { cause: err });
  }
  try {
    const legacy = join(dir, LOCK_FILE);
    const legacyText = await readText(legacy);
    const legacyOwner = legacyText === undefined ? undefined : await liveOwner(legacyText);
    if (legacyOwner) throw inUse(dir, legacy, legacyOwner);
    const n = await takeGeneration(dir, tmp, content);
    const path = generationPath(dir, n);
    await removeOlder(dir, n);
    // A stale single-file lock of an earlier version: gone once a generation is held.
    if (legacyText !== undefined && (await readText(legacy)) === legacyText) await unlink(legacy).catch(() => undefined);
    return () => releaseGeneration(path, content);
  } catch (err) {
    if (err instanceof StateLockError) throw err;
    // readdir of the directory failed (EACCES, …): still a lock error naming the place.
    throw new StateLockError(`cannot take the lock in ${dir}: ${describeErrno(err)}`, join(dir, LOCK_FILE), { cause: err });
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** Creates the generation after the newest one when that one is free; returns its number. */
async function takeGeneration(dir: string, tmp: string, content: string): Promise<number> {
  let lookedAtEmpty = false;
  // Each retry means a competitor made progress (took, gave way or released): a few suffice.
  for (let attempt = 0; attempt < 10; attempt++) {
    const top = (await generations(dir))[0] ?? 0;
    if (top > 0) {
      const path = generationPath(dir, top);
      const text = await readText(path);
      if (text === undefined) continue;
      // Empty: a competitor without hard links may be writing it; look twice before calling it garbage.
      if (text === '' && !lookedAtEmpty) {
        lookedAtEmpty = true;
        continue;
      }
      const owner = await liveOwner(text);
      if (owner) throw inUse(dir, path, owner);
    }
    const mine = top + 1;
    const path = generationPath(dir, mine);
    try {
      await createExclusive(tmp, path, content);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new StateLockError(`cannot create the lock ${path}: ${describeErrno(err)}`, path, { cause: err });
    }
    // A newer generation means ours re-created one its holder had already cleaned up: give way.
    if (((await generations(dir))[0] ?? 0) > mine) {
      await unlink(path).catch(() => undefined);
      continue;
    }
    return mine;
  }
  throw new StateLockError(`cannot take the lock in ${dir}: it keeps changing (other processes starting?)`, join(dir, LOCK_FILE));
}

/** Only the holder of generation `n` removes older ones: nobody can be taking those over any more. */
async function removeOlder(dir: string, n: number): Promise<void> {
  for (const g of await generations(dir)) if (g < n) await unlink(generationPath(dir, g)).catch(() => undefined);
}

/** Marks our generation released (atomically, by rename), unless it is no longer ours. */
async function releaseGeneration(path: string, content: string): Promise<void> {
  if ((await readText(path)) !== content) return;
  const tmp = join(dirname(path), `.${LOCK_FILE}.tmp-release-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    await writeFile(tmp, RELEASED, { mode: 0o600 });
    await rename(tmp, path);
  } catch {
    await unlink(tmp).catch(() => undefined);
  }
}

/**
 * Who holds the lock of `dir` now, for `status`: the owner named by the newest generation (or an
 * earlier version's single file) and whether that process is alive; undefined when free.
 */
export async function lockHolder(dir: string): Promise<{ owner: LockOwner; alive: boolean } | undefined> {
  let top: number | undefined;
  try {
    top = (await generations(dir))[0];
  } catch {
    return undefined;
  }
  const text = await readText(top === undefined ? join(dir, LOCK_FILE) : generationPath(dir, top));
  const owner = text === undefined ? undefined : parseOwner(text);
  return owner ? { owner, alive: await isAlive(owner) } : undefined;
}
