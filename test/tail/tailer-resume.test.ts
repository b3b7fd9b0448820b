// Checkpoint resume: stop after K lines, change the file(s) while stopped, resume with the K-th
// line's checkpoint. Every test ends with a marker line written after everything else, so "nothing
// more was delivered" is checked without waiting for time to pass.
import { appendFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
