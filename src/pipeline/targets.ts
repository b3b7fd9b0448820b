/**
 * The groups a one-shot command (`ban`, `unban`, `start`, `check`, `flush`) acts on, by the
 * sidecar's own rules: the pipeline's routing (Router) and the floor (floor.ts: never-block and
 * the targets no firewall should get), in the model's order (model.ts, ban): a refused target is
 * refused first, then the address goes to the groups of its family; a jail whose groups lack that
 * family skips it. Pure.
 */
import type { AddressFamily } from '../core/address.js';
import type { FloorReason } from './floor.js';
import { verdictOf, type TargetCheck } from './model.js';
import type { GroupTarget, Router } from './routing.js';

export type OneShotTargets =
  | { kind: 'targets'; targets: GroupTarget[] }
  /** A ban the floor refuses (never-block, or a target no firewall should get), and why. */
  | { kind: 'never-block'; reason: FloorReason; detail: string }
  /** Groups are there, but none of the address's family (no ipv6Name for an IPv6 address). */
  | { kind: 'no-family-group'; family: AddressFamily }
  /** No group at all (for this jail, or in the config). */
  | { kind: 'no-group' };

export interface OneShotQuery {
  /** Only the groups this jail feeds; every group without it. */
  jail?: string;
  address?: { ip: string; family: AddressFamily };
  ban: boolean;
}

export function oneShotTargets(router: Router, floor: TargetCheck, q: OneShotQuery): OneShotTargets {
  let all = router.targets();
  if (q.jail !== undefined) {
    const r = router.route(q.jail);
    const fed = new Set([...r.IPv4, ...r.IPv6].map((t) => t.key));
    all = all.filter((t) => fed.has(t.key)); // in config order, as the commands print them
  }
  if (q.address === undefined) return all.length > 0 ? { kind: 'targets', targets: all } : { kind: 'no-group' };
  const verdict = q.ban ? verdictOf(floor(q.address.ip)) : { allow: true as const };
  if (!verdict.allow) return { kind: 'never-block', reason: verdict.reason, detail: verdict.detail };
  const family = q.address.family;
  const targets = all.filter((t) => t.group.family === family);
  if (targets.length > 0) return { kind: 'targets', targets };
  return all.length > 0 ? { kind: 'no-family-group', family } : { kind: 'no-group' };
}
