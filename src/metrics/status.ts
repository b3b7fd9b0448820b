/**
 * The status snapshot the metrics, health and /status endpoints read. Declared here, structurally,
 * so this module depends on nothing in the pipeline: the run command maps the sidecar's status
 * onto it. It carries counts, names and error summaries only — never passwords or credentialed URLs.
 */
export type Family = 'IPv4' | 'IPv6';

export interface ErrorSummary {
  message: string;
  code?: string;
}

export interface GroupSnapshot {
  firewall: string;
  group: string;
  family: Family;
  desired: number;
  applied: number;
  pendingAdds: number;
  pendingRemoves: number;
  suspended: number;
  /** Owned objects in the group and addresses per object (issue 12). */
  objects?: ObjectsSnapshot;
  /** Addresses the firewall refused for good, set aside (issue 11 item 3). */
  setAside?: number;
  /** Orphan removals held by the breaker (issue 11 item 6). */
  removalsHeld?: number;
  /** ISO time of the last successful reconcile of this group. */
  lastSuccess?: string;
  lastError?: ErrorSummary & { at: string };
  /** Some enabled Drop/Reject rule uses the group as a source; absent until the rules were read. */
  enforced?: boolean;
  /** Those rules' names. */
  enforcedBy?: string[];
}

export interface ObjectsSnapshot {
  mode: 'lists' | 'hosts';
  lists: number;
  hosts: number;
  maxPerList: number;
  meanPerList: number;
}

export interface FirewallSnapshot {
  name: string;
  reachable: boolean;
  lastContact?: string;
  consecutiveFailures: number;
  permanentError?: ErrorSummary & { since: string };
  unreachableSince?: string;
  /** ok | unreachable | auth-failed | api-access-denied | refused (auth/access: the firewall answered). */
  state?: string;
}

/** A breaker hold: orphan removals waiting for the operator (`f2b-sophosxg release`). */
export interface HoldSnapshot {
  group: string;
  count: number;
  /** ISO time the hold began. */
  since: string;
  reason: string;
  token: string;
}

/** An address the firewall refuses for good (capped list). */
export interface SetAsideSnapshot {
  group: string;
  op: 'add' | 'remove';
  address: string;
  code: string;
  since: string;
  retryAt: string;
}

export interface LogSnapshot {
  path: string;
  readable: boolean;
  unreadableSince?: string;
  lastLineAt?: string;
}

/** One fail2ban host of a fleet (issue 13): present when the log is a glob or names hosts. */
export interface SourceSnapshot {
  name: string;
  /** The file followed for it (glob mode). */
  path?: string;
  /** ISO time its last line was read (since this start). */
  lastLineAt?: string;
  /** Events it sent since this start. */
  events: number;
  /** Bans it holds: (address, jail) pairs in the desired state. */
  bans: number;
  /** No line read, event or file write for longer than a day (app/sources.ts): shown, never dropped. */
  silent: boolean;
}

export interface StatusSnapshot {
  groups: GroupSnapshot[];
  firewalls: FirewallSnapshot[];
  log: LogSnapshot;
  sources?: SourceSnapshot[];
  holds?: HoldSnapshot[];
  setAside?: SetAsideSnapshot[];
}

/** Epoch ms of an ISO time, undefined when absent or unparsable (a bad stamp must not read as "now"). */
export function parseTime(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : undefined;
}

// userinfo in any URL-looking text: "https://user:pass@host" → "https://***@host".
const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi;

function scrub(s: string): string {
  return s.replace(URL_USERINFO, '$1***@');
}

function summary(e: ErrorSummary): ErrorSummary {
  return e.code === undefined ? { message: scrub(e.message) } : { message: scrub(e.message), code: e.code };
}

/**
 * The snapshot as served on /status: only the declared fields (the caller may hand over a richer
 * object, whose extra fields must not leak) and messages with URL credentials masked. Absent
 * optional fields stay undefined, which JSON drops.
 */
export function publicStatus(s: StatusSnapshot): StatusSnapshot {
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
      objects: g.objects && {
        mode: g.objects.mode,
        lists: g.objects.lists,
        hosts: g.objects.hosts,
        maxPerList: g.objects.maxPerList,
        meanPerList: g.objects.meanPerList,
      },
      setAside: g.setAside,
      removalsHeld: g.removalsHeld,
      lastSuccess: g.lastSuccess,
      lastError: g.lastError && { ...summary(g.lastError), at: g.lastError.at },
      enforced: g.enforced,
      enforcedBy: g.enforcedBy,
    })),
    firewalls: s.firewalls.map((f) => ({
      name: f.name,
      reachable: f.reachable,
      consecutiveFailures: f.consecutiveFailures,
      lastContact: f.lastContact,
      unreachableSince: f.unreachableSince,
      state: f.state,
      permanentError: f.permanentError && { ...summary(f.permanentError), since: f.permanentError.since },
    })),
    log: {
      path: scrub(s.log.path),
      readable: s.log.readable,
      unreadableSince: s.log.unreadableSince,
      lastLineAt: s.log.lastLineAt,
    },
    sources: s.sources?.map((x) => ({
      name: x.name,
      path: x.path === undefined ? undefined : scrub(x.path),
      lastLineAt: x.lastLineAt,
      events: x.events,
      bans: x.bans,
      silent: x.silent,
    })),
    holds: s.holds?.map((h) => ({ group: h.group, count: h.count, since: h.since, reason: h.reason, token: h.token })),
    setAside: s.setAside?.map((e) => ({ group: e.group, op: e.op, address: e.address, code: e.code, since: e.since, retryAt: e.retryAt })),
  };
}
