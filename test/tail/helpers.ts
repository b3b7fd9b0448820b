// Shared by the tail suites: temp dirs, a follower that records everything the tailer emits, a
// polling waitFor for I/O-driven conditions, and a writer that behaves like fail2ban's logging
// handler (one write per record, keeps its descriptor across a rename until "flushlogs").
//
// Followers run on virtual time: each turn of waitFor advances every follower's clock by one poll
// interval, so the tailer's poll fires as often as the test looks, however loaded the machine is,
// and the tests do not depend on the watcher reporting every write (it still runs and may step first).
import { closeSync, openSync, renameSync, existsSync, writeFileSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subscription, VirtualTimeScheduler, type Observable, type SchedulerLike } from 'rxjs';
import { afterEach, beforeEach } from 'vitest';

import { tailFile, tailSources, type TailOptions, type TailSourcesOptions, type TailWarning } from '../../src/tail/index.js';
import type { TailLine } from '../../src/tail/types.js';

export const FIXTURES = new URL('../../../shared/fixtures/fail2ban/', import.meta.url);

export async function makeTempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'f2b-tail-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A fresh temp dir with a `fail2ban.log` path per test; followers stopped and the dir removed
 * after it. Call at the top level of a suite; `set` receives the dir and the log path.
 */
export function logDirPerTest(set: (dir: string, path: string) => void): void {
  let cleanup: (() => Promise<void>) | undefined;
  beforeEach(async () => {
    const t = await makeTempDir();
    cleanup = t.cleanup;
    set(t.dir, join(t.dir, 'fail2ban.log'));
  });
  afterEach(async () => {
    stopAllFollowers();
    await cleanup?.();
  });
}

/**
 * Polls `pred` every 10 ms, advancing the followers' clocks between looks; the timeout only bounds
 * a hung test, it is not an assertion on speed.
 */
