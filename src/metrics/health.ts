/**
 * Health evaluation: pure, time passed in. A problem fails the check only once it has lasted
 * longer than the threshold, so a firewall reboot or a log rotation does not page anyone.
 */
import { parseTime, type StatusSnapshot } from './status.js';

export interface HealthCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** Not failing, but not right either: something waits for an operator (held removals, set-aside addresses, a group no firewall rule drops). */
  degraded?: boolean;
}

export interface HealthReport {
  ok: boolean;
  /** Some check is degraded: answered 200 "degraded", not 503 (a restart would not fix it). */
  degraded: boolean;
  checks: HealthCheck[];
}

/** Refusals an admin must fix and waiting cannot: they fail at once, not after the threshold. */
const FAIL_AT_ONCE = new Set(['XG_AUTH', 'XG_ACCESS', 'XG_API_DISABLED', 'XG_IP_NOT_ALLOWED']);

export interface HealthOptions {
  unreachableAfterMs: number;
  /**
   * Epoch ms the process started: how long a problem with no "since" stamp has lasted (a
   * firewall never reached since start-up). Without it such a problem counts from `now`.
   */
  startedAt?: number;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)}s`;
}

/** The one rule: failing once `since` lies more than the threshold before `now`. */
function judge(name: string, problem: string, since: number, now: number, limitMs: number): HealthCheck {
  const lasted = Math.max(0, now - since);
  const ok = lasted <= limitMs;
  return { name, ok, detail: `${problem} for ${seconds(lasted)} (${ok ? 'tolerated up to' : 'longer than'} ${seconds(limitMs)})` };
}

export function evaluateHealth(status: StatusSnapshot, now: number, opts: HealthOptions): HealthReport {
  const limit = opts.unreachableAfterMs;
  const fallback = opts.startedAt ?? now;
  const checks: HealthCheck[] = [];

  for (const f of status.firewalls) {
    const name = `firewall:${f.name}`;
    if (f.permanentError && FAIL_AT_ONCE.has(f.permanentError.code ?? '')) {
      const e = f.permanentError;
      const what = f.state ?? (e.code === 'XG_AUTH' ? 'auth-failed' : 'api-access-denied');
      checks.push({
        name,
        ok: false,
        detail: `${what} (${e.code}): ${e.message} — the firewall answers and refuses us; an admin must act`,
      });
    } else if (f.permanentError) {
      const e = f.permanentError;
      const problem = `permanent error${e.code ? ` ${e.code}` : ''}: ${e.message}`;
      checks.push(judge(name, problem, parseTime(e.since) ?? fallback, now, limit));
    } else if (!f.reachable) {
      // Unreachable since the stamp, else since the last good contact, else since start-up.
      const since = parseTime(f.unreachableSince) ?? parseTime(f.lastContact) ?? fallback;
      checks.push(judge(name, `unreachable (${f.consecutiveFailures} consecutive failures)`, since, now, limit));
    } else {
      checks.push({ name, ok: true, detail: 'reachable' });
    }
  }

  const log = status.log;
  if (log.readable) {
    checks.push({ name: 'log', ok: true, detail: `readable: ${log.path}` });
  } else {
    checks.push(judge('log', `unreadable: ${log.path}`, parseTime(log.unreadableSince) ?? fallback, now, limit));
  }

  for (const h of status.holds ?? []) {
    checks.push({
      name: `removals-held:${h.group}`,
      ok: true,
      degraded: true,
      detail: `${h.count} removals held since ${h.since}: ${h.reason}; release with: f2b-sophosxg release ${h.token}`,
    });
  }
  const aside = status.setAside ?? [];
  if (aside.length > 0) {
    checks.push({
      name: 'set-aside',
      ok: true,
      degraded: true,
      detail: `${aside.length} address(es) refused by the firewall and set aside (see status)`,
    });
  }
  for (const g of status.groups) {
    if (g.enforced !== false) continue;
    checks.push({
      name: `group:${g.firewall}/${g.group}`,
      ok: true,
      degraded: true,
      detail: 'NOT ENFORCED: no enabled Drop/Reject firewall rule uses it as a source network',
    });
  }
  return { ok: checks.every((c) => c.ok), degraded: checks.some((c) => c.degraded === true), checks };
}
