import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { firstValueFrom, take, toArray } from 'rxjs';

import { parseLine } from '../../src/parser/index.js';
import { isTruncated, LineSplitter, trimIncompleteUtf8, type SplitLine } from '../../src/tail/lines.js';
import { tailFile } from '../../src/tail/index.js';
import { makeTempDir } from './helpers.js';

const MAX = 64;

function splitter(startOffset = 0, skipToNewline = false): LineSplitter {
  return new LineSplitter({ maxLineBytes: MAX, startOffset, skipToNewline });
}

function pushAll(s: LineSplitter, chunks: (string | Buffer)[]): SplitLine[] {
  return chunks.flatMap((c) => s.push(typeof c === 'string' ? Buffer.from(c) : c));
}

describe('LineSplitter', () => {
  it('emits complete lines with the offset just past each newline', () => {
    const s = splitter(100);
    expect(s.push(Buffer.from('ab\n\ncd\n'))).toEqual([
      { text: 'ab', end: 103 },
      { text: '', end: 104 },
      { text: 'cd', end: 107 },
    ]);
    expect(s.offset).toBe(107);
  });

  it('holds an unterminated tail until its newline arrives, across pushes', () => {
    const s = splitter();
    expect(s.push(Buffer.from('first\npar'))).toEqual([{ text: 'first', end: 6 }]);
    expect(s.pendingBytes).toBe(3);
    expect(s.push(Buffer.from('ti'))).toEqual([]);
    expect(s.push(Buffer.from('al\nnext'))).toEqual([{ text: 'partial', end: 14 }]);
    expect(s.pendingBytes).toBe(4);
  });

  it('reassembles a multi-byte character cut by a chunk boundary', () => {
    const bytes = Buffer.from('bäd-host.example\n');
    const cut = bytes.indexOf(0xc3) + 1; // inside the two bytes of "ä"
    const s = splitter();
    const lines = pushAll(s, [bytes.subarray(0, cut), bytes.subarray(cut)]);
    expect(lines).toEqual([{ text: 'bäd-host.example', end: bytes.length }]);
  });

  it('replaces invalid UTF-8 instead of failing', () => {
    const s = splitter();
    expect(s.push(Buffer.from([0x61, 0xff, 0x62, 0x0a]))).toEqual([{ text: 'a\ufffdb', end: 4 }]);
  });

  it('cuts a line longer than maxLineBytes, reports its real size and keeps the next line intact', () => {
    const s = splitter();
    const long = 'x'.repeat(MAX * 3 + 5);
    const lines = pushAll(s, [long.slice(0, 50), long.slice(50, 130), `${long.slice(130)}\nnext\n`]);
    expect(lines).toEqual([
      { text: 'x'.repeat(MAX), end: long.length + 1, originalBytes: long.length },
      { text: 'next', end: long.length + 6 },
    ]);
  });

  it('marks a line cut inside its address as truncated (issue 11: "Ban 198.51.100.123" blocked 198.51.100.1)', () => {
    const full = '2026-11-25 04:40:01,338 fail2ban.actions        [10839]: NOTICE  [sshd] Ban 198.51.100.123';
    const cap = full.length - 2; // the cut leaves "... Ban 198.51.100.1"
    const s = new LineSplitter({ maxLineBytes: cap, startOffset: 0 });
    const [cut, next] = s.push(Buffer.from(`${full}\nnext\n`));
    expect(cut?.text.endsWith('Ban 198.51.100.1')).toBe(true);
    expect(cut && isTruncated(cut)).toBe(true);
    expect(cut?.originalBytes).toBe(full.length);
    expect(next && isTruncated(next)).toBe(false);
    // Why the mark matters: the cut text alone parses as a ban of the wrong address.
    const parsed = parseLine(cut?.text ?? '');
    expect(parsed.kind === 'event' && parsed.event.type === 'ban' ? parsed.event.ip : undefined).toBe('198.51.100.1');
  });

  it('does not cut a UTF-8 character in half when truncating', () => {
    const s = splitter();
    const text = `${'a'.repeat(MAX - 1)}é tail`; // "é" straddles the limit
    const [line] = s.push(Buffer.from(`${text}\n`));
    expect(line?.text).toBe('a'.repeat(MAX - 1));
    expect(line?.originalBytes).toBe(Buffer.byteLength(text));
  });

  it('skips to the first newline when started in the middle of a line', () => {
    const s = splitter(10, true);
    expect(pushAll(s, ['ail of a line', ' still\nwhole\n'])).toEqual([{ text: 'whole', end: 10 + 26 }]);
  });

  it('flush gives the unterminated remainder once, or nothing', () => {
    const s = splitter();
    expect(s.flush()).toBeUndefined();
    s.push(Buffer.from('done\nfrag'));
    expect(s.flush()).toEqual({ text: 'frag', end: 9 });
    expect(s.flush()).toBeUndefined();
    const skipping = splitter(0, true);
    skipping.push(Buffer.from('rest of a line'));
    expect(skipping.flush()).toBeUndefined();
  });

  it('yields the same lines and offsets however the bytes are chunked', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'grapheme', maxLength: 100 }), { maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 30 }),
        (texts, cuts) => {
          const bytes = Buffer.from(texts.map((t) => `${t.replace(/\n/g, ' ')}\n`).join(''));
          const whole = splitter().push(bytes);
          const chunks: Buffer[] = [];
          let at = 0;
          for (let i = 0; at < bytes.length; i++) {
            const n = cuts[i % cuts.length] as number;
            chunks.push(bytes.subarray(at, at + n));
            at += n;
          }
          expect(pushAll(splitter(), chunks)).toEqual(whole);
          expect(whole.map((l) => l.end)).toEqual(
            whole.map((_, i) =>
              Buffer.byteLength(
                texts
                  .slice(0, i + 1)
                  .map((t) => `${t.replace(/\n/g, ' ')}\n`)
                  .join(''),
              ),
            ),
          );
        },
      ),
    );
  });
});

