/**
 * The model side of the sidecar: each input (a parsed event and/or the checkpoint after its
 * line) is applied to the desired-state model at once, together with the model's own deadlines
 * (held unbans, suspensions); the resulting changes are recorded for the next flush and the
 * batching window is told how much is pending. An operator's forget(source) goes the same way, so
 * it is batched, saved and reconciled like any event. Time comes only from the injected scheduler.
 */
import type { SchedulerLike } from 'rxjs';
import type { F2bEvent } from '../parser/types.js';
import type { Checkpoint } from '../core/checkpoint.js';
import { ExpiryTimer } from './expiry.js';
import type { LatencyTracker } from './latency-tracker.js';
import type { PipelineLogger } from './log.js';
import type { DesiredModel, Effects, Note } from './model.js';
import { logNote } from './notes.js';
import { OnceSet } from './once.js';
import type { PendingChanges } from './pending.js';
import { RepeatFilter } from './repeats.js';

export interface PipelineInput {
  event?: F2bEvent;
  /**
   * Who logged `event` (one fail2ban host of a fleet): the glob's source, else the syslog HOST
   * field of a combined file. Undefined or '' = the single log of a one-host setup.
   */
  source?: string;
  /** Checkpoint just after the line that carried `event` (or a line without an event). */
  checkpoint?: Checkpoint;
  /** The followed file `checkpoint` belongs to: its source name in glob mode; undefined = the single log. */
  feed?: string;
  /**
   * The reader's word that every line written before this scheduler time has been delivered
   * before this input (a read pass that began then reached the end of every followed file).
   */
  readThrough?: number;
}

export interface IntakeOptions {
  model: DesiredModel;
  pending: PendingChanges;
  latency: LatencyTracker;
  /** Checkpoint of the loaded state, if any. */
  checkpoint?: Checkpoint;
  /** Per feed (glob mode), the loaded state's checkpoints. */
  checkpoints?: Record<string, Checkpoint>;
  /** Something to save arrived; the argument is the pending difference (flushTriggers' input). */
  onDirty: (pending: number) => void;
  scheduler: SchedulerLike;
  log: PipelineLogger;
  /** Every note, for metrics (refusals per reason, never-block skips per group). */
  onNote?: (note: Note) => void;
  /**
   * Deadlines wait for the reader (a followed log): a held unban or a restore grace is resolved
   * only once the log has been read through its deadline, asked for with this call and answered
   * by an input's `readThrough`. Without it, the scheduler's time alone decides (replay, tests).
   */
  requestRead?: () => void;
}

export class Intake {
  private readonly expiry: ExpiryTimer;
  private last: Checkpoint | undefined;
  /** feed → checkpoint of its last line whose effects are in the model (glob mode). */
  private readonly feeds = new Map<string, Checkpoint>();
  private stopped = false;
  /** Refusals already warned about (address + reason), so a restored one is not warned again. */
  private readonly once = new OnceSet();
  /** Lines of named sources their transport delivered twice (rsyslog after a reconnect). */
  private readonly repeats = new RepeatFilter();
  /**
   * With requestRead: every line written before this time has been applied. Deadlines are judged
   * at this time, not at the clock's: a due timer must not beat a line already written but not
   * read yet (a missed watcher event waits for the next poll, a busy process reads late), or the
   * "Jail stopped" after a jail's stop-Unbans would arrive after they were taken as real.
   */
  private readThrough = -Infinity;
  /** A deadline is due and a read was asked for: the next readThrough that covers it resolves it. */
  private waitingFor: number | undefined;

  constructor(private readonly o: IntakeOptions) {
    this.last = o.checkpoint;
    for (const [feed, c] of Object.entries(o.checkpoints ?? {})) this.feeds.set(feed, c);
    this.expiry = new ExpiryTimer(o.scheduler, () => this.expire());
  }

  /** Checkpoint of the last line of the single log whose effects are in the model: what a snapshot saves. */
  get checkpoint(): Checkpoint | undefined {
    return this.last;
  }

  /** Same per feed (glob mode), as a fresh object for the snapshot; undefined when there is none. */
  get checkpoints(): Record<string, Checkpoint> | undefined {
    return this.feeds.size === 0 ? undefined : Object.fromEntries(this.feeds);
  }

