import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, LOCK_FILE, StateLockError } from '../../src/state/index.js';
import { bootId, lockHolder, processStartTime } from '../../src/state/lock.js';
import { tempDir } from './helpers.js';

describe('acquireLock', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  /** The single-file lock of earlier versions (and other tools). */
  let legacyFile: string;
  let sleeper: ChildProcess;
  let sleeperPid: number;
  const gen = (n: number) => join(dir, `${LOCK_FILE}.${n}`);
  const lockFiles = async () => (await readdir(dir)).filter((f) => f.startsWith(LOCK_FILE)).sort();

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
    legacyFile = join(dir, LOCK_FILE);
  });
  afterEach(async () => {
    await cleanup();
  });

  /** The lock in `dir` was taken over: this process holds generation 2, the stale generation 1 is gone; release frees it. */
  async function expectTakenOver(release: () => Promise<void>): Promise<void> {
    expect(await lockFiles()).toEqual([`${LOCK_FILE}.2`]);
    expect(await lockHolder(dir)).toMatchObject({ owner: { pid: process.pid }, alive: true });
    await release();
    expect(await lockHolder(dir)).toBeUndefined();
  }

  it('creates the directory and a lock naming this process; release frees it', async () => {
    const sub = join(dir, 'state');
    const release = await acquireLock(sub);
    expect((await stat(sub)).mode & 0o777).toBe(0o700);
    const owner = JSON.parse(await readFile(join(sub, `${LOCK_FILE}.1`), 'utf8')) as { pid: number; startTime?: number; bootId?: string };
    expect(owner.pid).toBe(process.pid);
    expect(owner.startTime).toBe(await processStartTime(process.pid));
    expect(owner.bootId).toBe(await bootId());
    expect(await lockHolder(sub)).toEqual({ owner, alive: true });
    await release();
    // Released, not deleted: the newest generation must stay (see lock.ts).
    expect(await readFile(join(sub, `${LOCK_FILE}.1`), 'utf8')).toBe('released\n');
    expect(await lockHolder(sub)).toBeUndefined();
    // and can be taken again, as the next generation, the released one cleaned up
    const again = await acquireLock(sub);
    expect((await readdir(sub)).filter((f) => f.startsWith(LOCK_FILE))).toEqual([`${LOCK_FILE}.2`]);
    await again();
  });

  it('refuses while this process holds it', async () => {
    const release = await acquireLock(dir);
    await expect(acquireLock(dir)).rejects.toMatchObject({ code: 'STATE_LOCKED' });
    expect(await lockFiles()).toEqual([`${LOCK_FILE}.1`]);
    await release();
  });

  it('refuses a lock held by another live process, naming its pid', async () => {
    await writeFile(gen(1), JSON.stringify({ pid: sleeperPid, startTime: await processStartTime(sleeperPid), bootId: await bootId() }));
    const err = (await acquireLock(dir).catch((e: unknown) => e)) as StateLockError;
    expect(err).toBeInstanceOf(StateLockError);
    expect(err.code).toBe('STATE_LOCKED');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain(`pid ${sleeperPid}`);
    expect(err.message).toContain(gen(1));
    // The live owner's lock is untouched and nothing was added.
    expect(JSON.parse(await readFile(gen(1), 'utf8'))).toMatchObject({ pid: sleeperPid });
    expect(await lockFiles()).toEqual([`${LOCK_FILE}.1`]);
  });

  it('honours the single-file lock of earlier versions, also as a bare pid written by other tools', async () => {
    await writeFile(legacyFile, `${sleeperPid}\n`);
    const err = (await acquireLock(dir).catch((e: unknown) => e)) as StateLockError;
    expect([err.code, err.message.includes(`pid ${sleeperPid}`)]).toEqual(['STATE_LOCKED', true]);
    expect(await lockFiles()).toEqual([LOCK_FILE]);
  });

  it('replaces a stale single-file lock of an earlier version, and removes it', async () => {
    const child = spawn('true', { stdio: 'ignore' });
    await once(child, 'exit');
    await writeFile(legacyFile, JSON.stringify({ pid: child.pid }));
    const release = await acquireLock(dir);
    expect(await lockFiles()).toEqual([`${LOCK_FILE}.1`]);
    expect(await lockHolder(dir)).toMatchObject({ owner: { pid: process.pid }, alive: true });
    await release();
  });

  it('replaces a stale lock whose process has exited', async () => {
    const child = spawn('true', { stdio: 'ignore' });
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(0);
    await writeFile(gen(1), JSON.stringify({ pid: child.pid }));
    await expectTakenOver(await acquireLock(dir));
  });

  it('replaces a lock whose pid is alive but was reused (different start time)', async () => {
    const st = (await processStartTime(sleeperPid)) as number;
    await writeFile(gen(1), JSON.stringify({ pid: sleeperPid, startTime: st + 1 }));
    await expectTakenOver(await acquireLock(dir));
  });

  it('replaces a lock from before a reboot (different boot id)', async () => {
    await writeFile(gen(1), JSON.stringify({ pid: sleeperPid, bootId: '00000000-0000-0000-0000-000000000000' }));
    await expectTakenOver(await acquireLock(dir));
  });

  it('replaces an unreadable (garbage) lock', async () => {
    await writeFile(gen(1), 'not a pid');
    await expectTakenOver(await acquireLock(dir));
  });

  it('replaces an empty lock (a crash between create and write)', async () => {
    await writeFile(gen(1), '');
    await expectTakenOver(await acquireLock(dir));
  });

  it('a directory it cannot create is a lock error naming it', async () => {
    await writeFile(join(dir, 'file'), 'x');
    const err = (await acquireLock(join(dir, 'file', 'sub')).catch((e: unknown) => e)) as StateLockError;
    expect(err).toBeInstanceOf(StateLockError);
    expect(err.message).toBe(`cannot create the lock in ${join(dir, 'file', 'sub')}: ENOTDIR (not a directory)`);
  });

  it('release leaves a lock that is no longer ours alone', async () => {
    const release = await acquireLock(dir);
    await writeFile(gen(1), JSON.stringify({ pid: sleeperPid }));
    await release();
    expect(JSON.parse(await readFile(gen(1), 'utf8'))).toEqual({ pid: sleeperPid });
  });
});

