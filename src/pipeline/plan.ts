/**
 * The audit plan: the desired state a log leaves (from a saved state, without the pipeline's
 * timers or batching window) diffed once against what the firewall holds. Pure: the caller reads
 * the state, the log's lines and the groups (src/app/plan.ts) and hands them in.
 *
 * Time is the wall clock `now` the caller passes, as the running sidecar would apply a catch-up
 * (every event at about the same instant); at the end the held unbans are resolved as the
 * sidecar's timer would after its stop-Unban window. Only this sidecar's own addresses are
 * counted: foreign members are neither added, removed nor left by it.
 */
import type { F2bEvent } from '../parser/types.js';
import type { GroupState } from '../xg/port.js';
import { diff } from './planner.js';
import { DesiredModel, type ModelOptions } from './model.js';
import type { PersistedState } from './persisted.js';
import type { GroupTarget } from './routing.js';

export interface GroupPlan {
  firewall: string;
  group: string;
  family: 'IPv4' | 'IPv6';
  /** The group is missing: a real run creates it first. */
  missing: boolean;
  add: string[];
  remove: string[];
  /** Owned addresses that stay. */
  unchanged: number;
}

/** Desired state built from a saved state plus events, on one clock. */
export class PlanModel {
  private readonly model: DesiredModel;

  constructor(
    private readonly opts: ModelOptions,
    initial: PersistedState | undefined,
    private readonly now: number,
  ) {
    this.model = new DesiredModel(opts);
    if (initial) this.model.load(initial.model, now);
  }

  /** `source`: who logged it (a fleet host; '' the single log), as the sidecar applies it. */
  apply(event: F2bEvent, source = ''): void {
    this.model.apply(event, this.now, source);
  }

  /** Held unbans resolve as after the stop-Unban window; then the targets, in routing order. */
  finish(): GroupTarget[] {
    this.model.expire(this.now + this.opts.suspend.stopUnbanWindowMs);
    return this.model.router.targets();
  }

  desired(key: string): ReadonlySet<string> {
    return this.model.desired.get(key) ?? new Set();
  }

  held(key: string): ReadonlySet<string> {
    return this.model.held.get(key) ?? new Set();
  }
}

/** One group's plan from the desired/held sets and the group as read (owned addresses only). */
export function groupPlan(target: GroupTarget, desired: ReadonlySet<string>, held: ReadonlySet<string>, state: GroupState): GroupPlan {
  const d = diff(desired, state.owned, held);
  return {
    firewall: target.firewall,
    group: target.group.name,
    family: target.group.family,
    missing: !state.exists,
    add: d.add,
    remove: d.remove,
    unchanged: state.owned.size - d.remove.length,
  };
}

export const planChanges = (plans: readonly GroupPlan[]): boolean =>
  plans.some((p) => p.add.length > 0 || p.remove.length > 0 || p.missing);
