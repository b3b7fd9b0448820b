// `parse` command: real fixture files, real temp files, stdin as a stream; expectations come from
// the fixtures' hand-reviewed .events.jsonl, not from the parser.
import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { run, USAGE } from '../../src/cli/commands/parse.js';
import type { CliDeps } from '../../src/cli/deps.js';
import { FIXTURES, expectedRow, readFixture, splitLines, type Row } from '../parser/helpers.js';

const FULL = 'fail2ban-1.0.2-full-cycle.log';
const SUBNET = 'fail2ban-1.0.2-subnet-mapped-dns-ids.log';
const fixtureDir = fileURLToPath(FIXTURES);

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function parse(files: string[], opts: { json?: boolean; raw?: boolean; stdin?: Readable; cwd?: string } = {}): Promise<Ran> {
  const stdout = new Sink();
  const stderr = new Sink();
  const deps: CliDeps = {
    stdout,
    stderr,
    stdin: opts.stdin ?? Readable.from([]),
    env: {},
    cwd: opts.cwd ?? fixtureDir,
    signal: new AbortController().signal,
  };
  const code = await run({ files, ...(opts.json ? { json: true } : {}), ...(opts.raw ? { raw: true } : {}) }, deps);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** Events (not rejections) of a fixture per its .events.jsonl. */
function expectedEvents(name: string): Row[] {
  return splitLines(readFixture(name.replace(/\.log$/, '.events.jsonl')))
    .map((l) => JSON.parse(l) as { line: number; ts: string; pid: number; event: string; jail?: string; id?: string; version?: string })
    .map((e) => expectedRow(e.line, e, { ts: e.ts, pid: e.pid }))
    .filter((r): r is Row => r?.kind === 'event');
}

const textOf = (r: Row) => `${r.time} ${r.type} ${r.jail ?? '-'} ${r.ip ?? '-'}${r.version ? ` v${r.version}` : ''}`;

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'f2b-parse-cli-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('parse FILE', () => {
  it('text output: one line per event, in file order', async () => {
    const { code, stdout, stderr } = await parse([FULL]);
    expect(code).toBe(0);
    const want = expectedEvents(FULL);
    expect(want.length).toBe(47);
    expect(splitLines(stdout)).toEqual(want.map(textOf));
    expect(stderr).toBe('parse: 188 line(s), 47 event(s), 2 rejected (hostname 2)\n');
  });

  it('--json: one object per line with type, jail, ip, time (and the ISO time, PID)', async () => {
    const { code, stdout } = await parse([FULL], { json: true });
    expect(code).toBe(0);
    const got = splitLines(stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
    const want = expectedEvents(FULL);
    expect(got.map((o) => [o.type, o.jail, o.ip, o.time, o.isoTime, o.pid, o.version])).toEqual(
      want.map((r) => [r.type, r.jail, r.ip, r.time, r.isoTime, r.pid, r.version]),
    );
    expect(got[3]).toEqual({
      type: 'ban',
      jail: 'sshd',
      ip: '192.0.2.10',
      family: 'IPv4',
      time: '2026-11-25 04:39:52,876',
      isoTime: '2026-11-25T04:39:52.876',
      pid: 10839,
    });
  });

  it('--json --raw carries the line; JSON escaping survives odd jail names', async () => {
    const line = '2026-11-25 04:39:52,876 fail2ban.actions        [1]: NOTICE  [a"b\\c] Ban 192.0.2.1';
    const file = join(tmp, 'odd.log');
    await writeFile(file, `${line}\n`);
    const { stdout } = await parse([file], { json: true, raw: true });
    expect(JSON.parse(stdout)).toMatchObject({ type: 'ban', jail: 'a"b\\c', ip: '192.0.2.1', raw: line });
    const text = await parse([file], { raw: true });
    expect(text.stdout).toBe(`2026-11-25 04:39:52,876 ban a"b\\c 192.0.2.1\t${line}\n`);
  });

  it('several files: outputs in argument order, one summary', async () => {
    const { code, stdout, stderr } = await parse([FULL, SUBNET], { json: true });
    expect(code).toBe(0);
    const [full, subnet] = await Promise.all([parse([FULL], { json: true }), parse([SUBNET], { json: true })]);
    expect(stdout).toBe(full.stdout + subnet.stdout);
    const subnetLines = splitLines(readFixture(SUBNET)).length;
    const subnetEvents = splitLines(subnet.stdout).length;
    expect(stderr).toBe(`parse: ${188 + subnetLines} line(s), ${47 + subnetEvents} event(s), 2 rejected (hostname 2)\n`);
  });

  it('a last line without newline and CRLF line ends are parsed', async () => {
    const file = join(tmp, 'crlf.log');
    const lines = splitLines(readFixture(FULL));
    await writeFile(file, lines.join('\r\n'));
    const a = await parse([file], { json: true });
    const b = await parse([FULL], { json: true });
    expect(a.stdout).toBe(b.stdout);
    expect(a.stderr).toBe(b.stderr);
  });

  it('large output through a slow stream: every event once, in order (buffer turnover, back-pressure, huge lines)', async () => {
    const file = join(tmp, 'big.log');
    const hugeJail = `j${'é'.repeat(400_000)}`; // > 1 MiB once UTF-8 encoded: bigger than one write chunk
    const want: string[] = [];
    const lines: string[] = [];
    for (let i = 0; i < 30_000; i++) {
      const jailName = i === 12_345 ? hugeJail : `jail-${i % 7}`;
      const ip = `192.0.${Math.floor(i / 250)}.${(i % 250) + 1}`;
      lines.push(`2026-11-25 04:39:52,${String(i % 1000).padStart(3, '0')} fail2ban.actions        [42]: NOTICE  [${jailName}] Ban ${ip}`);
      lines.push(`2026-11-25 04:39:52,000 fail2ban.filter         [42]: INFO    [${jailName}] Found ${ip} - 2026-11-25 04:39:52`);
      want.push(`2026-11-25 04:39:52,${String(i % 1000).padStart(3, '0')} ban ${jailName} ${ip}`);
    }
    await writeFile(file, `${lines.join('\n')}\n`);
    let text = '';
    let writes = 0;
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _enc, done) {
        writes++;
        text += chunk.toString();
        setImmediate(done);
      },
    });
    const stderr = new Sink();
    const code = await run(
      { files: [file] },
      { stdout: slow, stderr, stdin: Readable.from([]), env: {}, cwd: tmp, signal: new AbortController().signal },
    );
    expect(code).toBe(0);
    expect(writes).toBeGreaterThan(2);
    expect(splitLines(text)).toEqual(want);
    expect(stderr.text).toBe('parse: 60000 line(s), 30000 event(s), 0 rejected\n');
  });

  it('rejected IDs are counted by reason, never printed', async () => {
    const { stdout, stderr } = await parse(['fail2ban-1.0.2-permanent-and-non-ip-manual-bans.log']);
    expect(stdout).not.toContain('not_an_ip');
    expect(stderr).toMatch(/, 2 rejected \(not-an-ip 2\)\n$/);
  });
});

