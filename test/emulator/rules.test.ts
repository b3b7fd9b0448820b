import { describe, expect, it } from 'vitest';
import { EmulatorModel } from '../../src/emulator/index.js';
import { codes, esc, groupXml, set, emulatorsPerTest, type Node } from './helpers.js';

const start = emulatorsPerTest();

const getRules = (filter?: { criteria: string; value: string }) =>
  filter
    ? `<Get><FirewallRule><Filter><key name="Name" criteria="${esc(filter.criteria)}">${esc(filter.value)}</key></Filter></FirewallRule></Get>`
    : '<Get><FirewallRule/></Get>';

const kid = (n: Node | undefined, tag: string) => n?.children.find((c) => c.tag === tag);
const items = (n: Node | undefined, list: string, item: string) =>
  kid(n, list)
    ?.children.filter((c) => c.tag === item)
    .map((c) => c.text);
const rulesOf = (root: Node) => root.children.filter((c) => c.tag === 'FirewallRule');

/** A model with groups G, G6 and H, for rules to refer to. */
function seeded(quirks: ConstructorParameters<typeof EmulatorModel>[0] = {}): EmulatorModel {
  const m = new EmulatorModel(quirks);
  for (const [name, family] of [
    ['G', 'IPv4'],
    ['G6', 'IPv6'],
    ['H', 'IPv4'],
  ] as const) {
    expect(m.setGroup({ name, family }, 'add').code).toBe(200);
  }
  return m;
}

describe('firewall rules in the model', () => {
  it('a seeded rule holds its networks: the group cannot be removed until the rule goes', () => {
    const m = seeded();
    m.firewallRules.add({ name: 'drop banned', action: 'Drop', sourceNetworks: ['G'] });
    expect(m.removeGroup('G').code).toBe(504);
    expect(m.firewallRules.remove('drop banned')).toBe(true);
    expect(m.removeGroup('G').code).toBe(200);
    expect(m.firewallRules.remove('drop banned')).toBe(false);
  });

  it('refuses a rule on a network that does not exist, and a second rule of the same name', () => {
    const m = seeded();
    expect(() => m.firewallRules.add({ name: 'r', action: 'Drop', sourceNetworks: ['nothing'] })).toThrow(/no host or group named nothing/);
    expect(m.firewallRules.list()).toEqual([]);
    m.firewallRules.add({ name: 'r', action: 'Drop', sourceNetworks: ['G'] });
    expect(() => m.firewallRules.add({ name: 'r', action: 'Accept' })).toThrow(/already exists/);
    // Names follow the case quirk, as for hosts and groups.
    m.firewallRules.add({ name: 'R', action: 'Accept' });
    const folded = seeded({ caseSensitiveNames: false });
    folded.firewallRules.add({ name: 'r', action: 'Drop' });
    expect(() => folded.firewallRules.add({ name: 'R', action: 'Accept' })).toThrow(/already exists/);
  });

  it('defaults: enabled Network policy, IPv4, WAN to LAN, Any destination', () => {
    const m = seeded();
    expect(m.firewallRules.add({ name: 'r', action: 'Reject', sourceNetworks: ['G'] })).toEqual({
      name: 'r',
      action: 'Reject',
      sourceNetworks: ['G'],
      destinationNetworks: [],
      status: 'Enable',
      policyType: 'Network',
      ipFamily: 'IPv4',
      description: '',
      sourceZones: ['WAN'],
      destinationZones: ['LAN'],
      services: [],
    });
  });
});