  /** Lines dropped as repeats since start (also each a 'repeat' note through onNote). */
  get repeatsDropped(): number {
    return this.repeats.dropped;
  }

  /**
   * Primes the repeat filter with a line of `source` read before this process started (the lines
   * just before its feed's checkpoint), so a replay arriving across a restart is recognised too.
   * Not applied to the model.
   */
  remember(source: string, event: F2bEvent): void {
    this.repeats.remember(source, event);
  }

  /** Start-up: the loaded state's deadlines. */
  start(): void {
    this.expiry.schedule(this.o.model.nextDeadline());
  }

  push(input: PipelineInput): void {
    if (this.stopped) return;
    const now = this.o.scheduler.now();
    // A due timer may not have run yet (busy event loop): resolve it before the next line.
    this.expiry.runIfDue(this.clock(now));
    let changes = 0;
    // A repeat is dropped; its checkpoint still moves below.
    if (input.event && !this.repeated(input.source, input.event)) {
      const fx = this.o.model.apply(input.event, now, input.source ?? '');
      this.handle(fx);
      changes = fx.changes.length;
      this.o.latency.observe(input.event, fx, now);
    }
    if (input.checkpoint) {
      // '' like undefined: the single log.
      if (input.feed) this.feeds.set(input.feed, input.checkpoint);
      else this.last = input.checkpoint;
    }
    if (changes > 0 || input.checkpoint) this.dirty();
    if (input.readThrough !== undefined) this.readTo(input.readThrough);
  }

  /**
   * Drops every hold of `source` (DesiredModel.forget): what only it held is lifted, through the
   * same pending changes and save as an event. Its feed's checkpoint stays: reading its file again
   * from the start would bring its bans back. Returns the model's effects (none after stop()).
   */
  forget(source: string): Effects & { slots: number } {
    if (this.stopped) return { changes: [], notes: [], slots: 0 };
    const now = this.o.scheduler.now();
    this.expiry.runIfDue(this.clock(now));
    const fx = this.o.model.forget(source, now);
    this.repeats.forget(source);
    this.handle(fx);
    // The state changed even when no group did (every address also held by another source).
    this.dirty();
    return fx;
  }

  /** Inputs after this are ignored and no deadline fires. */
  stop(): void {
    this.stopped = true;
    this.expiry.stop();
  }

  /** True for a line its transport delivered again: noted (info once per run), not applied. */
  private repeated(source: string | undefined, event: F2bEvent): boolean {
    const run = this.repeats.check(source, event);
    if (run === 0) return false;
    const n: Note = { kind: 'repeat', source: source ?? '', line: event.raw, run };
    logNote(this.o.log, n);
    this.o.onNote?.(n);
    return true;
  }

  /** The time deadlines are judged at: the clock's, or with a reader, how far it has read. */
  private clock(now: number): number {
    return this.o.requestRead ? Math.min(now, this.readThrough) : now;
  }

  private readTo(at: number): void {
    if (at <= this.readThrough) return;
    this.readThrough = at;
    if (this.waitingFor !== undefined && this.waitingFor <= at) this.expire();
  }

  private expire(): void {
    const now = this.o.scheduler.now();
    this.waitingFor = undefined;
    const fx = this.o.model.expire(this.clock(now));
    this.handle(fx);
    if (fx.next !== undefined && fx.next <= now && this.o.requestRead) {
      // Due, but the log has not been read that far: read it first (the answer calls readTo).
      this.waitingFor = fx.next;
      this.o.requestRead();
    } else this.expiry.schedule(fx.next);
    // A resolved hold with no group change (another source still holds the address) still changed
    // the model: saved, and the status (bans per source) shows it.
    if (fx.changes.length || fx.notes.length) this.dirty();
  }

  private handle(fx: Effects): void {
    const { pending, latency, log } = this.o;
    for (const c of fx.changes) {
      pending.record(c);
      if (c.op !== 'add') latency.cancelled(c.key, c.address);
      log.debug({ group: c.key, address: c.address, op: c.op }, 'desired change');
    }
    for (const n of fx.notes) {
      logNote(log, n, this.once);
      this.o.onNote?.(n);
    }
    this.expiry.schedule(fx.deadline);
  }

  private dirty(): void {
    this.o.pending.touch();
    this.o.onDirty(this.o.pending.size);
  }
}
