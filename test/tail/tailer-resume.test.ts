// Checkpoint resume: stop after K lines, change the file(s) while stopped, resume with the K-th
// line's checkpoint. Every test ends with a marker line written after everything else, so "nothing
// more was delivered" is checked without waiting for time to pass.
import { appendFileSync, copyFileSync, renameSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { firstValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';

import type { Checkpoint } from '../../src/core/checkpoint.js';
import { hashHead, tailFile } from '../../src/tail/index.js';
import { follow, logDirPerTest, numbered, waitFor } from './helpers.js';

let path: string;
logDirPerTest((_dir, p) => {
  path = p;
});

const text = (lines: string[]): string => lines.map((l) => `${l}\n`).join('');

/** Tails from the beginning, stops after k lines, returns the k-th line's checkpoint. */
async function checkpointAfter(k: number): Promise<Checkpoint> {
  const lines = await firstValueFrom(tailFile({ path, startAt: 'beginning' }).pipe(take(k), toArray()));
  const last = lines.at(-1);
  if (!last) throw new Error('no lines');
  return last.checkpoint;
}

/** Resumes at `checkpoint`, writes a marker to the current file and returns everything up to it. */
async function resume(checkpoint: Checkpoint): Promise<{ lines: string[]; warnings: string[] }> {
  const f = follow({ path, checkpoint, startAt: 'end' });
  appendFileSync(path, 'marker\n');
  await f.seen('marker');
  return { lines: f.texts(), warnings: f.warnings.map((w) => w.code) };
}

describe('resume from a checkpoint', () => {
  it('delivers exactly the lines after the K-th when the same file grew while stopped', async () => {
    writeFileSync(path, text(numbered('l', 0, 10)));
    const cp = await checkpointAfter(4);
    appendFileSync(path, text(numbered('while-down', 0, 3)));
    const { lines, warnings } = await resume(cp);
    expect(lines).toEqual([...numbered('l', 4, 10), ...numbered('while-down', 0, 3), 'marker']);
    expect(warnings).toEqual([]);
  });

  it('resumes in a file that was shorter than 256 bytes at checkpoint time and grew past it', async () => {
    writeFileSync(path, 'tiny-1\ntiny-2\n');
    const cp = await checkpointAfter(1);
    appendFileSync(path, text(numbered('padding-line-to-pass-the-head-size', 0, 20)));
    const { lines, warnings } = await resume(cp);
    expect(lines).toEqual(['tiny-2', ...numbered('padding-line-to-pass-the-head-size', 0, 20), 'marker']);
    expect(warnings).toEqual([]);
  });

  it('after a rotation while stopped: the remainder of the renamed file, then the new file from 0', async () => {
    writeFileSync(path, text(numbered('old', 0, 10)));
    const cp = await checkpointAfter(6);
    appendFileSync(path, 'old-window\n'); // logged between rename and flushlogs, or just before
    renameSync(path, `${path}.1`);
    writeFileSync(path, text(['rollover performed', 'new-0']));
    const { lines, warnings } = await resume(cp);
    expect(lines).toEqual([...numbered('old', 6, 10), 'old-window', 'rollover performed', 'new-0', 'marker']);
    expect(warnings).toEqual(['CHECKPOINT_ROTATED']);
  });

  it('ignores compressed siblings and reads the current file from 0 when the checkpoint file is gone', async () => {
    writeFileSync(path, text(numbered('old', 0, 5)));
    const cp = await checkpointAfter(2);
    // Two weekly rotations while down: the checkpoint's file is now .2.gz (compressed: not followed).
    renameSync(path, `${path}.2.gz`);
    writeFileSync(`${path}.1`, text(['middle']));
    writeFileSync(path, text(['current-0', 'current-1']));
    const { lines, warnings } = await resume(cp);
    expect(lines).toEqual(['current-0', 'current-1', 'marker']);
    expect(warnings).toEqual(['CHECKPOINT_NOT_FOUND']);
  });

  it('reads the new file from the beginning when the file was replaced entirely', async () => {
    writeFileSync(path, text(numbered('old', 0, 5)));
    const cp = await checkpointAfter(5);
    rmSync(path);
    writeFileSync(path, text(numbered('replacement', 0, 3)));
    const { lines, warnings } = await resume(cp);
    expect(lines).toEqual([...numbered('replacement', 0, 3), 'marker']);
    expect(warnings).toEqual(['CHECKPOINT_NOT_FOUND']);
  });

  it('waits for a missing file and reads it from 0 when the checkpoint file is gone too', async () => {
    writeFileSync(path, text(['gone']));
    const cp = await checkpointAfter(1);
    rmSync(path);
    const f = follow({ path, checkpoint: cp, startAt: 'end' });
    await waitFor(() => f.warnings.length === 2, 'the warnings');
    writeFileSync(path, text(['appeared', 'marker']));
    await f.seen('marker');
    expect(f.texts()).toEqual(['appeared', 'marker']);
    expect(f.warnings.map((w) => w.code).sort()).toEqual(['CHECKPOINT_NOT_FOUND', 'FILE_MISSING']);
  });

  // The same inode cannot be forced onto a new file, so the checkpoint is crafted instead: the real
  // (dev, ino) of the file at the path with the head of other content, as after an inode reuse.
  it('treats same (dev, ino) with a different head as another file (inode reuse)', async () => {
    writeFileSync(path, text(['new-file-0', 'new-file-1', 'new-file-2']));
    const st = statSync(path);
    const offset = 'old-file-line-0\n'.length;
    const cp: Checkpoint = { path, dev: st.dev, ino: st.ino, offset, head: hashHead(Buffer.from('old-file-line-0\n')) };
    const { lines, warnings } = await resume(cp);
    expect(lines).toEqual(['new-file-0', 'new-file-1', 'new-file-2', 'marker']);
    expect(warnings).toEqual(['CHECKPOINT_NOT_FOUND']);
  });

  it('treats same (dev, ino, head) but a size below the offset as another file (truncated while down)', async () => {
    writeFileSync(path, text(numbered('l', 0, 10)));
    const cp = await checkpointAfter(9);
    writeFileSync(path, text(['l-0'])); // same inode, same first bytes, shorter
    const { lines, warnings } = await resume(cp);
    expect(lines).toEqual(['l-0', 'marker']);
    expect(warnings).toEqual(['CHECKPOINT_NOT_FOUND']);
  });

  it('the checkpoint wins over startAt', async () => {
    writeFileSync(path, text(numbered('l', 0, 3)));
    const cp = await checkpointAfter(1);
    const { lines } = await resume(cp); // resume() asks for startAt 'end'
    expect(lines).toEqual(['l-1', 'l-2', 'marker']);
  });
});

// Rotations while the tailer was not running (issue 11, item 1): the checkpoint's continuation is
// found in an uncompressed rotated sibling, by inode (rename) or by its first bytes (copytruncate).
describe('resume after a rotation while stopped', () => {
  it('copytruncate while down: the rest of the copy in .1 from the checkpoint, then the truncated file from 0', async () => {
    writeFileSync(path, text(numbered('l', 0, 10)));
    const cp = await checkpointAfter(6);
    appendFileSync(path, text([...numbered('ban', 0, 10), ...numbered('unban', 0, 3)]));
    copyFileSync(path, `${path}.1`);
    truncateSync(path, 0);
    appendFileSync(path, text(['after-truncate']));
    const f = follow({ path, checkpoint: cp, startAt: 'end' });
    appendFileSync(path, 'marker\n');
    await f.seen('marker');
    expect(f.texts()).toEqual([...numbered('l', 6, 10), ...numbered('ban', 0, 10), ...numbered('unban', 0, 3), 'after-truncate', 'marker']);
    expect(f.warnings.map((w) => w.code)).toEqual(['CHECKPOINT_ROTATED']);
    expect(f.warnings[0]?.message).toMatch(/copied to .*fail2ban\.log\.1 and .* truncated/);
  });

  it('copytruncate while down with nothing written since: the copy from the checkpoint, then the empty file', async () => {
    writeFileSync(path, text(numbered('l', 0, 5)));
    const cp = await checkpointAfter(5);
    appendFileSync(path, text(['while-down']));
    copyFileSync(path, `${path}.1`);
    truncateSync(path, 0);
    const { lines, warnings } = await resume(cp);
    expect(lines).toEqual(['while-down', 'marker']);
    expect(warnings).toEqual(['CHECKPOINT_ROTATED']);
  });

  it('rename while down: the checkpoint inode is now .1', async () => {
    writeFileSync(path, text(numbered('l', 0, 8)));
    const cp = await checkpointAfter(3);
    appendFileSync(path, text(['while-down']));
    renameSync(path, `${path}.1`);
    writeFileSync(path, text(['new-0']));
    const { lines, warnings } = await resume(cp);
    expect(lines).toEqual([...numbered('l', 3, 8), 'while-down', 'new-0', 'marker']);
    expect(warnings).toEqual(['CHECKPOINT_ROTATED']);
  });

  it('two uncompressed rotations while down: the rest of .2, then .1 whole, then the current file', async () => {
    writeFileSync(path, text(numbered('a', 0, 4)));
    const cp = await checkpointAfter(2);
    renameSync(path, `${path}.2`);
    writeFileSync(`${path}.1`, text(numbered('b', 0, 2)));
    writeFileSync(path, text(['c-0']));
    const { lines, warnings } = await resume(cp);
    expect(lines).toEqual(['a-2', 'a-3', 'b-0', 'b-1', 'c-0', 'marker']);
    expect(warnings).toEqual(['CHECKPOINT_ROTATED']);
  });

  it('a .1 that does not continue the checkpoint (foreign content) is not read; the warning says truncated', async () => {
    writeFileSync(path, text(numbered('l', 0, 10)));
    const cp = await checkpointAfter(6);
    writeFileSync(`${path}.1`, text(numbered('foreign', 0, 10)));
    truncateSync(path, 0);
    appendFileSync(path, text(['after-truncate']));
    const f = follow({ path, checkpoint: cp, startAt: 'end' });
    appendFileSync(path, 'marker\n');
    await f.seen('marker');
    expect(f.texts()).toEqual(['after-truncate', 'marker']);
    expect(f.warnings.map((w) => w.code)).toEqual(['CHECKPOINT_NOT_FOUND']);
    expect(f.warnings[0]?.message).toMatch(/was truncated and no rotated file continues it/);
  });

  it('a .1 with the same first bytes but shorter than the offset is not the continuation', async () => {
    writeFileSync(path, text(numbered('l', 0, 10)));
    const cp = await checkpointAfter(9);
    writeFileSync(`${path}.1`, text(numbered('l', 0, 3)));
    truncateSync(path, 0);
    const { lines, warnings } = await resume(cp);
    expect(lines).toEqual(['marker']);
    expect(warnings).toEqual(['CHECKPOINT_NOT_FOUND']);
  });
});

describe('first start from the beginning with rotated files', () => {
  const at = (file: string, secondsAgo: number): void => {
    const t = new Date(Date.now() - secondsAgo * 1000);
    utimesSync(file, t, t);
  };

  it('reads the uncompressed rotated files the current one continues, oldest first, then the current file', async () => {
    writeFileSync(`${path}.3.gz`, 'not read\n');
    writeFileSync(`${path}.2`, text(['two-0', 'two-1']));
    writeFileSync(`${path}.1`, text(['one-0']));
    writeFileSync(path, text(['cur-0']));
    at(`${path}.3.gz`, 400);
    at(`${path}.2`, 300);
    at(`${path}.1`, 200);
    at(path, 100);
    const f = follow({ path, startAt: 'beginning' });
    appendFileSync(path, 'marker\n');
    await f.seen('marker');
    expect(f.texts()).toEqual(['two-0', 'two-1', 'one-0', 'cur-0', 'marker']);
    expect(new Set(f.lines.map((l) => l.checkpoint.ino)).size).toBe(3);
  });

  it('stops the chain at a rotated file newer than the one it should precede', async () => {
    writeFileSync(`${path}.2`, text(['two-0']));
    writeFileSync(`${path}.1`, text(['one-0']));
    writeFileSync(path, text(['cur-0']));
    at(`${path}.2`, 100); // newer than .1: not a predecessor
    at(`${path}.1`, 200);
    at(path, 50);
    const f = follow({ path, startAt: 'beginning' });
    appendFileSync(path, 'marker\n');
    await f.seen('marker');
    expect(f.texts()).toEqual(['one-0', 'cur-0', 'marker']);
  });

  it('startAt end reads no rotated file', async () => {
    writeFileSync(`${path}.1`, text(['one-0']));
    writeFileSync(path, text(['cur-0']));
    at(`${path}.1`, 200);
    let caughtUp = false;
    const f = follow({ path, startAt: 'end', onCaughtUp: () => (caughtUp = true) });
    await waitFor(() => caughtUp, 'caught up');
    appendFileSync(path, 'marker\n');
    await f.seen('marker');
    expect(f.texts()).toEqual(['marker']);
  });
});

describe('onCaughtUp', () => {
  it('fires once, after the rotated files and the current file are delivered to their end', async () => {
    writeFileSync(`${path}.1`, text(['one-0', 'one-1']));
    writeFileSync(path, text(['cur-0']));
    utimesSync(`${path}.1`, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    const seenAt: number[] = [];
    const f = follow({ path, startAt: 'beginning', onCaughtUp: () => seenAt.push(f.lines.length) });
    await waitFor(() => seenAt.length > 0, 'caught up');
    appendFileSync(path, 'marker\n');
    await f.seen('marker');
    expect(seenAt).toEqual([3]);
  });

  it('never fires while the log is missing; fires once it appeared and was read', async () => {
    let caughtUp = 0;
    const f = follow({ path, startAt: 'beginning', onCaughtUp: () => caughtUp++ });
    await waitFor(() => f.warnings.some((w) => w.code === 'FILE_MISSING'), 'FILE_MISSING');
    for (let i = 0; i < 5; i++) f.tick();
    await new Promise((r) => setTimeout(r, 50));
    expect(caughtUp).toBe(0);
    writeFileSync(path, text(['appeared']));
    await f.seen('appeared');
    await waitFor(() => caughtUp === 1, 'caught up');
    expect(caughtUp).toBe(1);
  });
});
