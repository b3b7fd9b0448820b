/**
 * Many logs, one stream (issue 13): every file matching a path pattern is a source, followed by its
 * own tailFile (so each keeps today's rotation and resume guarantees), and every line carries its
 * source. The directories are scanned again on the scheduler, so a host that starts logging is
 * followed within one scan interval, from its first line.
 *
 *   - Files present at the first scan resume from their source's checkpoint, else start at
 *     `startAt`; a file appearing later is read from its beginning whatever `startAt` says (its
 *     first lines are what its host logged since it started, not history to skip).
 *   - A source's checkpoint path is followed from the start even when its file is missing (rotated
 *     while the sidecar was down: tailFile finds the rest in `PATH.1`), and it keeps the name.
 *   - A followed source is never dropped: when its file disappears its tailer waits for it again.
 *   - One source failing (permission denied) does not stop the others: it is warned about and
 *     retried from its last checkpoint at each scan.
 *   - Idle cost: every tailer shares one poll timer and its directory's one watcher (dir-watch.ts);
 *     bench/tail-sources.ts measures 100 idle sources.
 */
import { basename, dirname } from 'node:path';

import { Observable, asyncScheduler, interval, merge, share, type SchedulerLike, type Subscriber, type Subscription } from 'rxjs';

import type { Checkpoint } from '../core/checkpoint.js';
import { dirEvents, fileEvents } from './dir-watch.js';
import { errnoCode } from './errors.js';
import { matchPath, parseLogPattern, type LogPattern } from './pattern.js';
import { selectSources } from './select.js';
import { tailFile, type TailOptions, type TailWarning } from './tailer.js';
import type { TailLine } from './types.js';
import { walkPattern } from './walk.js';

export interface TailSourcesOptions extends Pick<TailOptions, 'rotationGraceMs' | 'maxLineBytes' | 'pollIntervalMs' | 'watch'> {
  /** Absolute path with `*` in some segments (see pattern.ts); throws PatternError when invalid. */
  pattern: string;
  /** Per source, where to resume (from the state). */
  checkpoints?: ReadonlyMap<string, Checkpoint>;
  /** For files present at the first scan without a checkpoint only. */
  startAt: 'end' | 'beginning';
  /** Directories are scanned again this often (default 5 s: a new file is followed within 10 s). */
  scanIntervalMs?: number;
  scheduler?: SchedulerLike;
  /** A source is followed for the first time (status lists them). */
  onSource?: (source: string, path: string) => void;
  /** Once: every file present at the first scan has been read to its end once (right after the first scan if there is none). */
  onCaughtUp?: () => void;
  /** Once per source: its file has been read to its end once. */
  onSourceCaughtUp?: (source: string) => void;
  onWarning?: (w: TailWarning) => void;
  /** Each emission: every followed file is read at once (tailFile readNow). */
  readNow?: Observable<unknown>;
  /**
   * Every line written to any followed file before this scheduler time has been emitted: the
   * oldest of the followed files' latest drained passes (tailFile onDrained). A source whose
   * tailer failed has nothing to read and does not hold the others back.
   */
  onDrained?: (began: number) => void;
}

export function tailSources(opts: TailSourcesOptions): Observable<TailLine> {
  const pattern = parseLogPattern(opts.pattern);
  const scanIntervalMs = opts.scanIntervalMs ?? 5000;
  if (!(scanIntervalMs > 0)) throw new RangeError('scanIntervalMs must be positive');
  return new Observable<TailLine>((subscriber) => {
    const s = new Sources(pattern, { ...opts, scanIntervalMs, scheduler: opts.scheduler ?? asyncScheduler }, subscriber);
    s.start();
    return () => s.stop();
  });
}

interface Followed {
  path: string;
  sub: Subscription | null;
  /** Where to restart after a failure: the last line delivered, else the beginning (see restart). */
  checkpoint: Checkpoint | undefined;
  startAt: 'end' | 'beginning';
  lastError?: string;
}

/** tailFile's default poll interval (the backstop for missed watcher events). */
const DEFAULT_POLL_MS = 5000;

type Settings = TailSourcesOptions & { scanIntervalMs: number; scheduler: SchedulerLike };

