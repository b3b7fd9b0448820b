/**
 * Ban-to-block latency as the sidecar sees it: which Ban lines start a measurement (live ones,
 * with a usable time stamp), which changes end or cancel one, and the notice handed to the
 * `onApplied` hook for every firewall acknowledgement. The bookkeeping itself is BanLatency
 * (latency.ts); this adds the policy, the one-time zone warning and the hook's isolation.
 */
import type { F2bEvent } from '../parser/types.js';
import { BanLatency } from './latency.js';
import { errorInfo, iso, type PipelineLogger } from './log.js';
import type { Effects } from './model.js';
import type { AppliedChange } from './reconciler.js';

export interface AppliedNotice extends AppliedChange {
  /**
   * Adds only: for each address whose Ban line was seen live (see ./latency.ts), the seconds from
   * that line's time stamp to this acknowledgement.
   */
  banToBlockSeconds: number[];
}

export interface LatencyTrackerOptions {
  /** Ban lines stamped before this (scheduler ms) are replays, not live. */
  liveSince: number;
  /** Log time (ms) of an event. */
  logTime: (ev: F2bEvent) => number | undefined;
  log: PipelineLogger;
  /** Must not throw; an exception is logged and ignored. */
  onApplied?: (notice: AppliedNotice) => void;
}

export class LatencyTracker {
  private readonly latency: BanLatency;
  private zoneWarned = false;

  constructor(private readonly o: LatencyTrackerOptions) {
    this.latency = new BanLatency(o.liveSince);
  }

  /** Bans measured but not acknowledged yet. */
  get size(): number {
    return this.latency.size;
  }

  /** `ev` was applied at `now` with effects `fx`: a live Ban that made addresses desired starts their clocks. */
  observe(ev: F2bEvent, fx: Effects, now: number): void {
    if (ev.type !== 'ban' || !fx.changes.some((c) => c.op === 'add')) return;
    const t = this.o.logTime(ev);
    const verdict = this.latency.verdict(ev, t, now);
    if (verdict === 'future' && !this.zoneWarned) {
      this.zoneWarned = true;
      this.o.log.warn(
        { logTime: ev.isoTime, now: iso(now) },
        'fail2ban log time is ahead of this host: different time zones? ban-to-block latency not measured',
      );
    }
    if (verdict !== 'live' || t === undefined) return;
    for (const c of fx.changes) if (c.op === 'add') this.latency.banned(c.key, c.address, t);
  }

  /** The address left the group's desired set before being written: no measurement. */
  cancelled(key: string, address: string): void {
    this.latency.cancelled(key, address);
  }

  /** A firewall acknowledged a write: the hook hears of it, with the latencies it ended. */
  applied(c: AppliedChange): void {
    const banToBlockSeconds = c.op === 'add' ? this.latency.applied(c.key, c.addresses, c.at) : [];
    try {
      this.o.onApplied?.({ ...c, banToBlockSeconds });
    } catch (err) {
      this.o.log.warn({ err: errorInfo(err, c.at).message }, 'onApplied hook failed');
    }
  }

  prune(now: number): void {
    this.latency.prune(now);
  }
}
