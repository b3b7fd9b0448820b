/**
 * Circuit breaker on mass removals that fail2ban did not ask for (issue 11 item 6). Pure: no I/O,
 * no clock (callers pass `now`), deterministic.
 *
 * An Unban line is fail2ban's word: its removals always pass, however many (2,000 bans made
 * together expire together). Orphans — owned hosts the desired state no longer holds with no
 * Unban behind them (a jail mapping edited, a lost or replaced state, a replaced log) — are where
 * bugs and mistakes lift a whole group, so a burst of them is held until the operator releases it.
 *
 * The rule, per group, counting orphans allowed within the last `windowMs` plus the new ones
 * (so a group cannot be drained in slices that each stay under the threshold):
 *   hold when  total > minCount  and  (total > maxShare × group size  or  total > maxCount).
 * Defaults: minCount 5 (a few orphans in a small setup after a mapping edit never need an
 * operator; at worst five bans are lifted until their sources strike again), maxShare 0.2 (a
 * lost state, a replaced log or a jail dropped from a mapping takes most of a group: caught at
 * any size), maxCount 1,000 (on a 100,000-host group 20 % would still be 20,000 lifted bans),
 * windowMs 10 minutes (longer than a few reconcile passes and back-offs).
 */
import { createHash } from 'node:crypto';

export interface BreakerOptions {
  /** Never hold this many orphans or fewer. */
  minCount: number;
  /** Hold when orphans exceed this share of the group (0..1). */
  maxShare: number;
  /** Hold when orphans exceed this many, whatever the share. */
  maxCount: number;
  /** Orphan removals allowed within this window count toward the next decision. */
  windowMs: number;
}

export const DEFAULT_BREAKER: Readonly<BreakerOptions> = { minCount: 5, maxShare: 0.2, maxCount: 1000, windowMs: 600_000 };

export interface RemovalRequest {
  /** Owned hosts of the group on the firewall now (the removals below included). */
  owned: number;
  /** Removals an Unban line asked for: never held. */
  unbans: readonly string[];
  /** Removals no Unban line asked for. */
  orphans: readonly string[];
}

export interface Hold {
  group: string;
  /** Orphan removals held. */
  count: number;
  /** The group's owned size when the hold was (last) decided. */
  owned: number;
  /** Orphans allowed within the window (they count toward the threshold). */
  recent: number;
  /** When the hold began (the caller's clock, ms). */
  since: number;
  /** Why, for the log, status and /healthz. */
  reason: string;
  /** Names exactly this held set: releasing with a token the operator saw releases no more than that. */
  token: string;
}

export interface BreakerDecision {
  /** Removals to make now: every unban, plus orphans unless held. */
  allowed: string[];
  /** Orphans held back. */
  held: string[];
  hold?: Hold;
}

export type ReleaseResult = { ok: true; group: string; released: number } | { ok: false; reason: 'unknown-token' };

interface GroupState {
  /** Orphans allowed within the window → when they were allowed. */
  recent: Map<string, number>;
  /** Orphans the operator released: they pass without counting. */
  released: Set<string>;
  hold?: Hold & { addresses: Set<string> };
}

export class RemovalBreaker {
  private readonly opts: BreakerOptions;
  private readonly groups = new Map<string, GroupState>();

  constructor(opts: Partial<BreakerOptions> = {}) {
    this.opts = { ...DEFAULT_BREAKER, ...opts };
    const o = this.opts;
    if (!(o.maxShare >= 0 && o.maxShare <= 1)) throw new RangeError(`breaker maxShare must be 0..1, got ${o.maxShare}`);
    for (const k of ['minCount', 'maxCount', 'windowMs'] as const) {
      if (!Number.isInteger(o[k]) || o[k] < 0) throw new RangeError(`breaker ${k} must be a non-negative integer, got ${o[k]}`);
    }
  }

