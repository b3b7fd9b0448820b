/**
 * Reading firewall rules (`<Get><FirewallRule/></Get>`), read-only. The XML shape follows Sophos'
 * own SDK and ansible collection (sophos/sophos-firewall-sdk createfwrule.j2 and firewallrule.py,
 * sophos.sophos_firewall sfos_firewall_rule): Name, Status (Enable|Disable), PolicyType, then one
 * policy element (NetworkPolicy, UserPolicy, ...) holding Action, SourceNetworks/Network and
 * DestinationNetworks/Network. A list that is "Any" is left out; one Network is a scalar, several
 * a list.
 *
 * A rule's <Status> is its Enable/Disable text, not a result status: it has no `code`. So the
 * transport's forEach (which takes any entity Status as a refusal) is not used here; only a
 * Status with a code and no Name is a refusal.
 */
import { errorForStatus, isSuccessStatus } from './errors.js';
import type { FirewallRuleView } from './port.js';
import { getXml } from './request-xml.js';
import type { XgTransport } from './transport.js';
import { isZeroRecords, text, toArray, type XgStatus } from './xml.js';

const ENTITY = 'FirewallRule';

/** Names under `<List><child>…</child></List>`; absent list = [] (Any). */
function networks(policy: Record<string, unknown>, list: string): string[] {
  const out: string[] = [];
  for (const l of toArray(policy[list])) {
    if (!l || typeof l !== 'object') continue;
    for (const n of toArray((l as Record<string, unknown>)['Network'])) {
      const t = text(n)?.trim();
      if (t) out.push(t);
    }
  }
  return out;
}

/** The policy element: whichever child carries an Action (NetworkPolicy, UserPolicy, HTTPBasedPolicy…). */
function policyOf(fields: Record<string, unknown>): Record<string, unknown> | undefined {
  for (const [tag, v] of Object.entries(fields)) {
    if (!tag.endsWith('Policy')) continue;
    const p = toArray(v)[0];
    if (p && typeof p === 'object' && 'Action' in p) return p as Record<string, unknown>;
  }
  return undefined;
}

/** One rule from a Get answer's fields; undefined when it has no name. */
export function decodeRule(fields: Record<string, unknown>): FirewallRuleView | undefined {
  const name = text(fields['Name'])?.trim();
  if (!name) return undefined;
  const policy = policyOf(fields) ?? {};
  const status = toArray(fields['Status'])[0];
  return {
    name,
    enabled: (text(status) ?? '').trim().toLowerCase() === 'enable',
    action: (text(policy['Action']) ?? '').trim(),
    sourceNetworks: networks(policy, 'SourceNetworks'),
    destinationNetworks: networks(policy, 'DestinationNetworks'),
  };
}

/** Every rule, in the firewall's order. */
export async function readRules(transport: XgTransport): Promise<FirewallRuleView[]> {
  const out: FirewallRuleView[] = [];
  let refused: XgStatus | undefined;
  await transport.call('get', [{ kind: 'get', entities: [getXml(ENTITY)] }], { entity: ENTITY }, (e) => {
    if (e.tag !== ENTITY || refused) return;
    const rule = decodeRule(e.fields);
    if (rule) {
      out.push(rule);
      return;
    }
    if (!e.status || isZeroRecords(e.status) || isSuccessStatus(e.status.code)) return;
    refused = e.status;
  });
  if (refused) throw errorForStatus(refused.code, refused.text, { op: 'get', entity: ENTITY });
  return out;
}
