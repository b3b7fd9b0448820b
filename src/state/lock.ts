/**
 * One sidecar per state directory: two would each write their own desired state and fight over
 * the firewall. The lock file is created with O_EXCL and holds the owner's pid, its start time
 * and the boot id, so a lock left by a killed process is recognised as stale even when the pid
 * has been reused since (after a reboot, or a long uptime).
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeErrno } from '../util/errno.js';
import { StateLockError } from './errors.js';

export const LOCK_FILE = 'lock';

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

/**
 * Takes the lock of `dir` (created with mode 0700 if missing) or throws StateLockError naming
 * the live owner. A stale lock is replaced. Returns the release function, which removes the lock
 * only while it is still this process's.
 */
export async function acquireLock(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  const content = `${JSON.stringify(await currentOwner())}\n`;
  const tmp = join(dir, `.${LOCK_FILE}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(tmp, content, { mode: 0o600 });
  } catch (err) {
    throw new StateLockError(`cannot create the lock in ${dir}: ${describeErrno(err)}`, path, { cause: err });
  }
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await createExclusive(tmp, path, content);
        return async () => {
          if ((await readText(path)) === content) await unlink(path).catch(() => undefined);
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new StateLockError(`cannot create the lock ${path}: ${describeErrno(err)}`, path, { cause: err });
        }
      }
      const text = await readText(path);
      // Released in between: try again. Empty: a competitor may be writing it, so look twice
      // before calling it garbage (a lock left empty forever must not block every start).
      if (text === undefined || (text === '' && attempt === 0)) continue;
      const owner = parseOwner(text);
      if (owner && (await isAlive(owner))) {
        throw new StateLockError(
          `${dir} is in use by another f2b-sophosxg process (pid ${owner.pid}, lock ${path}); only one sidecar may use a state directory`,
          path,
        );
      }
      // Stale (or unreadable garbage): remove it only if it is still the same lock we judged.
      if ((await readText(path)) === text) await unlink(path).catch(() => undefined);
    }
    throw new StateLockError(`cannot take the lock ${path}: it keeps changing (another process starting?)`, path);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}