describe('parse - (stdin)', () => {
  it('gives the same output as the file, even with chunks cut inside lines and UTF-8 characters', async () => {
    const bytes = Buffer.from(readFixture('fail2ban-1.0.2-action-errors-multiline-traceback.log'));
    expect(bytes.includes(Buffer.from('ä'))).toBe(true);
    const stdin = new PassThrough();
    const done = parse(['-'], { json: true, stdin });
    for (let i = 0; i < bytes.length; i += 7) stdin.write(bytes.subarray(i, i + 7));
    stdin.end();
    const viaStdin = await done;
    const viaFile = await parse(['fail2ban-1.0.2-action-errors-multiline-traceback.log'], { json: true });
    expect(viaStdin.code).toBe(0);
    expect(viaStdin.stdout).toBe(viaFile.stdout);
    expect(viaStdin.stderr).toBe(viaFile.stderr);
    expect(splitLines(viaStdin.stdout).map((l) => (JSON.parse(l) as { type: string }).type)).toContain('ban');
  });

  it('no file argument means stdin', async () => {
    const { stdout } = await parse([], { stdin: Readable.from([Buffer.from(readFixture(SUBNET))]) });
    expect(stdout).toBe((await parse([SUBNET])).stdout);
  });

  it('no file argument on a terminal: usage on stderr and exit 2 instead of waiting; an explicit - still reads it', async () => {
    // A terminal nobody types into: reading it would never end.
    const tty = () => Object.assign(new PassThrough(), { isTTY: true });
    const r = await parse([], { stdin: tty() });
    expect(r).toEqual({ code: 2, stdout: '', stderr: USAGE });
    expect(USAGE).toMatch(/^usage: f2b-sophosxg parse /);

    const typed = tty();
    const done = parse(['-'], { stdin: typed });
    typed.end(readFixture(SUBNET));
    expect((await done).stdout).toBe((await parse([SUBNET])).stdout);
  });
});

describe('unreadable input', () => {
  it('missing file: exit 1, one error line naming the path, the other files still parsed', async () => {
    const missing = join(tmp, 'nope.log');
    const { code, stdout, stderr } = await parse([missing, SUBNET]);
    expect(code).toBe(1);
    expect(stdout).toBe((await parse([SUBNET])).stdout);
    const lines = splitLines(stderr);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^f2b-sophosxg: cannot read ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*ENOENT`));
    expect(lines[1]).toMatch(/, 1 unreadable input\(s\)$/);
  });

  it('a directory is unreadable too', async () => {
    const { code, stderr } = await parse([tmp]);
    expect(code).toBe(1);
    expect(splitLines(stderr)[0]).toMatch(/^f2b-sophosxg: cannot read .*EISDIR/);
  });

  it.skipIf(process.getuid?.() === 0)('a file without read permission', async () => {
    const file = join(tmp, 'secret.log');
    await writeFile(file, 'x\n');
    await chmod(file, 0o000);
    const { code, stderr } = await parse([file]);
    expect(code).toBe(1);
    expect(stderr).toContain(`cannot read ${file}: `);
  });
});
