/**
 * Ban-to-block latency: from the time stamp of a live `Ban` line to the firewall acknowledging the
 * write that put the address into a group. Pure bookkeeping; times are passed in.
 *
 * Only bans seen live are measured: a `Restore Ban`, an `already banned`, a ban loaded from the
 * state file, or a line older than the process (the log read again after a restart, `startAt:
 * beginning`) would measure downtime, not the sidecar. A ban whose group write is cancelled (unban
 * within the window) is forgotten, and so is one still unwritten after `ttlMs` (the address was
 * already on the firewall, so no write ever acknowledges it).
 */
import type { F2bEvent } from '../parser/types.js';

/** fail2ban and the sidecar share the host clock: a stamp this far ahead means a zone mismatch. */
export const FUTURE_TOLERANCE_MS = 2000;
export const DEFAULT_LATENCY_TTL_MS = 86_400_000;

/**
 * fail2ban's `isoTime` ("2026-11-25T04:39:52.876", no offset) read in the process's local zone:
 * fail2ban writes the server's local time, and the sidecar runs on the same host with the same
 * zone (/etc/localtime). In the repeated hour at the end of DST the earlier instant is taken.
 */
export function localLogTime(ev: Pick<F2bEvent, 'isoTime'>): number | undefined {
  if (ev.isoTime === undefined || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?$/.test(ev.isoTime)) return undefined;
  // ECMAScript reads a date-time without offset as local time.
  const t = new Date(ev.isoTime).getTime();
  return Number.isFinite(t) ? t : undefined;
}

export type LiveVerdict = 'live' | 'not-a-ban' | 'no-time' | 'before-start' | 'future';

export class BanLatency {
  /** group key → address → log time of the Ban line (ms). */
  private readonly pending = new Map<string, Map<string, number>>();

  constructor(
    /** Ban lines stamped before this (ms) are replays, not live. */
    readonly liveSince: number,
    readonly ttlMs: number = DEFAULT_LATENCY_TTL_MS,
  ) {}

  get size(): number {
    let n = 0;
    for (const m of this.pending.values()) n += m.size;
    return n;
  }

  /** Whether `ev`, stamped `logTime`, is a live Ban at `now`. */
  verdict(ev: F2bEvent, logTime: number | undefined, now: number): LiveVerdict {
    if (ev.type !== 'ban') return 'not-a-ban';
    if (logTime === undefined) return 'no-time';
    if (logTime < this.liveSince) return 'before-start';
    if (logTime > now + FUTURE_TOLERANCE_MS) return 'future';
    return 'live';
  }

  /** A live Ban made `address` desired in group `key`; the first such Ban's time counts. */
  banned(key: string, address: string, logTime: number): void {
    let m = this.pending.get(key);
    if (!m) this.pending.set(key, (m = new Map()));
    if (!m.has(address)) m.set(address, logTime);
  }

  /** The address left the group's desired set before (or without) being written. */
  cancelled(key: string, address: string): void {
    this.pending.get(key)?.delete(address);
  }

  /** The firewall acknowledged adding `addresses` to group `key` at `now`: seconds per measured address. */
  applied(key: string, addresses: readonly string[], now: number): number[] {
    const m = this.pending.get(key);
    if (!m) return [];
    const out: number[] = [];
    for (const a of addresses) {
      const t = m.get(a);
      if (t === undefined) continue;
      m.delete(a);
      out.push(Math.max(0, now - t) / 1000);
    }
    return out;
  }

  /** Forgets bans older than the TTL that no write acknowledged. */
  prune(now: number): void {
    for (const m of this.pending.values()) {
      for (const [a, t] of m) if (now - t > this.ttlMs) m.delete(a);
    }
  }
}
