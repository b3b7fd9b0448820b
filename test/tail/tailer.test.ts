// Basic following: appends, partial lines, start position, missing/unreadable files, long lines,
// teardown. Real files in a temp dir, written while the tailer runs.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { asyncScheduler, firstValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';

import { TailError, tailFile } from '../../src/tail/index.js';
import { follow, logDirPerTest, LogWriter, numbered, waitFor } from './helpers.js';

let dir: string;
let path: string;
logDirPerTest((d, p) => {
  dir = d;
  path = p;
});

describe('appending', () => {
  it('delivers existing lines, then lines appended one by one and in bursts, each once and in order', async () => {
    writeFileSync(path, 'old-1\nold-2\n');
    const w = new LogWriter(path);
    const f = follow({ path });
    await f.seen('old-2');
    for (const l of numbered('single', 0, 20)) {
      w.write(l);
      await f.seen(l);
    }
    w.write(...numbered('burst', 0, 5000));
    await f.seen('burst-4999');
    w.close();
    expect(f.texts()).toEqual(['old-1', 'old-2', ...numbered('single', 0, 20), ...numbered('burst', 0, 5000)]);
  });

  it('gives each line the checkpoint just after it: identity, byte offset, head hash of the first bytes', async () => {
    const content = 'ä-first\nsecond\n';
    writeFileSync(path, content);
    const lines = await firstValueFrom(tailFile({ path, startAt: 'beginning' }).pipe(take(2), toArray()));
    const st = statSync(path);
    const sha = (s: string): string => createHash('sha256').update(Buffer.from(s)).digest('hex');
    expect(lines.map((l) => l.line)).toEqual(['ä-first', 'second']);
    expect(lines.map((l) => l.checkpoint)).toEqual([
      { path, dev: st.dev, ino: st.ino, offset: 9, head: sha('ä-first\n') },
      { path, dev: st.dev, ino: st.ino, offset: 16, head: sha(content) },
    ]);
  });

  it('holds a partial line until its newline is written', async () => {
    const w = new LogWriter(path);
    const f = follow({ path });
    w.raw('first\npar');
    // 'first' and 'par' arrive in the same read: once 'first' is out, 'par' has been seen and held.
    await f.seen('first');
    w.raw('tial');
    w.write('sync');
    await f.seen('partialsync');
    expect(f.texts()).toEqual(['first', 'partialsync']);
    w.close();
  });

  it('is driven by watcher events alone when the poll never fires', async () => {
    const w = new LogWriter(path);
    w.write('init');
    // The clock never moves: the first step runs at subscription, the next line can only come
    // through a watcher event.
    const f = follow({ path, poll: 'never' });
    await f.seen('init');
    await new Promise((r) => setTimeout(r, 50));
    w.write('by-event');
    await f.seen('by-event');
    expect(f.texts()).toEqual(['init', 'by-event']);
    expect(f.clock.now()).toBe(0);
    w.close();
  });

  it('sees every write of quick bursts (two writes 1 ms apart) through watcher events alone', async () => {
    const w = new LogWriter(path);
    w.write('init');
    const f = follow({ path, poll: 'never' });
    await f.seen('init');
    for (let i = 0; i < 40; i++) {
      w.write(`a${i}`);
      await new Promise((r) => setTimeout(r, 1));
      w.write(`b${i}`);
      await f.seen(`b${i}`);
    }
    // No poll and no settling look ran: the clock never moved.
    expect(f.clock.now()).toBe(0);
    expect(f.texts()).toHaveLength(81);
    w.close();
  });

  it('is driven by the poll alone without the watcher', async () => {
    const w = new LogWriter(path);
    const f = follow({ path, pollIntervalMs: 1000, watch: false });
    w.write('first');
    await f.seen('first');
    // Without a watcher nothing but the (virtual) poll steps the tailer after its first look.
    for (const l of numbered('poll', 0, 20)) {
      w.write(l);
      await f.seen(l);
    }
    expect(f.texts()).toEqual(['first', ...numbered('poll', 0, 20)]);
    expect(f.clock.now()).toBeGreaterThanOrEqual(1000);
    w.close();
  });
});

describe('start position', () => {
  it("startAt 'end' delivers only lines written after the start", async () => {
    writeFileSync(path, 'before-1\nbefore-2\n');
    const f = follow({ path, startAt: 'end' });
    const w = new LogWriter(path);
    // "Has started" has no sync point: probe lines written before the start are skipped, those
    // after it delivered. Whatever the timing, the result is a contiguous run of the last probes.
    let probes = 0;
    while (f.lines.length === 0) {
      w.write(`probe-${probes++}`);
      await waitFor(() => f.lines.length > 0, 'a probe', 200).catch(() => undefined);
    }
    w.write('after');
    await f.seen('after');
    const first = Number(f.texts()[0]?.slice('probe-'.length));
    expect(f.texts()).toEqual([...numbered('probe', first, probes), 'after']);
    w.close();
  });

  it("startAt 'beginning' delivers the whole file", async () => {
    writeFileSync(path, 'a\nb\n');
    const lines = await firstValueFrom(tailFile({ path, startAt: 'beginning' }).pipe(take(2), toArray()));
    expect(lines.map((l) => l.line)).toEqual(['a', 'b']);
  });
});

