/**
 * Reading firewall rules: the same answers from the in-memory fake and from the XML API client
 * against the emulator (whose rules the tests seed), and the decoder on the XML shapes of Sophos'
 * SDK / ansible collection (one Network is a scalar, several a list, Any is an absent list).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryFirewall } from '../../src/xg/memory.js';
import type { FirewallPort, FirewallRuleView } from '../../src/xg/port.js';
import { decodeRule } from '../../src/xg/rules.js';
import { DryRunPort } from '../../src/xg/dry-run.js';
import { parseResponse } from '../../src/xg/xml.js';
import { startFirewall, type FirewallFixture } from './emulator-fixture.js';

interface Seed {
  name: string;
  action: 'Accept' | 'Drop' | 'Reject';
  sourceNetworks?: string[];
  destinationNetworks?: string[];
  status?: 'Enable' | 'Disable';
  policyType?: 'Network' | 'User';
}

interface RulesFixture {
  port: FirewallPort;
  seedGroup(name: string): Promise<void>;
  seedRule(r: Seed): void;
  teardown(): Promise<void>;
}

const view = (r: Seed): FirewallRuleView => ({
  name: r.name,
  enabled: (r.status ?? 'Enable') === 'Enable',
  action: r.action,
  sourceNetworks: r.sourceNetworks ?? [],
  destinationNetworks: r.destinationNetworks ?? [],
});

function memory(): RulesFixture {
  const fw = new MemoryFirewall();
  return {
    port: fw.port('f2b_'),
    seedGroup: async (name) => fw.addGroup(name, 'IPv4'),
    seedRule: (r) => void fw.rules.push(view(r)),
    teardown: async () => undefined,
  };
}

async function emulator(): Promise<RulesFixture> {
  const f: FirewallFixture = await startFirewall();
  return {
    port: f.client(),
    seedGroup: (name) => f.seedGroup(name, 'IPv4'),
    seedRule: (r) => void f.em.model.firewallRules.add(r),
    teardown: () => f.teardown(),
  };
}

describe.each([
  ['in-memory fake', memory],
  ['XML API client against the HTTPS emulator', emulator],
])('readRules contract: %s', (_name, setup) => {
  let fx: RulesFixture | undefined;
  afterEach(async () => {
    await fx?.teardown();
    fx = undefined;
  });

  it('no rules: an empty list', async () => {
    fx = await setup();
    expect(await fx.port.readRules()).toEqual([]);
  });

  it('every rule in order, with status, action and both network lists (Any = empty)', async () => {
    fx = await setup();
    for (const g of ['f2b_a', 'f2b_b', 'lan']) await fx.seedGroup(g);
    const seeds: Seed[] = [
      { name: 'Drop bans', action: 'Drop', sourceNetworks: ['f2b_a'] },
      { name: 'Reject both', action: 'Reject', sourceNetworks: ['f2b_a', 'f2b_b'], destinationNetworks: ['lan'] },
      { name: 'Off', action: 'Drop', sourceNetworks: ['f2b_b'], status: 'Disable' },
      { name: 'Allow any', action: 'Accept' },
      { name: 'User rule', action: 'Drop', sourceNetworks: ['f2b_b'], policyType: 'User' },
      { name: 'To bans', action: 'Accept', destinationNetworks: ['f2b_a'] },
    ];
    for (const s of seeds) fx.seedRule(s);
    expect(await fx.port.readRules()).toEqual(seeds.map(view));
  });

  it('the dry-run adapter forwards the read', async () => {
    fx = await setup();
    await fx.seedGroup('f2b_a');
    fx.seedRule({ name: 'Drop bans', action: 'Drop', sourceNetworks: ['f2b_a'] });
    const dry = new DryRunPort(fx.port, { print: () => undefined, hostPrefix: 'f2b_' });
    expect(await dry.readRules()).toEqual([view({ name: 'Drop bans', action: 'Drop', sourceNetworks: ['f2b_a'] })]);
  });
});

describe('decodeRule', () => {
  const fields = (xml: string): Record<string, unknown> => {
    const r = parseResponse(
      `<?xml version="1.0"?><Response APIVersion="1905.1"><Login><status>Authentication Successful</status></Login>${xml}</Response>`,
    );
    return r.entities[0]?.fields ?? {};
  };

  it('reads a UserPolicy like a NetworkPolicy, and a scalar Network like a list', () => {
    const f = fields(
      '<FirewallRule transactionid=""><Name>u</Name><Status>Enable</Status><PolicyType>User</PolicyType>' +
        '<UserPolicy><Action>Reject</Action><SourceNetworks><Network>g1</Network></SourceNetworks></UserPolicy></FirewallRule>',
    );
    expect(decodeRule(f)).toEqual({ name: 'u', enabled: true, action: 'Reject', sourceNetworks: ['g1'], destinationNetworks: [] });
  });

  it('several Networks; Disable; no policy at all reads as no action', () => {
    expect(
      decodeRule(
        fields(
          '<FirewallRule><Name>n</Name><Status>Disable</Status><NetworkPolicy><Action>Drop</Action>' +
            '<SourceNetworks><Network>a</Network><Network>b</Network></SourceNetworks></NetworkPolicy></FirewallRule>',
        ),
      ),
    ).toEqual({ name: 'n', enabled: false, action: 'Drop', sourceNetworks: ['a', 'b'], destinationNetworks: [] });
    expect(decodeRule(fields('<FirewallRule><Name>w</Name><Status>Enable</Status></FirewallRule>'))).toMatchObject({
      action: '',
      sourceNetworks: [],
    });
  });

  it('a result status without a name is not a rule', () => {
    expect(decodeRule(fields('<FirewallRule><Status code="500">Operation failed.</Status></FirewallRule>'))).toBeUndefined();
  });
});
