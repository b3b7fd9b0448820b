/** The sidecar's status, assembled from its parts: firewalls and groups, persistence, model counters. */
import type { Checkpoint } from '../core/checkpoint.js';
import type { ErrorInfo } from './log.js';
import type { ModelCounters } from './model.js';
import type { FirewallStatus, GroupStatus } from './reconciler.js';

export interface PersistStatus {
  /** Checkpoint of the last successful save: where a restart resumes. */
  checkpoint?: Checkpoint;
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
  return { groups, firewalls, persist: { ...p.persist }, counters: { ...p.model.counters }, waiting: p.model.waitingCount };
}
