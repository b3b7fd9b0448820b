// Read-through reports (onDrained) and reads on demand (readNow): the pipeline resolves a held
// unban only once the log has been read through its deadline, so a "Jail stopped" already written
// but not yet read (a missed watcher event, a busy process) cannot find its stop-Unbans
// lifted. Real files; the tailers' clocks are virtual and still unless a test moves them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';

import { follow, followSources, logDirPerTest, LogWriter, waitFor } from './helpers.js';

let dir: string;
let path: string;
logDirPerTest((d, p) => {
  dir = d;
  path = p;
});

/** Each report: the pass's start, and how many lines had been delivered when it came. */
interface Report {
  began: number;
  linesBefore: number;
}

describe('tailFile read-through', () => {
  it('reports each pass that read to the end with the time it began, after its lines; readNow starts one at once', async () => {
    const w = new LogWriter(path);
    w.write('first');
    const readNow = new Subject<void>();
    const reports: Report[] = [];
    // No watcher and a poll that never fires: only the first look and readNow read the file.
    const f = follow({
      path,
      watch: false,
      poll: 'never',
      pollIntervalMs: 1e9,
      readNow,
      onDrained: (began) => reports.push({ began, linesBefore: f.lines.length }),
    });
    await waitFor(() => reports.length === 1, 'the first pass');
    expect(reports[0]).toEqual({ began: 0, linesBefore: 1 });
    // A pass that delivered lines looks once more 50 ms later (a burst's rest), then nothing.
    f.clock.advance(100);
    await waitFor(() => reports.length === 2, 'the settling look');
    expect(reports[1]).toEqual({ began: 50, linesBefore: 1 });

    w.write('second', 'third');
    f.clock.scheduler.frame = 700; // time passes, no timer due
    // Written, but nothing reads it until asked.
    await new Promise((r) => setTimeout(r, 100));
    expect(f.texts()).toEqual(['first']);
    readNow.next();
    await waitFor(() => reports.length === 3, 'the pass asked for');
    expect(reports[2]).toEqual({ began: 700, linesBefore: 3 });
    expect(f.texts()).toEqual(['first', 'second', 'third']);
    w.close();
  });

  it('the rest of a burst written just after a read is read 50 ms later, with no watcher event and no poll', async () => {
    const w = new LogWriter(path);
    w.write('burst-1');
    const f = follow({ path, watch: false, poll: 'never', pollIntervalMs: 1e9 });
    await f.seen('burst-1');
    w.write('burst-2', 'burst-3');
    f.clock.advance(50);
    await f.seen('burst-3');
    expect(f.lineTimes).toEqual([0, 50, 50]);
    w.close();
  });

  it('a pass that stops at its byte budget does not report; the one that reaches the end does', async () => {
    // 3 MiB: three 1 MiB batches before the end.
    const line = 'x'.repeat(1023);
    writeFileSync(path, `${line}\n`.repeat(3 * 1024));
    const reports: Report[] = [];
    const f = follow({ path, watch: false, poll: 'never', onDrained: (began) => reports.push({ began, linesBefore: f.lines.length }) });
    await waitFor(() => reports.length === 1, 'the end of the file');
    expect(reports).toEqual([{ began: 0, linesBefore: 3 * 1024 }]);
  });

  it('with no file at the path there is nothing to read: the pass reports', async () => {
    const reports: number[] = [];
    const readNow = new Subject<void>();
    const f = follow({ path, watch: false, poll: 'never', pollIntervalMs: 1e9, readNow, onDrained: (began) => reports.push(began) });
    await waitFor(() => reports.length === 1, 'the first pass');
    f.clock.advance(50);
    readNow.next();
    await waitFor(() => reports.length === 2, 'the pass asked for');
    expect(reports).toEqual([0, 50]);
    expect(f.warnings.map((x) => x.code)).toEqual(['FILE_MISSING']);
  });
});

describe('tailSources read-through', () => {
  const hostLog = (name: string, lines: string[]): string => {
    mkdirSync(join(dir, name), { recursive: true });
    const p = join(dir, name, 'fail2ban.log');
    writeFileSync(p, lines.map((l) => `${l}\n`).join(''));
    return p;
  };

  it('reports the oldest of the files’ latest passes, once every followed file has been read through it', async () => {
    const web1 = hostLog('web1', ['a-1']);
    hostLog('web2', ['b-1']);
    const readNow = new Subject<void>();
    const reports: Report[] = [];
    const f = followSources({
      pattern: join(dir, '*', 'fail2ban.log'),
      watch: false,
      poll: 'never',
      readNow,
      onDrained: (began) => reports.push({ began, linesBefore: f.lines.length }),
    });
    await waitFor(() => reports.length === 1, 'both files read');
    expect(reports[0]).toEqual({ began: 0, linesBefore: 2 });

    new LogWriter(web1).write('a-2');
    f.clock.scheduler.frame = 400; // time passes without a poll or a scan firing
    readNow.next();
    await waitFor(() => reports.length === 2, 'the pass asked for');
    expect(reports[1]).toEqual({ began: 400, linesBefore: 3 });
    expect(f.of('web1')).toEqual(['a-1', 'a-2']);
  });

  /** A pattern no file matches, with reads on demand and the reports recorded. */
  const noFiles = () => {
    const readNow = new Subject<void>();
    const reports: number[] = [];
    const f = followSources({
      pattern: join(dir, '*', 'fail2ban.log'),
      watch: false,
      poll: 'never',
      readNow,
      onDrained: (b) => reports.push(b),
    });
    return { f, readNow, reports };
  };

  it('with no file matching, a read asked for before the first scan is over is answered when it is', async () => {
    const { f, readNow, reports } = noFiles();
    readNow.next(); // the scan (asynchronous) has not run yet
    await waitFor(() => f.caughtUp === 1, 'the first scan');
    expect(reports).toEqual([0]);
  });

  it('with no file matching, a read asked for is answered at once', async () => {
    const { f, readNow, reports } = noFiles();
    await waitFor(() => f.caughtUp === 1, 'the first scan');
    f.clock.scheduler.frame = 250;
    readNow.next();
    // The first scan found nothing to read (0), the read asked for is answered at once (250).
    expect(reports).toEqual([0, 250]);
  });
});
