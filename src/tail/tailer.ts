/**
 * `tail -F` for fail2ban's log, as an Observable of complete lines with checkpoints.
 *
 * Follows the PATH: the directory's fs.watch events (dir-watch.ts) and a stat poll (events can be
 * missed or coalesced; the poll guarantees progress) both just trigger one serialized "step":
 *
 *   1. stat the path and compare with the open file:
 *      - another file, or none  → rotation: the open file is retired (kept open, drained for
 *        rotationGraceMs, because fail2ban writes into it until `flushlogs`), the new one is read
 *        from offset 0;
 *      - same inode but shorter than our position or with different first bytes → copytruncate:
 *        read it again from 0 (what was appended between our last read and the copy exists only in
 *        the copy: lost by nature of copytruncate, which Debian does not use);
 *   2. drain retired files to their end, read the current file, drain retired files AGAIN, then emit
 *      retired lines before current lines. For one writer that switches files (fail2ban), every byte
 *      it wrote to the old file before its first write to the new one is then delivered first: the
 *      global order of lines is the writing order, not just the order within each file.
 *   3. close retired files whose grace is over. Their unterminated last fragment, if any, is emitted
 *      as a line (nothing can ever complete it) with an UNTERMINATED_FRAGMENT warning. Anywhere else
 *      an unterminated tail is held back until its newline arrives.
 *
 * While the descriptor is open its inode cannot be reused, so (dev, ino) equality with the open file
 * is reliable; the head hash matters for checkpoints taken in an earlier run (see identity.ts).
 *
 * Known limits, by nature rather than by choice:
 * - a file rotated away before the tailer ever opened it (two rotations within one poll interval
 *   and no watcher event in between) cannot be followed — same as `tail -F`;
 * - lines written to a retired file after its grace period are not read (fail2ban stops writing to
 *   it at `flushlogs`, which logrotate's postrotate runs right after the rename);
 * - a directory that cannot be watched (missing, no inotify) leaves the poll alone: lines then
 *   wait up to pollIntervalMs to be seen;
 * - if some writer kept writing to the old file after writing to the new one, an old-file line can
 *   come after new-file lines; resuming from its checkpoint re-reads the new file from 0
 *   (duplicates, never loss).
 */
import { open, stat } from 'node:fs/promises';
import type { FSWatcher, Stats } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

import { asyncScheduler, EMPTY, interval, merge, Observable, type SchedulerLike, type Subscriber, type Subscription } from 'rxjs';

import { FileCursor } from './cursor.js';
import { watchDirectory } from './dir-watch.js';
import { NOT_REGULAR, isNotFound, tailError } from './errors.js';
import { isTruncated, type SplitLine } from './lines.js';
import { continuedChain, newerGenerations, rotatedSiblings, type Sibling } from './siblings.js';
import type { Checkpoint } from '../core/checkpoint.js';
import type { TailLine } from './types.js';

export { TailError } from './errors.js';

export interface TailOptions {
  path: string;
  /** Resume point; when absent, startAt decides. */
  checkpoint?: Checkpoint;
  startAt: 'end' | 'beginning';
  /**
   * Missing file at start: wait for it to appear (default true); false → TailError ENOENT.
   * Only start-up is concerned: a file that disappears later is a rotation in progress.
   */
  waitForFile?: boolean;
  /** Keep draining the old (renamed or deleted) file this long after the path stopped naming it. */
  rotationGraceMs?: number;
  /** Longer lines are cut to this many bytes (minus a UTF-8 sequence cut in half). */
  maxLineBytes?: number;
  /** Stat poll in addition to the watcher events. */
  pollIntervalMs?: number;
  /**
   * Replaces the tailer's own poll timer: each emission is one poll. tailSources hands every file's
   * tailer the same shared timer, so 100 sources wake the process once per interval, not 100 times.
   */
  pollTicks?: Observable<unknown>;
  /** Each emission is one extra poll, at once: a reader asked to read through now (onDrained). */
  readNow?: Observable<unknown>;
  /** Watch the directory (fs.watch, default true); false: the poll alone (e.g. a file system without inotify). */
  watch?: boolean;
  /**
   * Time for the poll and the grace periods (default: the real clock). The tailer reads no clock
   * of its own, so tests drive the poll with a virtual one.
   */
  scheduler?: SchedulerLike;
  onWarning?: (w: TailWarning) => void;
  /**
   * Called once, the first time the file at the path (and every rotated file queued before it at
   * start) has been read to its end: until then, what the log says is not known yet (a missing or
   * unreadable log never gets there).
   */
  onCaughtUp?: () => void;
  /**
   * Called after every read pass that left nothing unread (the file at its end, retired files
   * drained, or no file at the path), with the scheduler time at which that pass began: every
   * line written before then has been emitted. The pipeline judges deadlines by it.
   */
  onDrained?: (began: number) => void;
}

