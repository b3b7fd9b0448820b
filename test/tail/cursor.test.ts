import { appendFileSync, statSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { FileCursor } from '../../src/tail/cursor.js';
import { hashHead } from '../../src/tail/identity.js';
import { makeTempDir } from './helpers.js';

let cleanup: () => Promise<void>;
let path: string;
const handles: FileHandle[] = [];

beforeEach(async () => {
  const t = await makeTempDir();
  cleanup = t.cleanup;
  path = join(t.dir, 'fail2ban.log');
});

afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.close().catch(() => undefined)));
  await cleanup();
});

async function cursor(content: string, maxLineBytes = 1024): Promise<FileCursor> {
  writeFileSync(path, content);
  const fh = await open(path, 'r');
  handles.push(fh);
  const st = await fh.stat();
  return new FileCursor(fh, st.dev, st.ino, path, maxLineBytes);
}

const texts = async (c: FileCursor): Promise<string[]> => (await c.readBatch(1 << 20)).lines.map((l) => l.text);

describe('FileCursor.seekEnd', () => {
  it.each([
    ['after the last complete line', 'a\nb\n', 4],
    ['at the start of a half-written last line', 'a\nhalf', 2],
    ['at 0 when the file has no newline at all', 'only-partial', 0],
    ['at 0 for an empty file', '', 0],
  ])('positions %s', async (_name, content, offset) => {
    const c = await cursor(content);
    await c.seekEnd();
    expect(c.offset).toBe(offset);
  });

  it('delivers a half-written last line whole once it is completed', async () => {
    const c = await cursor('a\nhalf');
    await c.seekEnd();
    appendFileSync(path, '-done\nnext\n');
    expect(await texts(c)).toEqual(['half-done', 'next']);
  });

  it('skips the rest of a line longer than maxLineBytes that is being written at start', async () => {
    const c = await cursor(`${'x'.repeat(40)}`, 8);
    await c.seekEnd();
    expect(c.offset).toBe(40);
    appendFileSync(path, 'yy\nz\n');
    expect(await texts(c)).toEqual(['z']);
  });
});

describe('FileCursor reading', () => {
  it('stops at the byte budget and says there is more', async () => {
    const line = `${'y'.repeat(1023)}\n`;
    const c = await cursor(line.repeat(300)); // 300 KiB
    const first = await c.readBatch(64 * 1024);
    expect(first.more).toBe(true);
    expect(first.lines).toHaveLength(64);
    let total = first.lines.length;
    for (;;) {
      const b = await c.readBatch(64 * 1024);
      total += b.lines.length;
      if (!b.more) break;
    }
    expect(total).toBe(300);
  });

  it('detects changed first bytes (copytruncate that grew back past the offset)', async () => {
    const c = await cursor('first\n');
    await texts(c);
    expect(await c.headUnchanged()).toBe(true);
    writeFileSync(path, 'other content, longer than before\n'); // same inode, rewritten
    expect(await c.headUnchanged()).toBe(false);
  });

  it('matches its own checkpoints and no others', async () => {
    const c = await cursor('one\ntwo\n');
    const lines = (await c.readBatch(1024)).lines;
    const cp = c.checkpoint(lines[0]?.end ?? 0);
    const st = statSync(path);
    expect(cp).toEqual({ path, dev: st.dev, ino: st.ino, offset: 4, head: hashHead(Buffer.from('one\n')) });
    expect(await c.matches(cp)).toBe(true);
    expect(await c.matches({ ...cp, head: hashHead(Buffer.from('uno\n')) })).toBe(false);
    expect(await c.matches({ ...cp, ino: cp.ino + 1 })).toBe(false);
    expect(await c.matches({ ...cp, offset: 100 })).toBe(false);
  });
});