/** A starter process (lock-starter.ts, bundled): "take DIR AT" → "held DIR" | "refused DIR CODE". */
interface Starter {
  child: ChildProcess;
  answers: Map<string, string>;
  waiters: Map<string, () => void>;
}

async function bundleStarter(dir: string): Promise<string> {
  const { build } = await import('esbuild');
  const outfile = join(dir, 'lock-starter.mjs');
  const entry = fileURLToPath(new URL('./lock-starter.ts', import.meta.url));
  await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, logLevel: 'warning' });
  return outfile;
}

async function startStarter(script: string): Promise<Starter> {
  const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const s: Starter = { child, answers: new Map(), waiters: new Map() };
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  lines.on('line', (line) => {
    if (line === 'ready') return ready();
    const [verdict, dir, code] = line.split(' ') as [string, string, string?];
    s.answers.set(dir, verdict === 'held' ? 'held' : `refused:${code}`);
    s.waiters.get(dir)?.();
  });
  await isReady;
  return s;
}

function take(s: Starter, dir: string, at: number): Promise<string> {
  return new Promise((resolve) => {
    s.waiters.set(dir, () => resolve(s.answers.get(dir) as string));
    s.child.stdin?.write(`take ${dir} ${at}\n`);
  });
}

async function kill9(s: Starter): Promise<void> {
  const exited = once(s.child, 'exit');
  s.child.kill('SIGKILL');
  await exited;
}

describe('acquireLock with concurrent starters (issue 11 item 10)', () => {
  const STARTERS = 20;
  const ROUNDS = 30;

  it(`exactly one of ${STARTERS} processes starting at the same instant takes a stale lock, in each of ${ROUNDS} rounds`, async () => {
    const { dir, cleanup } = await tempDir('f2b-lock-race-');
    const starters: Starter[] = [];
    try {
      const script = await bundleStarter(dir);
      const dirs = Array.from({ length: ROUNDS }, (_, i) => join(dir, `round-${i}`));
      await Promise.all(dirs.map((d) => mkdir(d)));
      // The stale locks: taken by a process that is then killed -9, as in the audit.
      const victim = await startStarter(script);
      expect(await Promise.all(dirs.map((d) => take(victim, d, 0)))).toEqual(dirs.map(() => 'held'));
      await kill9(victim);
      starters.push(...(await Promise.all(Array.from({ length: STARTERS }, () => startStarter(script)))));
      const held: number[] = [];
      const otherFailures: string[] = [];
      for (const d of dirs) {
        const at = Date.now() + 25;
        const answers = await Promise.all(starters.map((s) => take(s, d, at)));
        held.push(answers.filter((a) => a === 'held').length);
        // Everyone else must be told the lock is in use, not fail some other way.
        otherFailures.push(...answers.filter((a) => a !== 'held' && a !== 'refused:STATE_LOCKED'));
      }
      expect(held).toEqual(dirs.map(() => 1));
      expect(otherFailures).toEqual([]);
    } finally {
      await Promise.all(starters.map(kill9));
      await cleanup();
    }
  }, 120_000);
});