describe('trimIncompleteUtf8', () => {
  it.each([
    ['complete ASCII', [0x61, 0x62], 2],
    ['complete 2-byte char', [0x61, 0xc3, 0xa4], 3],
    ['cut 2-byte char', [0x61, 0xc3], 1],
    ['cut 3-byte char after 2 bytes', [0x61, 0xe2, 0x82], 1],
    ['complete 4-byte char', [0x61, 0xf0, 0x9f, 0x98, 0x80], 5],
    ['cut 4-byte char after 3 bytes', [0x61, 0xf0, 0x9f, 0x98], 1],
  ])('%s', (_name, bytes, keep) => {
    expect(trimIncompleteUtf8(Buffer.from(bytes)).length).toBe(keep);
  });
});

describe('a cut line through the tailer', () => {
  it('is delivered with truncated: true and its checkpoint, the lines around it unmarked', async () => {
    const { dir, cleanup } = await makeTempDir();
    try {
      const path = join(dir, 'fail2ban.log');
      const cutLine = '2026-11-25 04:40:01,338 fail2ban.actions        [10839]: NOTICE  [sshd] Ban 198.51.100.123';
      const ok = '2026-11-25 04:40:02,000 fail2ban.actions        [10839]: NOTICE  [sshd] Ban 192.0.2.7';
      await writeFile(path, `${ok}\n${cutLine}\n${ok}\n`);
      const lines = await firstValueFrom(
        tailFile({ path, startAt: 'beginning', maxLineBytes: cutLine.length - 2, onWarning: () => undefined }).pipe(take(3), toArray()),
      );
      expect(lines.map((l) => l.truncated)).toEqual([undefined, true, undefined]);
      expect(lines[1]?.checkpoint.offset).toBe(ok.length + 1 + cutLine.length + 1);
      expect(lines[2]?.line).toBe(ok);
    } finally {
      await cleanup();
    }
  });
});
