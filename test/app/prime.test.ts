import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { primeRepeats } from '../../src/app/prime.js';
import { hashHead } from '../../src/tail/index.js';

const line = (i: number, host = 'web1') =>
  `2026-12-04T12:00:00.${String(i).padStart(6, '0')}+00:00 ${host} fail2ban.actions[42]: NOTICE [sshd] Ban 192.0.2.${i}`;

async function fileWith(lines: string[]) {
  const dir = await mkdtemp(join(tmpdir(), 'f2b-prime-'));
  const path = join(dir, 'fail2ban.log');
  const text = `${lines.join('\n')}\n`;
  await writeFile(path, text);
  const st = await stat(path);
  return {
    path,
    text,
    cp: { path, dev: st.dev, ino: st.ino, offset: Buffer.byteLength(text), head: hashHead(Buffer.from(text).subarray(0, 256)) },
  };
}

describe('primeRepeats', () => {
  it("hands the events just before each feed checkpoint to the filter, under the feed name; a combined file under each line's host", async () => {
    const a = await fileWith([line(1), line(2), 'not a fail2ban line', line(3)]);
    const b = await fileWith([line(4, 'web7'), line(5, 'web8')]);
    const seen: string[] = [];
    const n = await primeRepeats({
      checkpoints: { web1: a.cp },
      checkpoint: b.cp,
      remember: (s, ev) => void seen.push(`${s} ${ev.ip}`),
      now: Date.UTC(2026, 11, 4),
    });
    expect(n).toBe(5);
    expect(seen).toEqual(['web1 192.0.2.1', 'web1 192.0.2.2', 'web1 192.0.2.3', 'web7 192.0.2.4', 'web8 192.0.2.5']);
  });

  it('reads at most `bytes` before the checkpoint (the line cut there is skipped) and nothing of a replaced file', async () => {
    const a = await fileWith([line(1), line(2), line(3)]);
    const seen: string[] = [];
    const one = Buffer.byteLength(line(3)) + 1;
    await primeRepeats({ checkpoints: { web1: a.cp }, remember: (_s, ev) => void seen.push(ev.ip ?? ''), now: 0, bytes: one + 5 });
    expect(seen).toEqual(['192.0.2.3']);
    seen.length = 0;
    await primeRepeats({
      checkpoints: { web1: { ...a.cp, ino: a.cp.ino + 1 } },
      remember: (_s, ev) => void seen.push(ev.ip ?? ''),
      now: 0,
    });
    expect(seen).toEqual([]);
  });
});
