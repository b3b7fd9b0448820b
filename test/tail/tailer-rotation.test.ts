// Rotation while following: Debian's rename + create + flushlogs (with lines written to the old file
// in between), bursts with several rotations, delete + re-create, copytruncate, grace expiry, and the
// real rotation fixtures replayed as fail2ban wrote them.
import { copyFileSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { FIXTURES, follow, logDirPerTest, logrotate, LogWriter, numbered, waitFor } from './helpers.js';

let path: string;
logDirPerTest((_dir, p) => {
  path = p;
});

describe('rename rotation (logrotate create + flushlogs)', () => {
  it('delivers lines written to the old file after the rename, then the new file, once and in writing order', async () => {
    const w = new LogWriter(path);
    const f = follow({ path });
    w.write(...numbered('a', 0, 10));
    await f.seen('a-9');
    logrotate(path); // rename to .1 + create empty
    await waitFor(() => f.warnings.some((x) => x.code === 'ROTATED'), 'the rotation to be noticed');
    w.write(...numbered('window', 0, 5)); // fail2ban still holds the old descriptor
    await f.seen('window-4');
    w.flushlogs();
    w.write('rollover performed on x', ...numbered('b', 0, 10));
    await f.seen('b-9');
    expect(f.texts()).toEqual([...numbered('a', 0, 10), ...numbered('window', 0, 5), 'rollover performed on x', ...numbered('b', 0, 10)]);
    expect(f.warnings.filter((x) => x.code === 'ROTATED')).toHaveLength(1);
    // Lines of the renamed file carry its identity, the new file's lines the new identity.
    const inodes = new Set(f.lines.map((l) => l.checkpoint.ino));
    expect(inodes.size).toBe(2);
    w.close();
  });

  it('keeps exact writing order when old-file writes and the switch happen between two reads', async () => {
    // Synchronous writes cannot interleave with the tailer (same event loop): rename, window lines,
    // create, flushlogs and new lines all land before the tailer looks again.
    const w = new LogWriter(path);
    const f = follow({ path });
    w.write('start');
    await f.seen('start');
    logrotate(path);
    w.write(...numbered('window', 0, 300));
    w.flushlogs();
    w.write(...numbered('new', 0, 300));
    await f.seen('new-299');
    expect(f.texts()).toEqual(['start', ...numbered('window', 0, 300), ...numbered('new', 0, 300)]);
    w.close();
  });

  it('survives bursts of thousands of lines and several rotations without loss or repetition', async () => {
    const w = new LogWriter(path);
    const f = follow({ path });
    const expected: string[] = [];
    const write = (...lines: string[]): void => {
      w.write(...lines);
      expected.push(...lines);
    };
    write('start');
    await f.seen('start');
    for (let r = 0; r < 5; r++) {
      write(...numbered(`r${r}`, 0, 3000));
      logrotate(path);
      write(...numbered(`r${r}-window`, 0, 500));
      w.flushlogs();
      write(`r${r}-rollover`);
      // A file must be seen before it is rotated away (inherent to following by name, like tail -F).
      await f.seen(`r${r}-rollover`);
    }
    write('end');
    await f.seen('end');
    expect(f.texts()).toEqual(expected);
    w.close();
  });

  it('follows delete + re-create: drains the deleted file, then reads the new one from the beginning', async () => {
    const w = new LogWriter(path);
    const f = follow({ path });
    w.write('one');
    await f.seen('one');
    rmSync(path);
    w.write('into-deleted-inode'); // fail2ban keeps writing to the unlinked file until flushlogs
    await f.seen('into-deleted-inode');
    writeFileSync(path, 'recreated-1\n');
    w.flushlogs();
    w.write('recreated-2');
    await f.seen('recreated-2');
    expect(f.texts()).toEqual(['one', 'into-deleted-inode', 'recreated-1', 'recreated-2']);
    w.close();
  });

  it('closes the old file after the grace period, emitting its unterminated last fragment', async () => {
    const w = new LogWriter(path);
    const f = follow({ path, rotationGraceMs: 5_000, pollIntervalMs: 1_000 });
    w.write('complete');
    await f.seen('complete');
    logrotate(path);
    w.raw('cut off by a crash');
    w.flushlogs();
    w.write('new file');
    await f.seen('cut off by a crash');
    await f.seen('new file');
    expect(f.texts()).toEqual(['complete', 'new file', 'cut off by a crash']);
    const fragment = f.lines[2];
    expect(fragment?.checkpoint.offset).toBe('complete\ncut off by a crash'.length);
    expect(f.warnings.map((x) => x.code)).toEqual(['ROTATED', 'UNTERMINATED_FRAGMENT']);
    // Virtual time: closed at the first poll once the grace is over, not before.
    const [rotatedAt = NaN, closedAt = NaN] = f.warningTimes;
    expect(closedAt - rotatedAt).toBeGreaterThanOrEqual(5_000);
    expect(closedAt - rotatedAt).toBeLessThanOrEqual(6_000);
    expect(f.lineTimes[2]).toBe(closedAt);
    w.close();
  });

  it('does not read a file twice when it is renamed back to the path', async () => {
    const w = new LogWriter(path);
    const f = follow({ path });
    w.write('one');
    await f.seen('one');
    renameSync(path, `${path}.tmp`);
    w.write('two');
    await f.seen('two');
    renameSync(`${path}.tmp`, path);
    w.write('three');
    await f.seen('three');
    expect(f.texts()).toEqual(['one', 'two', 'three']);
    w.close();
  });
});

describe('copytruncate', () => {
  it('notices the truncation (size below offset) and reads the same file again from 0', async () => {
    const w = new LogWriter(path);
    const f = follow({ path });
    w.write(...numbered('before', 0, 50));
    await f.seen('before-49');
    copyFileSync(path, `${path}.1`);
    truncateSync(path, 0);
    w.write(...numbered('after', 0, 3)); // append mode: the writer continues at the new end
    await f.seen('after-2');
    expect(f.texts()).toEqual([...numbered('before', 0, 50), ...numbered('after', 0, 3)]);
    expect(f.warnings.map((x) => x.code)).toEqual(['COPYTRUNCATE']);
    expect(new Set(f.lines.map((l) => l.checkpoint.ino)).size).toBe(1);
    w.close();
  });

  it('notices it even when the file grew past the old offset before the next look (first bytes changed)', async () => {
    const w = new LogWriter(path);
    const f = follow({ path });
    w.write('short-old');
    await f.seen('short-old');
    copyFileSync(path, `${path}.1`);
    truncateSync(path, 0);
    w.write(...numbered('longer-new-content', 0, 20));
    await f.seen('longer-new-content-19');
    expect(f.texts()).toEqual(['short-old', ...numbered('longer-new-content', 0, 20)]);
    expect(f.warnings.map((x) => x.code)).toEqual(['COPYTRUNCATE']);
    w.close();
  });

  it('notices it when the file regrew to exactly the old size while idle (idle polls skip only unchanged files)', async () => {
    const w = new LogWriter(path);
    const f = follow({ path });
    w.write('old-1');
    await f.seen('old-1');
    for (let i = 0; i < 5; i++) f.tick(); // idle polls: same size, same mtime
    truncateSync(path, 0);
    w.write('new-1'); // same length as before: only the mtime and the first bytes tell
    await f.seen('new-1');
    expect(f.texts()).toEqual(['old-1', 'new-1']);
    expect(f.warnings.map((x) => x.code)).toEqual(['COPYTRUNCATE']);
    w.close();
  });
});

describe('real rotation capture (fail2ban 1.0.2 + Debian logrotate)', () => {
  it('replays the three rotation fixtures as written and delivers their concatenation', async () => {
    const read = (name: string): string[] => {
      const text = readFileSync(new URL(name, FIXTURES), 'utf8');
      return text.slice(0, -1).split('\n'); // every fixture ends with a newline
    };
    const oldest = read('fail2ban-1.0.2-rotation-1-oldest-file.log');
    const between = read('fail2ban-1.0.2-rotation-2-written-between-rename-and-flushlogs.log');
    const current = read('fail2ban-1.0.2-rotation-3-current-file-after-logrotate.log');
    const f2b = new LogWriter(path);
    const f = follow({ path });
    // Rotation A (by hand): everything up to the rename, then the Ban logged after the rename.
    f2b.write(...oldest.slice(0, -1));
    await f.seen(oldest.at(-2) ?? '');
    logrotate(path);
    f2b.write(oldest.at(-1) ?? '');
    f2b.flushlogs();
    for (const l of between) f2b.write(l);
    await f.seen(between.at(-1) ?? '');
    // Rotation B (real logrotate): .1 → .2.gz (the plain .1 is deleted), current → .1, create, flushlogs.
    rmSync(`${path}.1`);
    writeFileSync(`${path}.2.gz`, 'not read');
    renameSync(path, `${path}.1`);
    writeFileSync(path, '', { mode: 0o640 });
    f2b.flushlogs();
    for (const l of current) f2b.write(l);
    await f.seen(current.at(-1) ?? '');
    expect(f.texts()).toEqual([...oldest, ...between, ...current]);
    expect(f.texts().filter((l) => l.includes('203.0.113.66'))).toEqual([
      expect.stringMatching(/Ban 203\.0\.113\.66$/),
      expect.stringMatching(/Unban 203\.0\.113\.66$/),
    ]);
    f2b.close();
  });
});

describe('after the old file is gone for good', () => {
  it('still waits for the path and reads the next file (grace over, path missing for a while)', async () => {
    const w = new LogWriter(path);
    const f = follow({ path, rotationGraceMs: 50 });
    w.write('first');
    await f.seen('first');
    w.close();
    renameSync(path, `${path}.1`);
    await waitFor(() => f.warnings.some((x) => x.code === 'FILE_MISSING'), 'FILE_MISSING');
    writeFileSync(path, 'second\n');
    await f.seen('second');
    expect(f.texts()).toEqual(['first', 'second']);
  });
});
