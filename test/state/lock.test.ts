import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, LOCK_FILE, StateLockError } from '../../src/state/index.js';
import { bootId, processStartTime } from '../../src/state/lock.js';
import { tempDir } from './helpers.js';

describe('acquireLock', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let lockFile: string;
  let sleeper: ChildProcess;
  let sleeperPid: number;

  beforeAll(() => {
    sleeper = spawn('sleep', ['300'], { stdio: 'ignore' });
    sleeperPid = sleeper.pid as number;
  });
  afterAll(async () => {
    const exited = once(sleeper, 'exit');
    sleeper.kill('SIGKILL');
    await exited;
  });
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir('f2b-lock-'));
    lockFile = join(dir, LOCK_FILE);
  });
  afterEach(async () => {
    await cleanup();
  });

  it('creates the directory and a lock naming this process; release removes it', async () => {
    const sub = join(dir, 'state');
    const release = await acquireLock(sub);
    expect((await stat(sub)).mode & 0o777).toBe(0o700);
    const owner = JSON.parse(await readFile(join(sub, LOCK_FILE), 'utf8')) as { pid: number; startTime?: number; bootId?: string };
    expect(owner.pid).toBe(process.pid);
    expect(owner.startTime).toBe(await processStartTime(process.pid));
    expect(owner.bootId).toBe(await bootId());
    await release();
    await expect(stat(join(sub, LOCK_FILE))).rejects.toMatchObject({ code: 'ENOENT' });
    // and can be taken again
    await (await acquireLock(sub))();
  });

  it('refuses while this process holds it', async () => {
    const release = await acquireLock(dir);
    await expect(acquireLock(dir)).rejects.toBeInstanceOf(StateLockError);
    await release();
  });

  it('refuses a lock held by another live process, naming its pid', async () => {
    await writeFile(lockFile, JSON.stringify({ pid: sleeperPid, startTime: await processStartTime(sleeperPid), bootId: await bootId() }));
    const err = (await acquireLock(dir).catch((e: unknown) => e)) as StateLockError;
    expect(err).toBeInstanceOf(StateLockError);
    expect(err.code).toBe('STATE_LOCKED');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain(`pid ${sleeperPid}`);
    expect(err.message).toContain(lockFile);
    // The live owner's lock is untouched.
    expect(JSON.parse(await readFile(lockFile, 'utf8'))).toMatchObject({ pid: sleeperPid });
  });

  it('also honours a bare pid written by other tools', async () => {
    await writeFile(lockFile, `${sleeperPid}\n`);
    await expect(acquireLock(dir)).rejects.toBeInstanceOf(StateLockError);
  });

  it('replaces a stale lock whose process has exited', async () => {
    const child = spawn('true', { stdio: 'ignore' });
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(0);
    await writeFile(lockFile, JSON.stringify({ pid: child.pid }));
    const release = await acquireLock(dir);
    expect(JSON.parse(await readFile(lockFile, 'utf8'))).toMatchObject({ pid: process.pid });
    await release();
  });

  it('replaces a lock whose pid is alive but was reused (different start time)', async () => {
    const st = (await processStartTime(sleeperPid)) as number;
    await writeFile(lockFile, JSON.stringify({ pid: sleeperPid, startTime: st + 1 }));
    await (await acquireLock(dir))();
  });

  it('replaces a lock from before a reboot (different boot id)', async () => {
    await writeFile(lockFile, JSON.stringify({ pid: sleeperPid, bootId: '00000000-0000-0000-0000-000000000000' }));
    await (await acquireLock(dir))();
  });

  it('replaces an unreadable (garbage) lock', async () => {
    await writeFile(lockFile, 'not a pid');
    await (await acquireLock(dir))();
  });

  it('replaces an empty lock (a crash between create and write)', async () => {
    await writeFile(lockFile, '');
    await (await acquireLock(dir))();
  });

  it('a directory it cannot create is a lock error naming it', async () => {
    await writeFile(join(dir, 'file'), 'x');
    const err = (await acquireLock(join(dir, 'file', 'sub')).catch((e: unknown) => e)) as StateLockError;
    expect(err).toBeInstanceOf(StateLockError);
    expect(err.message).toBe(`cannot create the lock in ${join(dir, 'file', 'sub')}: ENOTDIR (not a directory)`);
  });

  it('release leaves a lock that is no longer ours alone', async () => {
    const release = await acquireLock(dir);
    await writeFile(lockFile, JSON.stringify({ pid: sleeperPid }));
    await release();
    expect(JSON.parse(await readFile(lockFile, 'utf8'))).toEqual({ pid: sleeperPid });
  });
});