class Sources {
  private readonly followed = new Map<string, Followed>();
  private readonly paths = new Set<string>();
  private readonly warned = new Set<string>();
  /** First-scan files not read to their end yet; null until the first scan is over. */
  private pending: Set<string> | null = null;
  private readonly firstPending = new Set<string>();
  /** Sources read to their end once (also those done before the first scan was over). */
  private readonly caughtUpSources = new Set<string>();
  private caughtUp = false;
  /** Per source, when its latest pass that left nothing unread began. */
  private readonly drainedAt = new Map<string, number>();
  private drainedReported = -Infinity;
  private readNowSub: Subscription | undefined;
  private scanned = false;
  private scanning = false;
  private closed = false;
  private timer: Subscription | undefined;
  /**
   * One poll timer for every file's tailer: 100 timers of their own woke the process 20 times a
   * second at the default 5 s (thread-pool round trips each time); one shared timer wakes it once.
   */
  private readonly pollTicks: Observable<number>;
  /** One directory watcher per directory holding followed files (see dir-watch.ts). */
  private readonly dirs = new Map<string, Observable<string>>();

  constructor(
    private readonly pattern: LogPattern,
    private readonly o: Settings,
    private readonly out: Subscriber<TailLine>,
  ) {
    this.pollTicks = interval(o.pollIntervalMs ?? DEFAULT_POLL_MS, o.scheduler).pipe(share());
  }

  start(): void {
    this.timer = interval(this.o.scanIntervalMs, this.o.scheduler).subscribe(() => this.kick());
    // With no file being followed there is nothing to read: asked, it answers at once.
    this.readNowSub = this.o.readNow?.subscribe(() => this.checkDrained(this.o.scheduler.now()));
    this.kick();
  }

  stop(): void {
    this.closed = true;
    this.timer?.unsubscribe();
    this.readNowSub?.unsubscribe();
    for (const f of this.followed.values()) f.sub?.unsubscribe();
  }

  private kick(): void {
    if (this.closed || this.scanning) return;
    this.scanning = true;
    this.scan()
      .catch((err: unknown) => this.warnOnce('SCAN_ERROR', 'scan', { message: `scanning ${this.pattern.text} failed: ${String(err)}` }))
      .finally(() => {
        this.scanning = false;
      });
  }

  private async scan(): Promise<void> {
    const first = !this.scanned;
    const { files, errors } = await walkPattern(this.pattern, (p) => !first && this.paths.has(p));
    if (this.closed) return;
    for (const { dir, error } of errors) {
      this.warnOnce('SCAN_ERROR', `${dir}:${String(errnoCode(error))}`, {
        path: dir,
        message: `cannot read directory ${dir}: ${String(error)}`,
      });
    }
    if (first) this.followCheckpoints(new Set(files));
    const followedPaths = new Map([...this.followed].map(([source, f]) => [source, f.path]));
    const sel = selectSources(this.pattern, files, followedPaths);
    for (const d of sel.duplicates)
      this.warnOnce('DUPLICATE_SOURCE', d.path, {
        path: d.path,
        source: d.source,
        message: `${d.path} would be source "${d.source}" too, which ${d.kept} already is: not followed (rename one of them)`,
      });
    for (const x of sel.invalid)
      this.warnOnce('INVALID_SOURCE_NAME', x.path, {
        path: x.path,
        message: `${x.path}: ${JSON.stringify(x.name)} is not a valid source name (no whitespace): not followed`,
      });
    for (const { source, path } of sel.add) {
      if (first) this.firstPending.add(source);
      this.follow(source, path, this.o.checkpoints?.get(source), first ? this.o.startAt : 'beginning');
    }
    for (const [source, f] of this.followed) if (!f.sub) this.restart(source, f);
    if (first) {
      this.scanned = true;
      this.pending = new Set([...this.firstPending].filter((s) => !this.caughtUpSources.has(s)));
      this.checkCaughtUp();
      // With nothing to follow, a read asked for before this scan was over is answered now.
      this.checkDrained(this.o.scheduler.now());
    }
  }

  /** Sources whose checkpoint names a path of the pattern keep it (stable across restarts), present or not. */
  private followCheckpoints(present: Set<string>): void {
    for (const [source, cp] of this.o.checkpoints ?? []) {
      if (matchPath(this.pattern, cp.path)?.[0] !== source) continue;
      if (present.has(cp.path)) this.firstPending.add(source);
      this.follow(source, cp.path, cp, this.o.startAt);
    }
  }

