/** The pipeline's status in the shape metrics, health and status.json share. */
import type { StatusSnapshot } from '../metrics/status.js';
import type { SidecarStatus } from '../pipeline/sidecar.js';
import type { Hold } from '../pipeline/index.js';
import type { SourceBook } from './sources.js';

/** What the runtime knows about the log beside the pipeline's status. */
export interface LogActivity {
  readable: boolean;
  /** ISO time the last line was read. */
  lastLineAt?: string | undefined;
  /** Per fleet source: its file and last line (issue 13). */
  sources?: SourceBook;
}

export function toSnapshot(s: SidecarStatus, path: string, readable: boolean, lastLineAt?: string): StatusSnapshot {
  const snap: StatusSnapshot = {
    groups: s.groups.map((g) => ({
      firewall: g.firewall,
      group: g.group,
      family: g.family,
      desired: g.desired,
      applied: g.applied,
      pendingAdds: g.pendingAdds,
      pendingRemoves: g.pendingRemoves,
      suspended: g.suspended,
      objects: g.objects,
      ...(g.setAside !== undefined && { setAside: g.setAside }),
      ...(g.removalsHeld !== undefined && { removalsHeld: g.removalsHeld }),
      lastSuccess: g.lastSuccess,
      lastError: g.lastError ? { message: g.lastError.message, code: g.lastError.code, at: g.lastError.at } : undefined,
    })),
    firewalls: s.firewalls.map((f) => ({
      name: f.firewall,
      reachable: f.reachable,
      lastContact: f.lastContact,
      consecutiveFailures: f.consecutiveFailures,
      ...(f.state !== undefined && { state: f.state }),
      permanentError: f.permanentError
        ? { message: f.permanentError.message, code: f.permanentError.code, since: f.permanentError.at }
        : undefined,
    })),
    log: { path, readable, lastLineAt },
  };
  const aside = s.firewalls.flatMap((f) =>
    (f.setAside ?? []).map((e) => ({
      group: e.group,
      op: e.op,
      address: e.address,
      code: e.code,
      since: new Date(e.since).toISOString(),
      retryAt: new Date(e.retryAt).toISOString(),
    })),
  );
  if (aside.length > 0) snap.setAside = aside;
  return snap;
}

/** The breaker's holds into the snapshot (status.json, /status, /healthz) and the removals_held gauge. */
export function withHolds(
  s: StatusSnapshot,
  breaker: { holds(): Hold[] } | undefined,
  metrics: { applyHolds(h: readonly Hold[]): void },
): StatusSnapshot {
  if (!breaker) return s;
  const holds = breaker.holds();
  metrics.applyHolds(holds);
  return {
    ...s,
    holds: holds.map((h) => ({ group: h.group, count: h.count, since: new Date(h.since).toISOString(), reason: h.reason, token: h.token })),
  };
}
