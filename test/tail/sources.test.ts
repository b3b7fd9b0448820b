// tailSources on real files: several hosts' logs under one pattern, hosts appearing later, rotation
// and copytruncate of one source while another is written, per-source resume, vanished files, and
// files that must never become sources (rotated siblings, compressed, duplicates of a name).
import { copyFileSync, mkdirSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import type { Checkpoint } from '../../src/core/checkpoint.js';
import { followSources, logDirPerTest, logrotate, LogWriter, numbered, waitFor } from './helpers.js';

let dir: string;
logDirPerTest((d) => {
  dir = d;
});

const text = (lines: string[]): string => lines.map((l) => `${l}\n`).join('');

/** `dir/NAME/fail2ban.log`, created with `lines`. */
function hostLog(name: string, lines: string[] = []): string {
  mkdirSync(join(dir, name), { recursive: true });
  const p = join(dir, name, 'fail2ban.log');
  writeFileSync(p, text(lines));
  return p;
}

const perHost = (): string => join(dir, '*', 'fail2ban.log');

describe('tailSources: many logs', () => {
  it('follows every matching file as its own source; a file appearing later is read from line 1 even with startAt end', async () => {
    const web1 = hostLog('web1', ['old-1']);
    const web2 = hostLog('web2', ['old-2']);
    const f = followSources({ pattern: perHost(), startAt: 'end' });
    await waitFor(() => f.caughtUp === 1, 'caught up');
    const w1 = new LogWriter(web1);
    const w2 = new LogWriter(web2);
    w1.write('a-1');
    w2.write('b-1');
    await f.seenFrom('web1', 'a-1');
    await f.seenFrom('web2', 'b-1');
    hostLog('web3', ['c-1', 'c-2']); // a new host, after the first scan
    await f.seenFrom('web3', 'c-2');
    w1.write('a-2');
    await f.seenFrom('web1', 'a-2');
    expect(f.of('web1')).toEqual(['a-1', 'a-2']);
    expect(f.of('web2')).toEqual(['b-1']);
    expect(f.of('web3')).toEqual(['c-1', 'c-2']);
    expect(f.sources).toEqual([
      ['web1', web1],
      ['web2', web2],
      ['web3', join(dir, 'web3', 'fail2ban.log')],
    ]);
    expect(f.lines.every((l) => l.checkpoint.path === join(dir, l.source ?? '?', 'fail2ban.log'))).toBe(true);
    expect(f.caughtUp).toBe(1);
    w1.close();
    w2.close();
  });

  it('picks a new file up within two scan intervals of virtual time', async () => {
    const f = followSources({ pattern: perHost(), scanIntervalMs: 5000, pollIntervalMs: 1000 });
    await waitFor(() => f.caughtUp === 1, 'caught up with no files at all');
    const createdAt = f.clock.now();
    hostLog('late', ['hello']);
    await f.seenFrom('late', 'hello');
    expect((f.lineTimes[0] ?? Infinity) - createdAt).toBeLessThanOrEqual(10_000);
  });

  it('rename-rotates one source while another is written: nothing lost, nothing repeated, no phantom source', async () => {
    // Flat names, as rsyslog's `/var/log/remote/%HOSTNAME%` writes them: logrotate's web1.1 matches `*` too.
    const web1 = join(dir, 'web1');
    const web2 = join(dir, 'web2');
    writeFileSync(web1, '');
    writeFileSync(web2, '');
    const w1 = new LogWriter(web1);
    const w2 = new LogWriter(web2);
    const f = followSources({ pattern: join(dir, '*') });
    w1.write(...numbered('a', 0, 50));
    w2.write(...numbered('b', 0, 50));
    await f.seenFrom('web1', 'a-49');
    logrotate(web1);
    w1.write(...numbered('a-window', 0, 5));
    w2.write(...numbered('b', 50, 100));
    w1.flushlogs();
    w1.write(...numbered('a', 50, 100));
    await f.seenFrom('web1', 'a-99');
    await f.seenFrom('web2', 'b-99');
    for (let i = 0; i < 5; i++) f.tick(); // more scans: web1.1 must stay out
    w2.write('b-end');
    await f.seenFrom('web2', 'b-end');
    expect(f.of('web1')).toEqual([...numbered('a', 0, 50), ...numbered('a-window', 0, 5), ...numbered('a', 50, 100)]);
    expect(f.of('web2')).toEqual([...numbered('b', 0, 100), 'b-end']);
    expect(f.sources.map(([s]) => s)).toEqual(['web1', 'web2']);
    expect(f.warnings.filter((w) => w.code === 'ROTATED').map((w) => w.source)).toEqual(['web1']);
    w1.close();
    w2.close();
  });

  it('copytruncate of one source is followed like a single log; the other source is not disturbed', async () => {
    const web1 = hostLog('web1');
    const web2 = hostLog('web2');
    const f = followSources({ pattern: perHost() });
    writeFileSync(web1, text(numbered('a', 0, 20)), { flag: 'a' });
    writeFileSync(web2, text(numbered('b', 0, 20)), { flag: 'a' });
    await f.seenFrom('web1', 'a-19');
    await f.seenFrom('web2', 'b-19');
    copyFileSync(web1, `${web1}.1`);
    truncateSync(web1, 0);
    writeFileSync(web1, text(['after-truncate']), { flag: 'a' });
    writeFileSync(web2, text(['b-20']), { flag: 'a' });
    await f.seenFrom('web1', 'after-truncate');
    await f.seenFrom('web2', 'b-20');
    expect(f.of('web1')).toEqual([...numbered('a', 0, 20), 'after-truncate']);
    expect(f.of('web2')).toEqual(numbered('b', 0, 21));
    expect(f.warnings.filter((w) => w.code === 'COPYTRUNCATE').map((w) => w.source)).toEqual(['web1']);
  });

  it('resumes every source from its own checkpoint: nothing lost, nothing repeated (one rotated while down)', async () => {
    const web1 = hostLog('web1', numbered('a', 0, 10));
    const web2 = hostLog('web2', numbered('b', 0, 10));
    const first = followSources({ pattern: perHost() });
    await first.seenFrom('web1', 'a-9');
    await first.seenFrom('web2', 'b-9');
    // The state persisted after a-5 and b-8, then kill -9.
    const cpOf = (source: string, line: string): Checkpoint => {
      const l = first.lines.find((x) => x.source === source && x.line === line);
      if (!l) throw new Error(`no ${line}`);
      return l.checkpoint;
    };
    const checkpoints = new Map([
      ['web1', cpOf('web1', 'a-5')],
      ['web2', cpOf('web2', 'b-8')],
    ]);
    first.stop();
    writeFileSync(web1, text(['a-down']), { flag: 'a' });
    renameSync(web1, `${web1}.1`); // web1 rotated while down, its new file not created yet
    writeFileSync(web2, text(['b-down']), { flag: 'a' });
    const second = followSources({ pattern: perHost(), checkpoints, startAt: 'end' });
    await second.seenFrom('web2', 'b-down');
    await second.seenFrom('web1', 'a-down');
    writeFileSync(web1, text(['a-new']));
    await second.seenFrom('web1', 'a-new');
    expect(second.of('web1')).toEqual([...numbered('a', 6, 10), 'a-down', 'a-new']);
    expect(second.of('web2')).toEqual(['b-9', 'b-down']);
    expect(second.warnings.filter((w) => w.code === 'CHECKPOINT_ROTATED').map((w) => w.source)).toEqual(['web1']);
  });

  it('keeps a source whose file vanished and reads its file again when it comes back', async () => {
    const web1 = hostLog('web1', ['a-1']);
    hostLog('web2', ['b-1']);
    const f = followSources({ pattern: perHost() });
    await f.seenFrom('web1', 'a-1');
    await f.seenFrom('web2', 'b-1');
    rmSync(join(dir, 'web1'), { recursive: true });
    await waitFor(() => f.warnings.some((w) => w.source === 'web1' && w.code === 'ROTATED'), 'the disappearance');
    for (let i = 0; i < 5; i++) f.tick();
    hostLog('web1', ['a-again']);
    await f.seenFrom('web1', 'a-again');
    expect(f.of('web1')).toEqual(['a-1', 'a-again']);
    expect(f.sources.map(([s]) => s)).toEqual(['web1', 'web2']); // reported once, never dropped
    expect(web1).toBe(f.sources[0]?.[1]);
  });

  it('never follows rotated siblings, compressed or hidden files', async () => {
    const names = ['web1', 'web1.1', 'web1.2.gz', 'web1-20261204', 'web2.xz', '.web3', '10.0.0.1'];
    for (const name of names) writeFileSync(join(dir, name), 'old\n');
    // startAt end: on a first start from the beginning, web1's rotated web1.1 is read before it,
    // as part of web1 (single-log behaviour), which is not what this test is about.
    const f = followSources({ pattern: join(dir, '*'), startAt: 'end' });
    await waitFor(() => f.caughtUp === 1, 'caught up');
    for (let i = 0; i < 3; i++) f.tick();
    for (const name of names) writeFileSync(join(dir, name), `x-${name}\n`, { flag: 'a' });
    writeFileSync(join(dir, 'web1'), 'marker\n', { flag: 'a' });
    await f.seenFrom('web1', 'marker');
    await f.seenFrom('10.0.0.1', 'x-10.0.0.1');
    expect(f.sources.map(([s]) => s)).toEqual(['10.0.0.1', 'web1']);
    expect(f.of('web1')).toEqual(['x-web1', 'marker']);
    expect(f.lines.map((l) => l.source).filter((s) => s !== 'web1' && s !== '10.0.0.1')).toEqual([]);
  });

  it('warns once about a second file naming a followed source and never merges it', async () => {
    mkdirSync(join(dir, 'web1'));
    writeFileSync(join(dir, 'web1', 'f2b-a.log'), 'from-a\n');
    writeFileSync(join(dir, 'web1', 'f2b-b.log'), 'from-b\n');
    const f = followSources({ pattern: join(dir, '*', 'f2b-*.log') });
    await f.seenFrom('web1', 'from-a');
    for (let i = 0; i < 6; i++) f.tick();
    writeFileSync(join(dir, 'web1', 'f2b-a.log'), 'from-a-2\n', { flag: 'a' });
    await f.seenFrom('web1', 'from-a-2');
    expect(f.texts()).toEqual(['from-a', 'from-a-2']);
    const dup = f.warnings.filter((w) => w.code === 'DUPLICATE_SOURCE');
    expect(dup).toHaveLength(1);
    expect(dup[0]?.path).toBe(join(dir, 'web1', 'f2b-b.log'));
    expect(dup[0]?.source).toBe('web1');
  });

  it('keeps a source on the file it followed before a restart, even when a file sorting first appeared meanwhile', async () => {
    mkdirSync(join(dir, 'web1'));
    const b = join(dir, 'web1', 'f2b-b.log');
    writeFileSync(b, 'b-1\n');
    const pattern = join(dir, '*', 'f2b-*.log');
    const first = followSources({ pattern });
    await first.seenFrom('web1', 'b-1');
    const cp = first.lines[0]?.checkpoint;
    first.stop();
    writeFileSync(join(dir, 'web1', 'f2b-a.log'), 'a-1\n');
    writeFileSync(b, 'b-2\n', { flag: 'a' });
    const second = followSources({ pattern, checkpoints: new Map(cp ? [['web1', cp]] : []) });
    await second.seenFrom('web1', 'b-2');
    expect(second.of('web1')).toEqual(['b-2']);
    expect(second.sources).toEqual([['web1', b]]);
    expect(second.warnings.filter((w) => w.code === 'DUPLICATE_SOURCE').map((w) => w.path)).toEqual([join(dir, 'web1', 'f2b-a.log')]);
  });

  it('wakes the tailers of one directory through one shared watcher, without any poll', async () => {
    const web1 = join(dir, 'web1.log');
    const web2 = join(dir, 'web2.log');
    writeFileSync(web1, '');
    writeFileSync(web2, '');
    const f = followSources({ pattern: join(dir, '*.log'), poll: 'never' });
    await waitFor(() => f.caughtUp === 1, 'caught up');
    writeFileSync(web1, 'a-1\n', { flag: 'a' });
    writeFileSync(web2, 'b-1\n', { flag: 'a' });
    await f.seenFrom('web1', 'a-1');
    await f.seenFrom('web2', 'b-1');
    expect(f.clock.now()).toBe(0);
  });

  it('is caught up only once every file present at the first scan was read to its end', async () => {
    hostLog('web1', numbered('a', 0, 5000));
    hostLog('web2', ['b']);
    const order: string[] = [];
    const f = followSources({
      pattern: perHost(),
      onSourceCaughtUp: (s) => order.push(s),
      onCaughtUp: () => order.push('all'),
    });
    await waitFor(() => f.caughtUp === 1, 'caught up');
    expect(order.at(-1)).toBe('all');
    expect(order.slice(0, 2).sort()).toEqual(['web1', 'web2']);
    expect(f.of('web1')).toHaveLength(5000);
  });

  it('a failing source does not stop the others and is retried at the next scans', async () => {
    const web1 = hostLog('web1', ['a-1']);
    const web2 = hostLog('web2', ['b-1']);
    const f = followSources({ pattern: perHost() });
    await f.seenFrom('web1', 'a-1');
    await f.seenFrom('web2', 'b-1');
    rmSync(web1);
    mkdirSync(web1); // not a log any more: web1's tailer fails (EISDIR)
    await waitFor(() => f.warnings.some((w) => w.code === 'SOURCE_FAILED'), 'the failure');
    writeFileSync(web2, 'b-2\n', { flag: 'a' });
    await f.seenFrom('web2', 'b-2');
    for (let i = 0; i < 6; i++) f.tick(); // retried at each scan, warned once for the same error
    rmSync(web1, { recursive: true });
    writeFileSync(web1, 'a-back\n');
    await f.seenFrom('web1', 'a-back');
    expect(f.error).toBeUndefined();
    expect(f.of('web1')).toEqual(['a-1', 'a-back']);
    const failed = f.warnings.filter((w) => w.code === 'SOURCE_FAILED');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ source: 'web1', path: web1 });
    expect(failed[0]?.message).toContain('EISDIR');
  });

  it('a source failing before its first line is retried from its beginning, not at its end again', async () => {
    const web1 = hostLog('web1', ['old']);
    const f = followSources({ pattern: perHost(), startAt: 'end' });
    await waitFor(() => f.caughtUp === 1, 'caught up');
    rmSync(web1);
    mkdirSync(web1);
    await waitFor(() => f.warnings.some((w) => w.code === 'SOURCE_FAILED'), 'the failure');
    rmSync(web1, { recursive: true });
    writeFileSync(web1, 'x-1\n'); // written while the source is failed
    let turns = 0;
    await waitFor(() => ++turns > 20, 'a few scans'); // the retry happens in one of them
    writeFileSync(web1, 'marker\n', { flag: 'a' });
    await f.seenFrom('web1', 'marker');
    expect(f.of('web1')).toEqual(['x-1', 'marker']);
  });

  it('waits for a missing root directory and follows what appears in it', async () => {
    const root = join(dir, 'not-yet');
    const f = followSources({ pattern: join(root, '*.log') });
    await waitFor(() => f.caughtUp === 1, 'caught up with nothing to read');
    mkdirSync(root);
    writeFileSync(join(root, 'web1.log'), 'hello\n');
    await f.seenFrom('web1', 'hello');
    expect(f.warnings.filter((w) => w.code === 'SCAN_ERROR')).toEqual([]);
  });

  it('refuses an invalid pattern synchronously', () => {
    expect(() => followSources({ pattern: join(dir, '**', 'fail2ban.log') })).toThrow(/`\*\*` is not supported/);
  });
});
