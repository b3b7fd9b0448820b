/**
 * Does the perimeter drop a group? A ban only blocks when an enabled firewall rule uses the group
 * as a SOURCE network with action Drop or Reject; a group no such rule uses makes every ban a
 * no-op, silently. Pure: the rules come from the port (`readRules`), the verdict goes to `check`
 * and to the running sidecar's log line, status, metric and health.
 *
 * Deliberately narrow: a rule with source "Any" does not count (it drops everyone, not the
 * group), nor a rule that has the group only as a destination, nor a disabled one. Rule order is
 * not judged (an Accept rule above the Drop rule could still let a banned address through).
 */
import type { FirewallRuleView } from '../xg/port.js';

export interface GroupEnforcement {
  group: string;
  /** Some enabled Drop/Reject rule uses the group as a source network. */
  enforced: boolean;
  /** Those rules' names, in the firewall's order. */
  rules: string[];
  /** Rules that use the group but do not enforce it, with why (for the report). */
  ignored: { rule: string; why: string }[];
}

const DROPS = new Set(['drop', 'reject']);

export function groupEnforcement(rules: readonly FirewallRuleView[], group: string): GroupEnforcement {
  const out: GroupEnforcement = { group, enforced: false, rules: [], ignored: [] };
  for (const r of rules) {
    const asSource = r.sourceNetworks.includes(group);
    if (!asSource) {
      if (r.destinationNetworks.includes(group)) out.ignored.push({ rule: r.name, why: 'group is a destination only' });
      continue;
    }
    if (!r.enabled) out.ignored.push({ rule: r.name, why: 'rule is disabled' });
    else if (!DROPS.has(r.action.toLowerCase())) out.ignored.push({ rule: r.name, why: `action ${r.action || '(none)'}` });
    else out.rules.push(r.name);
  }
  out.enforced = out.rules.length > 0;
  return out;
}

/** One line per group, as `check` prints it and the sidecar logs it. */
export function describeEnforcement(e: GroupEnforcement): string {
  if (e.enforced) return `enforced by ${e.rules.map((r) => JSON.stringify(r)).join(', ')}`;
  const why = e.ignored.map((i) => `${JSON.stringify(i.rule)}: ${i.why}`).join('; ');
  return `NOT ENFORCED: no enabled Drop/Reject rule uses it as a source network${why ? ` (${why})` : ''}`;
}
