/** The pipeline's status in the shape metrics, health and status.json share. */
import type { StatusSnapshot } from '../metrics/status.js';
import type { SidecarStatus } from '../pipeline/sidecar.js';

/** What the runtime knows about the log beside the pipeline's status. */
export interface LogActivity {
  readable: boolean;
  /** ISO time the last line was read. */
  lastLineAt?: string | undefined;
}

export function toSnapshot(s: SidecarStatus, path: string, readable: boolean, lastLineAt?: string): StatusSnapshot {
  return {
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
      lastSuccess: g.lastSuccess,
      lastError: g.lastError ? { message: g.lastError.message, code: g.lastError.code, at: g.lastError.at } : undefined,
    })),
    firewalls: s.firewalls.map((f) => ({
      name: f.firewall,
      reachable: f.reachable,
      lastContact: f.lastContact,
      consecutiveFailures: f.consecutiveFailures,
      permanentError: f.permanentError
        ? { message: f.permanentError.message, code: f.permanentError.code, since: f.permanentError.at }
        : undefined,
    })),
    log: { path, readable, lastLineAt },
  };
}