export async function waitFor(pred: () => boolean, what: string | (() => string), timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    for (const f of followers) f.tick();
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A virtual clock advanced by hand: time moves only when the test says so. */
export class ManualClock {
  readonly scheduler = new VirtualTimeScheduler(undefined, 0);

  now(): number {
    return this.scheduler.now();
  }

  /** Runs everything due within `ms` and leaves the clock `ms` later. */
  advance(ms: number): void {
    const to = this.scheduler.frame + ms;
    this.scheduler.maxFrames = to;
    this.scheduler.flush();
    this.scheduler.frame = to;
  }
}

export interface Follower {
  readonly lines: TailLine[];
  readonly warnings: TailWarning[];
  /** Virtual time of each line and warning (same indexes). */
  readonly lineTimes: number[];
  readonly warningTimes: number[];
  readonly clock: ManualClock;
  error: unknown;
  texts(): string[];
  /** Resolves once `line` has been delivered (a sync point: everything written before it was read). */
  seen(line: string): Promise<void>;
  stop(): void;
  /** One poll interval of virtual time (nothing with `poll: 'never'`). */
  tick(): void;
}

const followers = new Set<Follower>();

export interface FollowOptions extends Partial<TailOptions> {
  path: string;
  /** 'never': the clock stays still, so only watcher events move the tailer. */
  poll?: 'driven' | 'never';
  /** Use this clock instead of the virtual one (e.g. the real one, to see real timers). */
  scheduler?: SchedulerLike;
}

export function follow(opts: FollowOptions): Follower {
  const lines: TailLine[] = [];
  const warnings: TailWarning[] = [];
  const lineTimes: number[] = [];
  const warningTimes: number[] = [];
  const clock = new ManualClock();
  const { poll = 'driven', ...tailOpts } = opts;
  const tailOptions = { startAt: 'beginning' as const, pollIntervalMs: 50, scheduler: clock.scheduler, ...tailOpts };
  const sub = new Subscription();
  const f: Follower = {
    lines,
    warnings,
    lineTimes,
    warningTimes,
    clock,
    error: undefined,
    texts: () => lines.map((l) => l.line),
    seen: (line) =>
      untilSeen(
        f,
        (l) => l.line === line,
        () => `line ${JSON.stringify(line)} (got ${lines.length} lines, last ${JSON.stringify(lines.at(-1)?.line)})`,
      ),
    ...controls(() => f, sub, poll === 'driven' ? tailOptions.pollIntervalMs : 0),
  };
  followers.add(f);
  const onWarning = (w: TailWarning): void => {
    warnings.push(w);
    warningTimes.push(clock.now());
  };
  sub.add(record(tailFile({ ...tailOptions, onWarning }), f));
  return f;
}

/** Resolves once a line matches (or throws the stream's error). */
function untilSeen(f: Follower, match: (l: TailLine) => boolean, what: () => string): Promise<void> {
  return waitFor(() => f.error !== undefined || f.lines.some(match), what).then(() => {
    if (f.error !== undefined) throw f.error;
  });
}

/** stop() and tick() of a follower: a tick advances its clock one poll interval (0: never). */
function controls(f: () => Follower, sub: Subscription, tickMs: number): Pick<Follower, 'stop' | 'tick'> {
  return {
    stop: () => {
      sub.unsubscribe();
      followers.delete(f());
    },
    tick: () => {
      if (tickMs > 0) f().clock.advance(tickMs);
    },
  };
}

/** Subscribes `f` to `lines$`: each line with its clock time, an error kept for seen() to throw. */
function record(lines$: Observable<TailLine>, f: Follower): Subscription {
  return lines$.subscribe({
    next: (l) => {
      f.lines.push(l);
      f.lineTimes.push(f.clock.now());
    },
    error: (e: unknown) => {
      f.error = e;
    },
  });
}

export interface SourcesFollower extends Follower {
  /** (source, path) in the order onSource reported them. */
  readonly sources: Array<[string, string]>;
  /** How many times onCaughtUp was called. */
  caughtUp: number;
  /** Texts of one source's lines, in order. */
  of(source: string): string[];
  /** Resolves once `source` delivered `line`. */
  seenFrom(source: string, line: string): Promise<void>;
}

export interface FollowSourcesOptions extends Partial<TailSourcesOptions> {
  pattern: string;
  /** 'never': the clock stays still, so after the first scan only directory events move the tailers. */
  poll?: 'driven' | 'never';
}

/** tailSources on a virtual clock: each waitFor turn advances it by one poll interval (50 ms; scans every 100 ms). */
export function followSources(opts: FollowSourcesOptions): SourcesFollower {
  const lines: TailLine[] = [];
  const warnings: TailWarning[] = [];
  const lineTimes: number[] = [];
  const warningTimes: number[] = [];
  const sources: Array<[string, string]> = [];
  const clock = new ManualClock();
  const { poll = 'driven', ...rest } = opts;
  const o = { startAt: 'beginning' as const, pollIntervalMs: 50, scanIntervalMs: 100, scheduler: clock.scheduler, ...rest };
  const sub = new Subscription();
  const of = (source: string): string[] => lines.filter((l) => l.source === source).map((l) => l.line);
  const f: SourcesFollower = {
    lines,
    warnings,
    lineTimes,
    warningTimes,
    clock,
    sources,
    caughtUp: 0,
    error: undefined,
    texts: () => lines.map((l) => l.line),
    of,
    seen: (line) => f.seenFrom('', line),
    seenFrom: (source, line) =>
      untilSeen(
        f,
        (l) => l.line === line && (source === '' || l.source === source),
        () => `line ${JSON.stringify(line)} from ${source} (got ${JSON.stringify(of(source))})`,
      ),
    ...controls(() => f, sub, poll === 'driven' ? o.pollIntervalMs : 0),
  };
  followers.add(f);
  sub.add(
    record(
      tailSources({
        ...o,
        onWarning: (w) => {
          warnings.push(w);
          warningTimes.push(clock.now());
          opts.onWarning?.(w);
        },
        onSource: (s, p) => {
          sources.push([s, p]);
          opts.onSource?.(s, p);
        },
        onCaughtUp: () => {
          f.caughtUp++;
          opts.onCaughtUp?.();
        },
      }),
      f,
    ),
  );
  return f;
}

/** For afterEach: unsubscribes whatever a failed test left running. */
export function stopAllFollowers(): void {
  for (const f of [...followers]) f.stop();
}

/** Lines `prefix-from` … `prefix-(to-1)`. */
export function numbered(prefix: string, from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => `${prefix}-${from + i}`);
}

/**
 * A log writer with fail2ban's habits: append mode, one write(2) per batch, and it keeps writing to
 * its descriptor after the file is renamed, until flushlogs() reopens the path (creating it if needed).
 */
export class LogWriter {
  private fd: number;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
  }

  write(...lines: string[]): void {
    if (lines.length) this.raw(lines.map((l) => `${l}\n`).join(''));
  }

  raw(text: string | Buffer): void {
    if (typeof text === 'string') writeSync(this.fd, text);
    else writeSync(this.fd, text);
  }

  flushlogs(): void {
    closeSync(this.fd);
    this.fd = openSync(this.path, 'a');
  }

  close(): void {
    closeSync(this.fd);
  }
}

/**
 * logrotate with `create` (and no compression, like Debian's delaycompress for `.1`): shift `.N` to
 * `.N+1`, rename the log to `.1`, create an empty log.
 */
export function logrotate(path: string, create = true): void {
  let n = 1;
  while (existsSync(`${path}.${n}`)) n++;
  for (let i = n - 1; i >= 1; i--) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
  renameSync(path, `${path}.1`);
  if (create) writeFileSync(path, '', { flag: 'wx', mode: 0o640 });
}