  /** Which of a group's pending removals to make now. Allowed orphans are counted in the window. */
  decide(group: string, req: RemovalRequest, now: number): BreakerDecision {
    const g = this.state(group);
    const pendingNow = new Set(req.orphans);
    this.prune(g, pendingNow, now);
    const pass: string[] = [];
    const fresh: string[] = [];
    // Released ones and retries of orphans already allowed (a failed write) pass without counting again.
    for (const a of req.orphans) (g.released.has(a) || g.recent.has(a) ? pass : fresh).push(a);
    const total = g.recent.size + fresh.length;
    // The group as it was before the window's removals: those still pending are in `owned` already.
    let base = req.owned;
    for (const a of g.recent.keys()) if (!pendingNow.has(a)) base++;
    const over = total > this.opts.minCount && (total > this.opts.maxShare * base || total > this.opts.maxCount);
    if (!over || fresh.length === 0) {
      for (const a of fresh) g.recent.set(a, now);
      delete g.hold;
      return { allowed: [...req.unbans, ...pass, ...fresh], held: [] };
    }
    const hold = this.holdOf(group, g, fresh, { owned: req.owned, recent: g.recent.size, base, total }, now);
    return { allowed: [...req.unbans, ...pass], held: fresh, hold: publicHold(hold) };
  }

  /** The operator's release: lets exactly the held set named by `token` go, once. */
  release(token: string): ReleaseResult {
    for (const [group, g] of this.groups) {
      if (g.hold?.token !== token) continue;
      for (const a of g.hold.addresses) g.released.add(a);
      const released = g.hold.addresses.size;
      delete g.hold;
      return { ok: true, group, released };
    }
    return { ok: false, reason: 'unknown-token' };
  }

  /** Current holds, for status.json, `status` and /healthz (a hold makes /healthz fail). */
  holds(): Hold[] {
    return [...this.groups.values()].flatMap((g) => (g.hold ? [publicHold(g.hold)] : []));
  }

  private state(group: string): GroupState {
    let g = this.groups.get(group);
    if (!g) {
      g = { recent: new Map(), released: new Set() };
      this.groups.set(group, g);
    }
    return g;
  }

  /** Forgets allowed orphans older than the window and released ones that are gone from the firewall. */
  private prune(g: GroupState, pendingNow: ReadonlySet<string>, now: number): void {
    for (const [a, t] of g.recent) if (now - t >= this.opts.windowMs) g.recent.delete(a);
    for (const a of g.released) if (!pendingNow.has(a)) g.released.delete(a);
  }

  private holdOf(
    group: string,
    g: GroupState,
    fresh: string[],
    n: { owned: number; recent: number; base: number; total: number },
    now: number,
  ): NonNullable<GroupState['hold']> {
    const same = g.hold && g.hold.addresses.size === fresh.length && fresh.every((a) => g.hold?.addresses.has(a));
    if (g.hold && same) {
      g.hold.owned = n.owned;
      return g.hold;
    }
    const share = n.base > 0 ? Math.round((100 * n.total) / n.base) : 100;
    const reason =
      `${n.total} removals no Unban asked for (${fresh.length} pending, ${n.recent} in the last ${Math.round(this.opts.windowMs / 60_000)} min) ` +
      `would take ${share} % of ${n.base} hosts; limits: ${Math.round(this.opts.maxShare * 100)} % or ${this.opts.maxCount}, above ${this.opts.minCount}`;
    // The token names the held set: a release lets go what the operator saw, no more, and the
    // same set keeps the same token across a restart.
    const token = `${group}#${fresh.length}-${createHash('sha256')
      .update([...fresh].sort().join('\n'))
      .digest('hex')
      .slice(0, 12)}`;
    g.hold = {
      group,
      count: fresh.length,
      owned: n.owned,
      recent: n.recent,
      since: g.hold?.since ?? now,
      reason,
      token,
      addresses: new Set(fresh),
    };
    return g.hold;
  }
}

function publicHold(h: Hold & { addresses?: Set<string> }): Hold {
  const { addresses: _omit, ...rest } = h;
  return rest;
}
