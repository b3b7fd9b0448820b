/**
 * What a failed reconcile pass means, and how long to wait before the next (issue 11 items 2, 3
 * and the authentication item). Pure: the random source is a parameter.
 *
 * Back-off belongs to what failed, not to the pass: a pass that landed any write made progress,
 * so its failure restarts the schedule at the first step (under 30 % failures the old schedule
 * climbed to the 300 s maximum although every pass landed a batch or two). Failures that concern
 * the whole firewall (unreachable, API disabled, caller not allowed, password refused) are probed
 * at a low cap, so the firewall coming back is noticed within seconds; an address the firewall
 * refuses is set aside by the reconciler (set-aside.ts) and never reaches this policy.
 */
import { retryDelay, type RetryOptions } from './backoff.js';

/**
 * - `auth`: the firewall answered and refused the credentials (XG_AUTH).
 * - `access`: the firewall answered and refused API access (API disabled, caller IP not allowed).
 * - `transient`: no (usable) answer, or a failure worth retrying.
 * - `refused`: a permanent refusal of one group's request (family mismatch, …): that group waits.
 */
export type FailureKind = 'auth' | 'access' | 'transient' | 'refused';

const ACCESS = new Set(['XG_ACCESS', 'XG_API_DISABLED', 'XG_IP_NOT_ALLOWED']);

export function failureKind(code: string, permanent: boolean): FailureKind {
  if (code === 'XG_AUTH') return 'auth';
  if (ACCESS.has(code)) return 'access';
  return permanent ? 'refused' : 'transient';
}

/** Errors that concern the whole firewall: a pass stops at the first. */
export function isFirewallWide(kind: FailureKind): boolean {
  return kind === 'auth' || kind === 'access';
}

/** The status word for a firewall's state (status, /status, /healthz). */
export type FirewallState = 'ok' | 'unreachable' | 'auth-failed' | 'api-access-denied' | 'refused';

export function stateOf(kind: FailureKind | undefined): FirewallState {
  switch (kind) {
    case undefined:
      return 'ok';
    case 'auth':
      return 'auth-failed';
    case 'access':
      return 'api-access-denied';
    case 'transient':
      return 'unreachable';
    case 'refused':
      return 'refused';
  }
}

/** The default cap on whole-firewall probes: "noticed within seconds". */
export const DEFAULT_PROBE_MAX_DELAY_MS = 5000;

export interface RetryDecision {
  /** The attempt number the schedule is at after this failure (1 = first step). */
  attempt: number;
  delayMs: number;
}

/**
 * `attempt`: consecutive failures before this one without progress in between. `progressed`: this
 * pass landed at least one request.
 */
export function nextRetry(
  kind: FailureKind,
  attempt: number,
  progressed: boolean,
  o: RetryOptions & { probeMaxDelayMs?: number },
  random: () => number,
): RetryDecision {
  const n = progressed ? 1 : attempt + 1;
  // A refused group waits the full schedule (an admin must act); the firewall as a whole is probed often.
  const cap = kind === 'refused' ? o.maxDelayMs : Math.min(o.maxDelayMs, o.probeMaxDelayMs ?? o.maxDelayMs);
  return { attempt: n, delayMs: Math.min(cap, retryDelay(n, o, random)) };
}