export type TailWarningCode =
  /** The path does not exist; waiting for it (once per absence). */
  | 'FILE_MISSING'
  /** The path names another file, or none: the old file is drained during the grace period. */
  | 'ROTATED'
  /** The same file got shorter or its first bytes changed: read again from offset 0. */
  | 'COPYTRUNCATE'
  /** A line longer than maxLineBytes was cut. */
  | 'LINE_TRUNCATED'
  /** A retired file was closed with an unterminated last line; it was emitted as it is. */
  | 'UNTERMINATED_FRAGMENT'
  /** The checkpoint's file was found under a rotated name; its remainder is delivered first. */
  | 'CHECKPOINT_ROTATED'
  /** The checkpoint's file is gone: the current file is read from its beginning. */
  | 'CHECKPOINT_NOT_FOUND'
  /** The directory watcher failed; the stat poll keeps the tailer going. */
  | 'WATCH_ERROR'
  // Glob mode (sources.ts):
  /** Another file already names this source: it is not followed (never merged). */
  | 'DUPLICATE_SOURCE'
  /** A matching file whose first `*` matched no valid source name (whitespace): not followed. */
  | 'INVALID_SOURCE_NAME'
  /** A directory of the pattern could not be read (other than missing); scanning goes on. */
  | 'SCAN_ERROR'
  /** One source's tailer failed (e.g. permission denied); retried from its last checkpoint at each scan. */
  | 'SOURCE_FAILED';

export interface TailWarning {
  code: TailWarningCode;
  path: string;
  message: string;
  /** Identity and offset of the file concerned, when there is one. */
  dev?: number;
  ino?: number;
  offset?: number;
  /** Glob mode: the source concerned. */
  source?: string;
}

// pollIntervalMs: a backstop for missed watcher events; each poll costs ~1.5 ms of CPU, so 1 s
// was most of the idle sidecar's CPU (bench/idle.ts: 0.22 % at 1 s, 0.07 % at 5 s; issue 15).
const DEFAULTS = {
  waitForFile: true,
  rotationGraceMs: 30_000,
  maxLineBytes: 65_536,
  pollIntervalMs: 5000,
  watch: true,
  scheduler: asyncScheduler as SchedulerLike,
};
/** Bytes read from one file before other files get their turn (bounds memory on a big backlog). */
const BATCH_BYTES = 1024 * 1024;
/**
 * After a step that delivered lines, one more look this much later: the rest of a burst written
 * while we read must not depend on a watcher event alone (a watcher can miss one, or be missing)
 * to be seen before the next poll (5 s). One stat when nothing came; nothing at all while idle.
 */
const SETTLE_MS = 50;

type Optional = 'checkpoint' | 'onWarning' | 'onCaughtUp' | 'pollTicks' | 'readNow' | 'onDrained';
type Settings = Required<Omit<TailOptions, Optional>> & Pick<TailOptions, Optional>;

export function tailFile(opts: TailOptions): Observable<TailLine> {
  const settings: Settings = {
    ...DEFAULTS,
    ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)),
    path: resolve(opts.path),
  } as Settings;
  if (!(settings.maxLineBytes >= 1)) throw new RangeError('maxLineBytes must be at least 1');
  if (!(settings.pollIntervalMs > 0)) throw new RangeError('pollIntervalMs must be positive');
  return new Observable<TailLine>((subscriber) => {
    const tail = new Tail(settings, subscriber);
    tail.start();
    return () => tail.stop();
  });
}

interface Retired {
  cursor: FileCursor;
  closeAt: number;
}

class Tail {
  private cur: FileCursor | null = null;
  private retired: Retired[] = [];
  private initialised = false;
  private closed = false;
  private running = false;
  private again = false;
  private missingWarned = false;
  private caughtUp = false;
  /** The path's stat at the previous step, when it named the open file (see checkPath). */
  private lastStat: { size: number; mtimeMs: number; ctimeMs: number } | undefined;
  private watcher: FSWatcher | undefined;
  private poll: Subscription | undefined;
  private settle: Subscription | undefined;
  /** The last watcher failure warned about (said once, retried at every step). */
  private watchError: string | undefined;
  private readonly dir: string;
  private readonly base: string;

