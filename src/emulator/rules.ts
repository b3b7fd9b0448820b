/**
 * Firewall rules of the emulator, as `<Get><FirewallRule/></Get>` shows them: enough of a rule to
 * tell whether a group is enforced (status, action, policy type, source networks). Tests seed them
 * (there is no Set or Remove of FirewallRule in the emulator: the sidecar only reads rules).
 *
 * XML shape (sophos/sophos-firewall-sdk templates/createfwrule.j2 and firewallrule.py, the
 * sophos.sophos_firewall collection's sfos_firewall_rule module, Sophos API docs' FirewallRule
 * sample): Name, Description, IPFamily, Status (Enable|Disable), Position, PolicyType
 * (Network|User|...), then one policy element (NetworkPolicy for Network, UserPolicy for User) with
 * Action (Accept|Drop|Reject), LogTraffic, SkipLocalDestined, SourceZones/Zone, DestinationZones/Zone,
 * Schedule, SourceNetworks/Network, DestinationNetworks/Network, Services/Service. A list that is
 * "Any" is left out altogether (the ansible module tests `"SourceNetworks" in NetworkPolicy`).
 */
import type { Filter } from './filter.js';
import { el } from './xml.js';

export type RuleAction = 'Accept' | 'Drop' | 'Reject';
export type RulePolicyType = 'Network' | 'User';

export interface FirewallRuleInput {
  name: string;
  action: RuleAction;
  /** Names of IP hosts / groups; empty or absent = Any. */
  sourceNetworks?: readonly string[];
  destinationNetworks?: readonly string[];
  status?: 'Enable' | 'Disable';
  policyType?: RulePolicyType;
  ipFamily?: 'IPv4' | 'IPv6';
  description?: string;
  sourceZones?: readonly string[];
  destinationZones?: readonly string[];
  services?: readonly string[];
}

export type FirewallRuleView = Required<FirewallRuleInput>;

/** What the rules need from the model: its references keep used hosts and groups from removal. */
export interface RuleReferences {
  addRule(name: string, refs: readonly string[]): void;
  removeRule(name: string): boolean;
}

function complete(r: FirewallRuleInput): FirewallRuleView {
  return {
    name: r.name,
    action: r.action,
    sourceNetworks: [...(r.sourceNetworks ?? [])],
    destinationNetworks: [...(r.destinationNetworks ?? [])],
    status: r.status ?? 'Enable',
    policyType: r.policyType ?? 'Network',
    ipFamily: r.ipFamily ?? 'IPv4',
    description: r.description ?? '',
    sourceZones: [...(r.sourceZones ?? ['WAN'])],
    destinationZones: [...(r.destinationZones ?? ['LAN'])],
    services: [...(r.services ?? [])],
  };
}

/** The rule table in the firewall's order (new rules at the bottom, as `Position: Bottom`). */
export class FirewallRules {
  private readonly rules = new Map<string, FirewallRuleView>();

  constructor(
    private readonly refs: RuleReferences,
    private readonly caseSensitive: () => boolean,
  ) {}

  /** Seeds a rule; its networks must exist (throws otherwise) and can then no longer be removed. */
  add(input: FirewallRuleInput): FirewallRuleView {
    const rule = complete(input);
    if (this.find(rule.name) !== undefined) throw new Error(`firewall rule ${rule.name} already exists`);
    this.refs.addRule(rule.name, [...rule.sourceNetworks, ...rule.destinationNetworks]);
    this.rules.set(rule.name, rule);
    return rule;
  }

  remove(name: string): boolean {
    const rule = this.find(name);
    if (rule === undefined) return false;
    this.rules.delete(rule.name);
    this.refs.removeRule(rule.name);
    return true;
  }

  list(filter?: Filter): FirewallRuleView[] {
    const all = [...this.rules.values()];
    if (!filter || filter.key !== 'Name') return all;
    const fold = (s: string) => (this.caseSensitive() ? s : s.toLowerCase());
    const want = fold(filter.value.trim());
    const tests: Record<string, (n: string) => boolean> = {
      '=': (n) => n === want,
      '!=': (n) => n !== want,
      like: (n) => n.includes(want),
    };
    // As for hosts and groups: an unknown criteria is silently ignored.
    const test = Object.hasOwn(tests, filter.criteria) ? tests[filter.criteria] : undefined;
    return test ? all.filter((r) => test(fold(r.name))) : all;
  }

  private find(name: string): FirewallRuleView | undefined {
    const k = this.caseSensitive() ? name : name.toLowerCase();
    for (const r of this.rules.values()) if ((this.caseSensitive() ? r.name : r.name.toLowerCase()) === k) return r;
    return undefined;
  }
}

const list = (outer: string, inner: string, items: readonly string[]): string[] =>
  items.length === 0
    ? []
    : [
        el(
          outer,
          items.map((i) => el(inner, i)),
        ),
      ];

/** The children of one `<FirewallRule>` in a Get response, in the firmware's order. */
export function firewallRuleFields(r: FirewallRuleView): string[] {
  const policy = [
    el('Action', r.action),
    el('LogTraffic', 'Disable'),
    el('SkipLocalDestined', 'Disable'),
    ...list('SourceZones', 'Zone', r.sourceZones),
    ...list('DestinationZones', 'Zone', r.destinationZones),
    el('Schedule', 'All The Time'),
    ...list('SourceNetworks', 'Network', r.sourceNetworks),
    ...list('DestinationNetworks', 'Network', r.destinationNetworks),
    ...list('Services', 'Service', r.services),
  ];
  return [
    el('Name', r.name),
    el('Description', r.description),
    el('IPFamily', r.ipFamily),
    el('Status', r.status),
    el('Position', 'Bottom'),
    el('PolicyType', r.policyType),
    el(r.policyType === 'User' ? 'UserPolicy' : 'NetworkPolicy', policy),
  ];
}