describe('<Get><FirewallRule/></Get>', () => {
  it('answers every rule in order with the SDK/ansible XML shape', async () => {
    const f = await start();
    await f.call(set('add', groupXml({ name: 'f2b_blockings' }), groupXml({ name: 'f2b_blockings6', family: 'IPv6' })));
    f.em.model.firewallRules.add({ name: 'Drop fail2ban', action: 'Drop', sourceNetworks: ['f2b_blockings'], description: 'bans' });
    f.em.model.firewallRules.add({
      name: 'Old v6',
      action: 'Reject',
      status: 'Disable',
      ipFamily: 'IPv6',
      sourceNetworks: ['f2b_blockings6'],
      services: ['HTTPS'],
    });
    f.em.model.firewallRules.add({ name: 'Portal', action: 'Accept', policyType: 'User', destinationNetworks: ['f2b_blockings'] });
    const p = await f.call(getRules());
    const rules = rulesOf(p.root);
    expect(rules.map((r) => kid(r, 'Name')?.text)).toEqual(['Drop fail2ban', 'Old v6', 'Portal']);
    expect(rules.every((r) => r.attrs.transactionid === '')).toBe(true);

    const [drop, v6, portal] = rules;
    expect(drop?.children.map((c) => c.tag)).toEqual([
      'Name',
      'Description',
      'IPFamily',
      'Status',
      'Position',
      'PolicyType',
      'NetworkPolicy',
    ]);
    expect(['Description', 'IPFamily', 'Status', 'PolicyType'].map((t) => kid(drop, t)?.text)).toEqual([
      'bans',
      'IPv4',
      'Enable',
      'Network',
    ]);
    const dropPolicy = kid(drop, 'NetworkPolicy');
    expect(kid(dropPolicy, 'Action')?.text).toBe('Drop');
    expect(items(dropPolicy, 'SourceNetworks', 'Network')).toEqual(['f2b_blockings']);
    expect(items(dropPolicy, 'SourceZones', 'Zone')).toEqual(['WAN']);
    // "Any" is the absence of the list, as the firmware answers it.
    expect(kid(dropPolicy, 'DestinationNetworks')).toBeUndefined();
    expect(kid(dropPolicy, 'Services')).toBeUndefined();

    expect(['Status', 'IPFamily'].map((t) => kid(v6, t)?.text)).toEqual(['Disable', 'IPv6']);
    expect(items(kid(v6, 'NetworkPolicy'), 'Services', 'Service')).toEqual(['HTTPS']);

    expect(kid(portal, 'PolicyType')?.text).toBe('User');
    expect(kid(portal, 'NetworkPolicy')).toBeUndefined();
    const user = kid(portal, 'UserPolicy');
    expect(kid(user, 'Action')?.text).toBe('Accept');
    expect(kid(user, 'SourceNetworks')).toBeUndefined();
    expect(items(user, 'DestinationNetworks', 'Network')).toEqual(['f2b_blockings']);
  });

  it('no rules: the code-less zero-records status, in either firmware spelling', async () => {
    for (const zeroRecordsText of ['No. of records Zero.', 'Number of records Zero.'] as const) {
      const f = await start({ quirks: { zeroRecordsText } });
      const p = await f.call(getRules());
      expect(p.entities).toHaveLength(1);
      expect(p.entities[0]?.tag).toBe('FirewallRule');
      expect(p.entities[0]?.status).toEqual({ text: zeroRecordsText });
    }
  });

  it('filters by Name (=, !=, like) like hosts and groups, following the case quirk', async () => {
    const f = await start({ quirks: { caseSensitiveNames: false } });
    await f.call(set('add', groupXml({ name: 'G' })));
    for (const name of ['Drop bans', 'Drop scanners', 'Allow web'])
      f.em.model.firewallRules.add({ name, action: 'Drop', sourceNetworks: ['G'] });
    const names = async (criteria: string, value: string) =>
      rulesOf((await f.call(getRules({ criteria, value }))).root).map((r) => kid(r, 'Name')?.text ?? `status:${kid(r, 'Status')?.text}`);
    expect(await names('=', 'drop BANS')).toEqual(['Drop bans']);
    expect(await names('!=', 'Drop bans')).toEqual(['Drop scanners', 'Allow web']);
    expect(await names('like', 'drop')).toEqual(['Drop bans', 'Drop scanners']);
    expect(await names('=', 'nothing')).toEqual(['status:No. of records Zero.']);
    const exact = await start();
    await exact.call(set('add', groupXml({ name: 'G' })));
    exact.em.model.firewallRules.add({ name: 'Drop bans', action: 'Drop', sourceNetworks: ['G'] });
    const get = async (value: string) =>
      rulesOf((await exact.call(getRules({ criteria: '=', value }))).root).map((r) => kid(r, 'Name')?.text);
    expect(await get('drop BANS')).toEqual([undefined]);
    expect(await get('Drop bans')).toEqual(['Drop bans']);
  });

  it('rules are read-only: a Set or Remove of FirewallRule refuses the whole request (529)', async () => {
    const f = await start();
    const rule = '<FirewallRule><Name>x</Name><PolicyType>Network</PolicyType></FirewallRule>';
    for (const body of [set('add', rule), `<Remove>${rule}</Remove>`, set('add', groupXml({ name: 'G' }), rule)]) {
      const p = await f.call(body);
      expect(p.status?.code).toBe(529);
      expect(codes(p)).toEqual([]);
    }
    expect(f.em.model.getGroups({ key: 'Name', criteria: '=', value: 'G' })).toEqual([]);
    expect(f.em.stats.writes).toBe(0);
  });

  it('a Get of rules and groups in one request answers both, in order', async () => {
    const f = await start();
    await f.call(set('add', groupXml({ name: 'G' })));
    f.em.model.firewallRules.add({ name: 'r', action: 'Drop', sourceNetworks: ['G'] });
    const p = await f.call('<Get><IPHostGroup/><FirewallRule/></Get>');
    expect(p.entities.map((e) => [e.tag, e.field('Name')])).toEqual([
      ['IPHostGroup', 'G'],
      ['FirewallRule', 'r'],
    ]);
  });
});
