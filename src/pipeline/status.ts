/** The sidecar's status, assembled from its parts: firewalls and groups, persistence, model counters, sources. */
import type { Checkpoint } from '../core/checkpoint.js';
import type { ErrorInfo } from './log.js';
import type { ModelCounters, SourceView } from './model.js';
import type { FirewallStatus, GroupStatus } from './reconciler.js';

export interface PersistStatus {
  /** Checkpoint of the last successful save: where a restart resumes. */
  checkpoint?: Checkpoint;
  /** Same per followed file (glob mode), keyed by feed. */
  checkpoints?: Record<string, Checkpoint>;
  lastSave?: string;
  lastError?: ErrorInfo;
  consecutiveFailures: number;
}

export interface SidecarStatus {
  groups: GroupStatus[];
  firewalls: FirewallStatus[];
  persist: PersistStatus;
  counters: ModelCounters;
  /** Held unbans + suspensions across all jails. */
  waiting: number;
  /**
   * Every source the model knows (one '' for a one-host setup), by name, with the bans it holds.
   * Always set by assembleStatus; optional so statuses built elsewhere (tests, old files) still fit.
   */
  sources?: SourceView[];
}

export interface StatusParts {
  /** One entry per firewall, as Reconciler.status() reports it. */
  firewalls: readonly { firewall: FirewallStatus; groups: readonly GroupStatus[] }[];
  persist: PersistStatus;
  model: {
    readonly counters: ModelCounters;
    readonly waitingCount: number;
    /** Addresses of group `key` kept only by held or suspended entries. */
    suspendedIn(key: string): number;
    /** The per-source view (DesiredModel.sources()); none: no sources listed. */
    sources?(): SourceView[];
  };
}

/** persist and counters are copied: a status kept by the caller does not change under it. */
export function assembleStatus(p: StatusParts): SidecarStatus {
  const groups: GroupStatus[] = [];
  const firewalls: FirewallStatus[] = [];
  for (const s of p.firewalls) {
    firewalls.push(s.firewall);
    for (const g of s.groups) groups.push({ ...g, suspended: p.model.suspendedIn(`${g.firewall}/${g.group}`) });
  }
  const sources = p.model.sources?.() ?? [];
  return { groups, firewalls, persist: { ...p.persist }, counters: { ...p.model.counters }, waiting: p.model.waitingCount, sources };
}
