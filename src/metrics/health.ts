/**
 * Health evaluation: pure, time passed in. A problem fails the check only once it has lasted
 * longer than the threshold, so a firewall reboot or a log rotation does not page anyone.
 */
import { parseTime, type StatusSnapshot } from './status.js';

export interface HealthCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** Not failing, but not right either (a group no firewall rule drops). */
  degraded?: boolean;
}

export interface HealthReport {
  ok: boolean;
  /** Some check is degraded: answered 200 "degraded", not 503 (a restart would not fix it). */
  degraded: boolean;
  checks: HealthCheck[];
}

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
    if (f.permanentError) {
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

  for (const g of status.groups) {
    if (g.enforced !== false) continue;
    checks.push({ name: `group:${g.firewall}/${g.group}`, ok: true, degraded: true, detail: 'NOT ENFORCED: no enabled Drop/Reject firewall rule uses it as a source network' });
  }

  return { ok: checks.every((c) => c.ok), degraded: checks.some((c) => c.degraded === true), checks };
}