  constructor(
    private readonly o: Settings,
    private readonly subscriber: Subscriber<TailLine>,
  ) {
    this.dir = dirname(o.path);
    this.base = basename(o.path);
  }

  start(): void {
    const ticks = this.o.pollTicks ?? interval(this.o.pollIntervalMs, this.o.scheduler);
    this.poll = merge(ticks, this.o.readNow ?? EMPTY).subscribe(() => this.kick());
    this.ensureWatch();
    this.kick();
  }

  /** Watches the directory unless it already is (or may not be): tried again at every step. */
  private ensureWatch(): void {
    if (!this.o.watch || this.watcher || this.closed) return;
    this.watcher = watchDirectory(
      this.dir,
      (name) => {
        if (name === null || name.startsWith(this.base)) this.kick();
      },
      (err) => {
        this.watcher = undefined;
        const message = `watcher on ${this.dir} failed: ${String(err)}; polling continues`;
        // A missing directory is the missing file's warning; anything else is said once.
        if (isNotFound(err) || message === this.watchError) return;
        this.watchError = message;
        this.warn({ code: 'WATCH_ERROR', message });
      },
    );
  }

  stop(): void {
    this.closed = true;
    this.poll?.unsubscribe();
    this.settle?.unsubscribe();
    this.poll = undefined;
    this.watcher?.close();
    this.watcher = undefined;
    if (!this.running) void this.dispose();
  }