describe('missing and unreadable files', () => {
  it('waits for a missing file (one warning), then reads it from the beginning', async () => {
    const f = follow({ path, startAt: 'end' });
    await waitFor(() => f.warnings.some((w) => w.code === 'FILE_MISSING'), 'FILE_MISSING warning');
    writeFileSync(path, 'created-1\ncreated-2\n');
    await f.seen('created-2');
    expect(f.texts()).toEqual(['created-1', 'created-2']);
    expect(f.warnings.filter((w) => w.code === 'FILE_MISSING')).toHaveLength(1);
    expect(f.warnings[0]?.message).toContain(path);
  });

  it('with waitForFile false, fails with a TailError naming the path', async () => {
    const err: unknown = await firstValueFrom(tailFile({ path, startAt: 'end', waitForFile: false })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TailError);
    expect(err).toMatchObject({ code: 'ENOENT', path, retryable: true });
    expect((err as Error).message).toBe(`cannot read ${path}: no such file or directory (ENOENT)`);
  });

  it('fails with EISDIR when the path is a directory', async () => {
    mkdirSync(path);
    const err: unknown = await firstValueFrom(tailFile({ path, startAt: 'end' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TailError);
    expect(err).toMatchObject({ code: 'EISDIR', path, retryable: false });
    expect((err as Error).message).toBe(`cannot read ${path}: is a directory (EISDIR)`);
  });

  it('fails with EISDIR when the file is replaced by a directory while followed', async () => {
    writeFileSync(path, 'one\n');
    const f = follow({ path });
    await f.seen('one');
    renameSync(path, `${path}.1`);
    mkdirSync(path);
    await waitFor(() => f.error !== undefined, 'the error');
    expect(f.error).toMatchObject({ code: 'EISDIR', path });
  });

  // Root reads everything, so EACCES needs an unprivileged process: a child drops to nobody.
  it('fails with EACCES for a file it may not read (child process as nobody)', async () => {
    if (process.getuid?.() !== 0) return; // as non-root the setuid below is impossible
    chmodSync(dir, 0o755);
    writeFileSync(path, 'secret\n', { mode: 0o600 });
    const child = fileURLToPath(new URL('./unprivileged-child.ts', import.meta.url));
    const out = await new Promise<string>((resolve, reject) => {
      const p = spawn(process.execPath, ['--import', 'tsx', child, path], { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      p.stdout.on('data', (d: Buffer) => (text += d.toString()));
      p.on('error', reject);
      p.on('close', () => resolve(text));
    });
    expect(JSON.parse(out)).toEqual({
      name: 'TailError',
      code: 'EACCES',
      path,
      retryable: true,
      message: `cannot read ${path}: permission denied (EACCES)`,
    });
  });
});

describe('long lines', () => {
  it('cuts a 1 MiB line to maxLineBytes, warns, and keeps the next line and offsets intact', async () => {
    const big = 'x'.repeat(1024 * 1024);
    writeFileSync(path, `before\n${big}\nafter\n`);
    const f = follow({ path, maxLineBytes: 64 * 1024 });
    await f.seen('after');
    expect(f.lines.map((l) => l.line.length)).toEqual([6, 64 * 1024, 5]);
    expect(f.lines.map((l) => l.checkpoint.offset)).toEqual([7, 7 + big.length + 1, 7 + big.length + 7]);
    expect(f.warnings).toEqual([
      expect.objectContaining({
        code: 'LINE_TRUNCATED',
        offset: 7 + big.length + 1,
        message: expect.stringContaining(`${big.length} bytes`),
      }),
    ]);
  });
});

describe('teardown', () => {
  it('closes descriptors, watchers and timers on unsubscribe', async () => {
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const watchers = (): number =>
      process.getActiveResourcesInfo().filter((r) => r === 'FSEventWrap' || r === 'StatWatcher' || r === 'Timeout').length;
    writeFileSync(path, 'x\n');
    const baseFds = fds();
    const baseWatchers = watchers();
    // The real clock: its poll timer must be cleared too.
    const f = follow({ path, scheduler: asyncScheduler });
    await f.seen('x');
    renameSync(path, `${path}.old`);
    writeFileSync(path, 'z\n');
    await f.seen('z'); // now a retired file and a current file are open
    expect(fds()).toBeGreaterThan(baseFds);
    expect(watchers()).toBeGreaterThan(baseWatchers);
    f.stop();
    await waitFor(
      () => fds() === baseFds,
      () => `fds back to ${baseFds} (now ${fds()})`,
    );
    await waitFor(
      () => watchers() <= baseWatchers,
      () => `watchers/timers back to ${baseWatchers} (now ${watchers()})`,
    );
  });
});