  private follow(source: string, path: string, checkpoint: Checkpoint | undefined, startAt: 'end' | 'beginning'): void {
    const f: Followed = { path, sub: null, checkpoint, startAt };
    this.followed.set(source, f);
    this.paths.add(path);
    try {
      this.o.onSource?.(source, path);
    } catch {
      // A faulty sink must not stop the logs from being followed.
    }
    this.restart(source, f);
  }

  private restart(source: string, f: Followed): void {
    const { o } = this;
    const opts: TailOptions = {
      path: f.path,
      startAt: f.startAt,
      waitForFile: true,
      scheduler: o.scheduler,
      pollTicks: this.ticksFor(f.path),
      watch: false,
      onWarning: (w) => this.warn({ ...w, source }),
      onCaughtUp: () => this.sourceCaughtUp(source),
      onDrained: (began) => {
        this.drainedAt.set(source, began);
        this.checkDrained();
      },
    };
    if (o.readNow) opts.readNow = o.readNow;
    if (f.checkpoint) opts.checkpoint = f.checkpoint;
    for (const k of ['rotationGraceMs', 'maxLineBytes', 'pollIntervalMs'] as const)
      if (o[k] !== undefined) Object.assign(opts, { [k]: o[k] });
    f.sub = tailFile(opts).subscribe({
      next: (l) => {
        f.checkpoint = l.checkpoint;
        f.lastError = undefined;
        this.out.next({ ...l, source });
      },
      error: (err: unknown) => {
        f.sub = null;
        // Retried from the last line delivered; with none, from the beginning: lines written while
        // it failed (permission denied until fixed) must not be skipped by a second `startAt: end`.
        f.startAt = 'beginning';
        const message = err instanceof Error ? err.message : String(err);
        if (f.lastError !== message)
          this.warn({ code: 'SOURCE_FAILED', path: f.path, source, message: `${message}; retrying at the next scan` });
        f.lastError = message;
        this.checkDrained();
      },
    });
  }

  /**
   * Reports how far every followed file has been read: the oldest latest pass among the running
   * tailers (a failed one has nothing to read); `idle` is the time to report when none runs.
   */
  private checkDrained(idle?: number): void {
    let at = Infinity;
    for (const [source, f] of this.followed) {
      if (!f.sub) continue;
      const d = this.drainedAt.get(source);
      if (d === undefined) return;
      at = Math.min(at, d);
    }
    if (at === Infinity) {
      if (idle === undefined || !this.scanned) return;
      at = idle;
    }
    if (at <= this.drainedReported) return;
    this.drainedReported = at;
    try {
      this.o.onDrained?.(at);
    } catch {
      // As for warnings.
    }
  }

  /** The shared poll, and unless `watch: false` the events of the file's directory touching its name. */
  private ticksFor(path: string): Observable<unknown> {
    if (this.o.watch === false) return this.pollTicks;
    const dir = dirname(path);
    let events = this.dirs.get(dir);
    if (!events) {
      events = dirEvents(dir, (err) =>
        this.warn({ code: 'WATCH_ERROR', path: dir, message: `watcher on ${dir} failed: ${String(err)}; polling continues` }),
      );
      this.dirs.set(dir, events);
    }
    return merge(this.pollTicks, fileEvents(events, basename(path)));
  }

  private sourceCaughtUp(source: string): void {
    // A tailer restarted after a failure reports again: once per source is enough.
    if (this.caughtUpSources.has(source)) return;
    this.caughtUpSources.add(source);
    try {
      this.o.onSourceCaughtUp?.(source);
    } catch {
      // As for warnings.
    }
    this.pending?.delete(source);
    this.checkCaughtUp();
  }

  private checkCaughtUp(): void {
    if (this.caughtUp || !this.pending || this.pending.size > 0) return;
    this.caughtUp = true;
    try {
      this.o.onCaughtUp?.();
    } catch {
      // As for warnings.
    }
  }

  private warnOnce(code: TailWarning['code'], key: string, w: Omit<TailWarning, 'code' | 'path'> & { path?: string }): void {
    const k = `${code}\0${key}`;
    if (this.warned.has(k)) return;
    this.warned.add(k);
    this.warn({ path: this.pattern.text, ...w, code });
  }

  private warn(w: TailWarning): void {
    try {
      this.o.onWarning?.(w);
    } catch {
      // A faulty warning sink must not stop the logs from being followed.
    }
  }
}