  private kick(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.step();
      } while (this.again && !this.closed);
    } catch (err) {
      if (!this.closed) {
        const e = tailError(this.o.path, err);
        this.stop();
        this.subscriber.error(e);
      }
    } finally {
      this.running = false;
      if (this.closed) await this.dispose();
    }
  }

  private async dispose(): Promise<void> {
    const cursors = [...(this.cur ? [this.cur] : []), ...this.retired.map((r) => r.cursor)];
    this.cur = null;
    this.retired = [];
    await Promise.all(cursors.map((c) => c.close().catch(() => undefined)));
  }

  private async step(): Promise<void> {
    // Before the stat: whatever was written before this moment is read by this step.
    const began = this.o.scheduler.now();
    this.ensureWatch();
    if (!this.initialised) {
      await this.init();
      this.initialised = true;
    } else if (await this.checkPath()) {
      this.reportDrained(began);
      return;
    }
    if (!(await this.drainRetired())) return;
    let atEnd = true;
    if (this.cur) {
      const current = this.cur;
      const batch = await current.readBatch(BATCH_BYTES);
      if (!(await this.drainRetired())) return;
      if (!this.emit(current, batch.lines)) return;
      atEnd = !batch.more;
      if (batch.lines.length > 0) this.lookAgainSoon();
      if (batch.more) this.again = true;
      else this.reportCaughtUp();
    }
    await this.closeExpired();
    if (atEnd && !this.closed) this.reportDrained(began);
  }

  private async init(): Promise<void> {
    const cp = this.o.checkpoint;
    const st = await this.statPath();
    if (!st) {
      if (!this.o.waitForFile) throw tailError(this.o.path, Object.assign(new Error('missing'), { code: 'ENOENT' }));
      this.warnMissing();
    }
    const current = st ? await this.openPath() : null;
    if (!cp) {
      if (current && this.o.startAt === 'end') await current.seekEnd();
      else if (current) await this.queueWhole(await continuedChain(this.o.path, await rotatedSiblings(this.dir, this.base)));
      this.cur = current;
      return;
    }
    if (current && (await current.matches(cp))) {
      await current.seek(cp.offset);
      this.cur = current;
      return;
    }
    // Whatever is at the path now was written after the checkpoint's file was rotated: read it whole.
    this.cur = current;
    const truncated = current !== null && current.dev === cp.dev && current.ino === cp.ino;
    const siblings = await rotatedSiblings(this.dir, this.base);
    const found = await this.findCheckpointFile(cp, siblings);
    if (found) {
      await found.cursor.seek(cp.offset);
      this.queue(found.cursor);
      const newer = newerGenerations(siblings, found.sibling.generation);
      await this.queueWhole(newer);
      this.warn({
        code: 'CHECKPOINT_ROTATED',
        message: `the checkpoint's file was ${found.copy ? 'copied to' : 'renamed to'} ${found.sibling.file}${truncated ? ` and ${this.o.path} truncated` : ''}: resuming there at offset ${cp.offset}, then ${[...newer, this.o.path].join(', ')} from the beginning`,
        dev: cp.dev,
        ino: cp.ino,
        offset: cp.offset,
      });
      return;
    }
    const gone = truncated ? `was truncated and no rotated file continues it` : `is gone`;
    const packed = siblings.some((x) => x.compressed) ? ' (compressed rotated files are not read: the rest of it may be in one)' : '';
    this.warn({
      code: 'CHECKPOINT_NOT_FOUND',
      message: `the checkpoint's file (dev ${cp.dev}, inode ${cp.ino}, offset ${cp.offset}) ${gone}${packed}; reading ${this.o.path} from its beginning`,
      dev: cp.dev,
      ino: cp.ino,
      offset: cp.offset,
    });
  }

  /** Read before the current file, in the order queued (closed once drained and the grace is over). */
  private queue(cursor: FileCursor): void {
    this.retired.push({ cursor, closeAt: this.o.scheduler.now() + this.o.rotationGraceMs });
  }

  private async queueWhole(files: string[]): Promise<void> {
    for (const file of files) {
      const cursor = await this.openFile(file, false);
      if (cursor) this.queue(cursor);
    }
  }

  /**
   * Compares the path with the open file (rotation, copytruncate). True when nothing can have
   * changed since the previous step: same file, size = our position, same mtime and ctime as the
   * stat before our last read, nothing retired, already caught up. Then the step stops at this one
   * stat instead of reading the head and the end of the file again: an idle poll was three
   * syscalls, which with 100 followed files (glob mode) was most of the idle CPU. A change made
   * after that stat moves the mtime, so it is only ever deferred to the next step, never missed.
   */
  private async checkPath(): Promise<boolean> {
    const st = await this.statPath();
    const cur = this.cur;
    const last = this.lastStat;
    this.lastStat =
      st && cur && st.dev === cur.dev && st.ino === cur.ino ? { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs } : undefined;
    if (!st) {
      if (cur) this.retire(cur, `${this.o.path} disappeared`);
      else this.warnMissing();
      return false;
    }
    this.missingWarned = false;
    if (
      last &&
      cur &&
      this.caughtUp &&
      this.retired.length === 0 &&
      st.dev === cur.dev &&
      st.ino === cur.ino &&
      st.size === cur.offset &&
      st.mtimeMs === last.mtimeMs &&
      st.ctimeMs === last.ctimeMs &&
      st.size === last.size
    )
      return true;
    if (cur && st.dev === cur.dev && st.ino === cur.ino) {
      if (st.size < cur.offset || !(await cur.headUnchanged())) {
        this.warn({
          code: 'COPYTRUNCATE',
          message: `${this.o.path} was truncated in place (size ${st.size} < offset ${cur.offset} or first bytes changed); reading it again from the beginning`,
          dev: cur.dev,
          ino: cur.ino,
          offset: cur.offset,
        });
        await cur.seek(0);
      }
      return false;
    }
    if (cur) this.retire(cur, `${this.o.path} now names another file`);
    // A retired file renamed back to the path is resumed, not read twice.
    const back = this.retired.findIndex((r) => r.cursor.dev === st.dev && r.cursor.ino === st.ino);
    if (back !== -1) {
      this.cur = (this.retired.splice(back, 1)[0] as Retired).cursor;
      return false;
    }
    this.cur = await this.openPath();
    return false;
  }

  private retire(cursor: FileCursor, why: string): void {
    this.cur = null;
    this.retired.push({ cursor, closeAt: this.o.scheduler.now() + this.o.rotationGraceMs });
    this.warn({
      code: 'ROTATED',
      message: `${why}; draining the old file (dev ${cursor.dev}, inode ${cursor.ino}) for ${this.o.rotationGraceMs} ms`,
      dev: cursor.dev,
      ino: cursor.ino,
      offset: cursor.offset,
    });
  }

  /** Reads every retired file to its current end, emitting as it goes. False once unsubscribed. */
  private async drainRetired(): Promise<boolean> {
    for (const r of this.retired) {
      for (;;) {
        const batch = await r.cursor.readBatch(BATCH_BYTES);
        if (!this.emit(r.cursor, batch.lines)) return false;
        if (!batch.more) break;
      }
    }
    return !this.closed;
  }

  private async closeExpired(): Promise<void> {
    const now = this.o.scheduler.now();
    const expired = this.retired.filter((r) => r.closeAt <= now);
    if (expired.length === 0) return;
    if (!(await this.drainRetired())) return;
    for (const r of expired) {
      const fragment = r.cursor.flush();
      if (fragment) {
        this.warn({
          code: 'UNTERMINATED_FRAGMENT',
          message: `old file (dev ${r.cursor.dev}, inode ${r.cursor.ino}) ended without a newline; its unterminated last line was emitted as it is`,
          dev: r.cursor.dev,
          ino: r.cursor.ino,
          offset: fragment.end,
        });
        if (!this.emit(r.cursor, [fragment])) return;
      }
      this.retired.splice(this.retired.indexOf(r), 1);
      await r.cursor.close();
    }
  }

  private emit(cursor: FileCursor, lines: SplitLine[]): boolean {
    for (const l of lines) {
      if (this.closed) return false;
      if (l.originalBytes !== undefined) {
        this.warn({
          code: 'LINE_TRUNCATED',
          message: `a line of ${l.originalBytes} bytes was cut to ${this.o.maxLineBytes} bytes`,
          dev: cursor.dev,
          ino: cursor.ino,
          offset: l.end,
        });
      }
      const tl: TailLine = { line: l.text, checkpoint: cursor.checkpoint(l.end) };
      if (isTruncated(l)) tl.truncated = true;
      this.subscriber.next(tl);
    }
    return !this.closed;
  }

  /** Stats the path; null when it does not exist, TailError for anything that is not a regular file. */
  private async statPath(): Promise<Stats | null> {
    try {
      const st = await stat(this.o.path);
      if (st.isDirectory()) throw tailError(this.o.path, null, 'EISDIR');
      if (!st.isFile()) throw tailError(this.o.path, null, NOT_REGULAR);
      return st;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw tailError(this.o.path, err);
    }
  }

  /** Opens whatever the path names now, positioned at 0; null if it vanished in between. */
  private async openPath(): Promise<FileCursor | null> {
    return this.openFile(this.o.path, true);
  }

  private async openFile(file: string, strict: boolean): Promise<FileCursor | null> {
    let fh;
    try {
      fh = await open(file, 'r');
    } catch (err) {
      if (isNotFound(err) || !strict) return null;
      throw tailError(file, err);
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw tailError(file, null, st.isDirectory() ? 'EISDIR' : NOT_REGULAR);
      return new FileCursor(fh, st.dev, st.ino, this.o.path, this.o.maxLineBytes);
    } catch (err) {
      await fh.close().catch(() => undefined);
      if (!strict) return null;
      throw tailError(file, err);
    }
  }

  /**
   * The uncompressed sibling holding the checkpoint's bytes: its own inode renamed (`PATH.1` after a
   * rename rotation), else a copy that starts with the same bytes and reaches the offset (the `.1`
   * of copytruncate). A sibling that does neither is foreign and never read.
   */
  private async findCheckpointFile(
    cp: Checkpoint,
    siblings: Sibling[],
  ): Promise<{ cursor: FileCursor; sibling: Sibling; copy: boolean } | null> {
    const readable = siblings.filter((x) => !x.compressed);
    for (const copy of [false, true]) {
      for (const sibling of readable) {
        const st = await stat(sibling.file).catch(() => null);
        if (!st || !st.isFile() || (!copy && (st.dev !== cp.dev || st.ino !== cp.ino))) continue;
        const cursor = await this.openFile(sibling.file, false);
        if (!cursor) continue;
        if (copy ? await cursor.continues(cp) : await cursor.matches(cp)) return { cursor, sibling, copy };
        await cursor.close();
      }
    }
    return null;
  }

  private reportCaughtUp(): void {
    if (this.caughtUp) return;
    this.caughtUp = true;
    try {
      this.o.onCaughtUp?.();
    } catch {
      // As for warnings: a faulty sink must not stop the log from being followed.
    }
  }

  private lookAgainSoon(): void {
    if (this.settle || this.closed) return;
    this.settle = this.o.scheduler.schedule(() => {
      this.settle = undefined;
      this.kick();
    }, SETTLE_MS);
  }

  private reportDrained(began: number): void {
    try {
      this.o.onDrained?.(began);
    } catch {
      // As for warnings.
    }
  }

  private warnMissing(): void {
    if (this.missingWarned) return;
    this.missingWarned = true;
    this.warn({ code: 'FILE_MISSING', message: `${this.o.path} does not exist; waiting for it to appear` });
  }

  private warn(w: Omit<TailWarning, 'path'>): void {
    try {
      this.o.onWarning?.({ path: this.o.path, ...w });
    } catch {
      // A faulty warning sink must not stop the log from being followed.
    }
  }
}
