import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EmulatorModel, SeedError, SYSTEM_HOSTS, type HostInput } from '../../src/emulator/model.js';

const ip = (name: string, address: string, extra: Partial<HostInput> = {}): HostInput => ({
  name,
  hostType: 'IP',
  ipAddress: address,
  ...extra,
});

function withGroup(quirks = {}) {
  const m = new EmulatorModel(quirks);
  m.seedGroup({ name: 'G', description: 'd', family: 'IPv4' });
  return m;
}

describe('EmulatorModel: system hosts', () => {
  it('seeds the built-in hosts, listed first by a full Get and read-only', () => {
    const m = new EmulatorModel();
    const all = m.getHosts();
    expect(all.map((h) => h.name)).toEqual(SYSTEM_HOSTS.map((s) => s.name));
    expect(all.every((h) => h.hostType === 'System Host' && h.ipAddress === undefined)).toBe(true);
    expect(m.hostByName('##ALL_RW6')?.family).toBe('IPv6');
    expect(m.removeHost('#Port1').code).toBe(528);
    expect(m.setHost(ip('##ALL_RW', '10.0.0.1'), 'update').code).toBe(528);
    expect(m.hostCount).toBe(0);
    expect(m.dump().hosts).toEqual([]);
  });
});

describe('EmulatorModel: IPHost add', () => {
  it('adds, then answers 502 for the same name and 503 for the same address under another name', () => {
    const m = new EmulatorModel();
    expect(m.setHost(ip('a', '203.0.113.7'), 'add')).toEqual({ code: 200, text: 'Configuration applied successfully.' });
    expect(m.setHost(ip('a', '203.0.113.8'), 'add').code).toBe(502);
    expect(m.setHost(ip('b', '203.0.113.7'), 'add')).toEqual({
      code: 503,
      text: 'Operation failed. Entity having same parameter details already exists.',
    });
    expect(m.hostByName('a')).toEqual({ name: 'a', family: 'IPv4', hostType: 'IP', ipAddress: '203.0.113.7', description: '', groups: [] });
  });

  it('compares IPv6 content in canonical form (503) but stores the text as sent', () => {
    const m = new EmulatorModel();
    expect(m.setHost(ip('v6', '2001:DB8:0::1', { family: 'IPv6' }), 'add').code).toBe(200);
    expect(m.setHost(ip('v6b', '2001:db8::1', { family: 'IPv6' }), 'add').code).toBe(503);
    expect(m.hostByName('v6')?.ipAddress).toBe('2001:DB8:0::1');
  });

  it('accepts every settable host type with valid fields', () => {
    const m = new EmulatorModel();
    const ok = [
      { name: 'net4', hostType: 'Network', ipAddress: '198.51.100.0', subnet: '255.255.255.0' },
      { name: 'net6', family: 'IPv6', hostType: 'Network', ipAddress: '2001:db8::', subnet: '64' },
      { name: 'range', hostType: 'IPRange', startIPAddress: '10.0.0.1', endIPAddress: '10.0.0.9' },
      { name: 'list', hostType: 'IPList', listOfIPAddresses: '10.1.0.1, 10.1.0.2' },
    ];
    for (const h of ok) expect(m.setHost(h, 'add').code, h.name).toBe(200);
    expect(m.hostByName('list')?.listOfIPAddresses).toBe('10.1.0.1,10.1.0.2');
    expect(m.hostByName('range')).toMatchObject({ startIPAddress: '10.0.0.1', endIPAddress: '10.0.0.9' });
  });

  it.each([
    ['bad family', ip('x', '10.0.0.1', { family: 'IPv5' })],
    ['IPv6 address in an IPv4 host (IPFamily omitted → IPv4)', ip('x', '2001:db8::1')],
    ['IPv4 address in an IPv6 host', ip('x', '10.0.0.1', { family: 'IPv6' })],
    ['missing HostType', { name: 'x', ipAddress: '10.0.0.1' }],
    ['System Host type', { name: 'x', hostType: 'System Host' }],
    ['unparsable address', ip('x', '10.0.0.256')],
    ['CIDR in an IP host', ip('x', '10.0.0.0/24')],
    ['missing address', { name: 'x', hostType: 'IP' }],
    ['non-contiguous mask', { name: 'x', hostType: 'Network', ipAddress: '10.0.0.0', subnet: '255.0.255.0' }],
    ['IPv6 prefix over 128', { name: 'x', family: 'IPv6', hostType: 'Network', ipAddress: '2001:db8::', subnet: '129' }],
    ['range end before start', { name: 'x', hostType: 'IPRange', startIPAddress: '10.0.0.9', endIPAddress: '10.0.0.1' }],
    ['empty IPList', { name: 'x', hostType: 'IPList', listOfIPAddresses: '' }],
    ['IPList with a bad entry', { name: 'x', hostType: 'IPList', listOfIPAddresses: '10.0.0.1,nope' }],
    ['empty name', ip('', '10.0.0.1')],
    ['name with a comma', ip('a,b', '10.0.0.1')],
    ['name starting with #', ip('#mine', '10.0.0.1')],
    ['name of 61 characters', ip('n'.repeat(61), '10.0.0.1')],
    ['description of 256 characters', ip('x', '10.0.0.1', { description: 'd'.repeat(256) })],
    ['unknown group', ip('x', '10.0.0.1', { groups: ['nope'] })],
  ])('refuses %s with 501', (_label, input) => {
    const m = new EmulatorModel();
    expect(m.setHost(input as HostInput, 'add')).toEqual({ code: 501, text: 'Configuration parameters validation failed.' });
    expect(m.hostCount).toBe(0);
  });

  it('validates before the name clash: an invalid add of an existing name is 501, not 502', () => {
    const m = new EmulatorModel();
    m.seedHost(ip('a', '10.0.0.1'));
    expect(m.setHost(ip('a', 'bogus'), 'add').code).toBe(501);
  });

  it('name length limit is a switch (60 by default, 50 as janweis validates)', () => {
    expect(new EmulatorModel().setHost(ip('n'.repeat(60), '10.0.0.1'), 'add').code).toBe(200);
    const strict = new EmulatorModel({ maxNameLength: 50 });
    expect(strict.setHost(ip('n'.repeat(51), '10.0.0.1'), 'add').code).toBe(501);
    expect(strict.setHost(ip('n'.repeat(50), '10.0.0.1'), 'add').code).toBe(200);
  });

  it("':' in names is accepted unless switched off", () => {
    const name = 'f2b_2001:db8::1';
    expect(new EmulatorModel().setHost(ip(name, '2001:db8::1', { family: 'IPv6' }), 'add').code).toBe(200);
    expect(new EmulatorModel({ colonInNames: false }).setHost(ip(name, '2001:db8::1', { family: 'IPv6' }), 'add').code).toBe(501);
  });

  it('IPList holds at most 1000 addresses (switchable)', () => {
    const list = (n: number) => Array.from({ length: n }, (_, i) => `10.${i >> 8}.${i & 255}.1`).join(',');
    const m = new EmulatorModel();
    expect(m.setHost({ name: 'l1000', hostType: 'IPList', listOfIPAddresses: list(1000) }, 'add').code).toBe(200);
    expect(m.setHost({ name: 'l1001', hostType: 'IPList', listOfIPAddresses: list(1001) }, 'add').code).toBe(501);
    expect(
      new EmulatorModel({ maxIpListAddresses: 1001 }).setHost({ name: 'l', hostType: 'IPList', listOfIPAddresses: list(1001) }, 'add').code,
    ).toBe(200);
  });

  it('names are case-sensitive by default, case-insensitive when switched', () => {
    const cs = new EmulatorModel();
    cs.seedHost(ip('Foo', '10.0.0.1'));
    expect(cs.setHost(ip('foo', '10.0.0.2'), 'add').code).toBe(200);
    const ci = new EmulatorModel({ caseSensitiveNames: false });
    ci.seedHost(ip('Foo', '10.0.0.1'));
    expect(ci.setHost(ip('foo', '10.0.0.2'), 'add').code).toBe(502);
    expect(ci.hostByName('FOO')?.name).toBe('Foo');
    expect(ci.getHosts({ key: 'Name', criteria: '=', value: 'fOO' }).map((h) => h.name)).toEqual(['Foo']);
  });
});

describe('EmulatorModel: membership is one relation', () => {
  it('a host added with HostGroupList is listed by the group, and the reverse', () => {
    const m = withGroup();
    m.seedHost(ip('h1', '10.0.0.1', { groups: ['G'] }));
    expect(m.groupMembers('G')).toEqual(['h1']);
    m.seedHost(ip('h2', '10.0.0.2'));
    expect(m.setGroup({ name: 'G', description: 'd', hosts: ['h1', 'h2'] }, 'update').code).toBe(200);
    expect(m.hostByName('h2')?.groups).toEqual(['G']);
    expect(m.getHosts({ key: 'Name', criteria: '=', value: 'h1' })[0]?.groups).toEqual(['G']);
  });

  it('family mismatch between host and group is 501 from either side', () => {
    const m = withGroup();
    m.seedGroup({ name: 'G6', family: 'IPv6' });
    m.seedHost(ip('h6', '2001:db8::1', { family: 'IPv6' }));
    expect(m.setHost(ip('h4', '10.0.0.1', { groups: ['G6'] }), 'add').code).toBe(501);
    expect(m.setGroup({ name: 'G', hosts: ['h6'] }, 'update').code).toBe(501);
    expect(m.setGroup({ name: 'G7', hosts: ['#Port1'] }, 'add').code).toBe(501);
    expect(m.groupMembers('G')).toEqual([]);
  });

  it('add naming a missing member is 501; update naming one is 500, or 501 when switched', () => {
    for (const [quirk, code] of [
      [500, 500],
      [501, 501],
    ] as const) {
      const m = withGroup({ updateMissingMemberCode: quirk });
      expect(m.setGroup({ name: 'N', hosts: ['ghost'] }, 'add').code).toBe(501);
      expect(m.setGroup({ name: 'G', hosts: ['ghost'] }, 'update').code).toBe(code);
      m.seedHost(ip('h', '10.0.0.1'));
      expect(m.setHost(ip('h', '10.0.0.1', { groups: ['ghost'] }), 'update').code).toBe(code);
    }
  });
});

describe('EmulatorModel: update replaces the whole object', () => {
  it('omitted HostList empties the group, omitted Description clears it, omitted IPFamily resets to IPv4', () => {
    const m = withGroup();
    m.seedHost(ip('h1', '10.0.0.1', { groups: ['G'] }));
    expect(m.setGroup({ name: 'G' }, 'update').code).toBe(200);
    expect(m.groupByName('G')).toMatchObject({ description: '', family: 'IPv4', members: [] });
    expect(m.hostByName('h1')?.groups).toEqual([]);
    m.seedGroup({ name: 'G6', family: 'IPv6', description: 'six' });
    m.setGroup({ name: 'G6', description: 'six' }, 'update');
    expect(m.groupByName('G6')?.family).toBe('IPv4');
  });

  it('a partial HostList leaves only those members', () => {
    const m = withGroup();
    for (const n of [1, 2, 3]) m.seedHost(ip(`h${n}`, `10.0.0.${n}`, { groups: ['G'] }));
    m.setGroup({ name: 'G', description: 'd', hosts: ['h3'] }, 'update');
    expect(m.groupMembers('G')).toEqual(['h3']);
    expect(m.hostByName('h1')?.groups).toEqual([]);
  });

  it('a host update without HostGroupList takes it out of every group; fields of the old type vanish', () => {
    const m = withGroup();
    m.seedGroup({ name: 'H' });
    m.seedHost(ip('h', '10.0.0.1', { groups: ['G', 'H'], description: 'x' }));
    expect(m.setHost({ name: 'h', hostType: 'Network', ipAddress: '10.0.0.0', subnet: '255.255.255.0' }, 'update').code).toBe(200);
    expect(m.hostByName('h')).toEqual({
      name: 'h',
      family: 'IPv4',
      hostType: 'Network',
      ipAddress: '10.0.0.0',
      subnet: '255.255.255.0',
      description: '',
      groups: [],
    });
    expect(m.groupMembers('G')).toEqual([]);
  });

  it('updating a missing name is 500 (526 when switched); an unchanged update is 200, another holder is 503', () => {
    expect(new EmulatorModel().setHost(ip('x', '10.0.0.1'), 'update').code).toBe(500);
    expect(new EmulatorModel({ updateMissingCode: 526 }).setGroup({ name: 'x' }, 'update')).toEqual({
      code: 526,
      text: 'Record does not exist.',
    });
    const m = new EmulatorModel();
    m.seedHost(ip('a', '10.0.0.1'));
    m.seedHost(ip('b', '10.0.0.2'));
    expect(m.setHost(ip('a', '10.0.0.1'), 'update').code).toBe(200);
    expect(m.setHost(ip('a', '10.0.0.2'), 'update').code).toBe(503);
  });

  it('Set without operation upserts by default, adds only when switched', () => {
    const m = new EmulatorModel();
    expect(m.setHost(ip('a', '10.0.0.1'), 'upsert').code).toBe(200);
    expect(m.setHost(ip('a', '10.0.0.9'), 'upsert').code).toBe(200);
    expect(m.hostByName('a')?.ipAddress).toBe('10.0.0.9');
    // the handler maps the 'add' switch to mode 'add'
    expect(m.setHost(ip('a', '10.0.0.8'), 'add').code).toBe(502);
  });
});

describe('EmulatorModel: remove', () => {
  it('a member host cannot be removed (510, switchable to 504/509); a free one can', () => {
    for (const code of [510, 504, 509] as const) {
      const m = withGroup({ removeReferencedHostCode: code });
      m.seedHost(ip('h', '10.0.0.1', { groups: ['G'] }));
      expect(m.removeHost('h')).toEqual({ code, text: 'Operation failed. Deleting entity referred by another entity.' });
      m.setGroup({ name: 'G', description: 'd' }, 'update');
      expect(m.removeHost('h').code).toBe(200);
      expect(m.hostByName('h')).toBeUndefined();
    }
  });

  it('a host or group used by a firewall rule cannot be removed until the rule goes', () => {
    const m = withGroup({ removeReferencedGroupCode: 510 });
    m.seedHost(ip('h', '10.0.0.1'));
    m.referenceHost('h');
    m.addRule('drop G', ['G']);
    expect(m.removeHost('h').code).toBe(510);
    expect(m.removeGroup('G').code).toBe(510);
    expect(m.dump().rules).toEqual([
      { name: 'rule:h', refs: ['h'] },
      { name: 'drop G', refs: ['G'] },
    ]);
    expect(m.removeRule('drop G')).toBe(true);
    expect(m.removeGroup('G').code).toBe(200);
    expect(() => m.addRule('r', ['nothing'])).toThrow(/no host or group named nothing/);
  });

  it('a group referenced by a rule answers 504 by default', () => {
    const m = withGroup();
    m.addRule('drop G', ['G']);
    expect(m.removeGroup('G').code).toBe(504);
  });

  it('removing a missing name is 528 (526 when switched)', () => {
    expect(new EmulatorModel().removeHost('nope')).toEqual({
      code: 528,
      text: 'Trying to update default entities which are not editable.',
    });
    expect(new EmulatorModel({ removeMissingHostCode: 526 }).removeHost('nope').code).toBe(526);
    expect(new EmulatorModel({ removeMissingGroupCode: 526 }).removeGroup('nope').code).toBe(526);
  });

  it('removing an unreferenced group keeps its hosts and clears their HostGroupList', () => {
    const m = withGroup();
    m.seedHost(ip('h', '10.0.0.1', { groups: ['G'] }));
    expect(m.removeGroup('G').code).toBe(200);
    expect(m.hostByName('h')?.groups).toEqual([]);
    expect(m.removeHost('h').code).toBe(200);
  });

  it('Remove with HostList empties and corrupts the group; later updates fail with 500 until recreated', () => {
    const m = withGroup();
    m.seedHost(ip('h1', '10.0.0.1', { groups: ['G'] }));
    m.seedHost(ip('h2', '10.0.0.2', { groups: ['G'] }));
    expect(m.removeGroup('G', ['h1']).code).toBe(200);
    expect(m.groupMembers('G')).toEqual([]);
    expect(m.corrupted).toEqual(['G']);
    expect(m.setGroup({ name: 'G', description: 'd', hosts: ['h2'] }, 'update').code).toBe(500);
    expect(m.setHost(ip('h2', '10.0.0.2', { groups: ['G'] }), 'update').code).toBe(500);
    expect(m.removeGroup('G').code).toBe(200);
    m.seedGroup({ name: 'G', description: 'd', hosts: ['h2'] });
    expect(m.corrupted).toEqual([]);
  });

  it('with the corruption switched off, Remove with HostList drops just those members', () => {
    const m = withGroup({ removeWithHostListCorrupts: false });
    m.seedHost(ip('h1', '10.0.0.1', { groups: ['G'] }));
    m.seedHost(ip('h2', '10.0.0.2', { groups: ['G'] }));
    m.removeGroup('G', ['h1']);
    expect(m.groupMembers('G')).toEqual(['h2']);
    expect(m.corrupted).toEqual([]);
  });
});

describe('EmulatorModel: Get filters', () => {
  const m = new EmulatorModel();
  m.seedGroup({ name: 'blocked' });
  m.seedHost(ip('f2b_10.0.0.1', '10.0.0.1'));
  m.seedHost(ip('f2b_10.0.0.2', '10.0.0.2'));
  m.seedHost(ip('admin_x', '192.0.2.1'));
  const names = (key: string, criteria: string, value: string) => m.getHosts({ key, criteria, value }).map((h) => h.name);
  const own = (xs: string[]) => xs.filter((n) => !n.startsWith('#'));

  it('=, != and like (substring) on the first key', () => {
    expect(names('Name', '=', 'admin_x')).toEqual(['admin_x']);
    expect(names('IPAddress', '=', '10.0.0.2')).toEqual(['f2b_10.0.0.2']);
    expect(own(names('Name', '!=', 'admin_x'))).toEqual(['f2b_10.0.0.1', 'f2b_10.0.0.2']);
    expect(names('Name', 'like', 'f2b_')).toEqual(['f2b_10.0.0.1', 'f2b_10.0.0.2']);
    expect(m.getGroups({ key: 'Name', criteria: 'like', value: 'lock' }).map((g) => g.name)).toEqual(['blocked']);
  });

  it('an unknown key or criteria is silently ignored: everything comes back', () => {
    expect(names('Colour', '=', 'red')).toHaveLength(SYSTEM_HOSTS.length + 3);
    expect(names('Name', '~', 'x')).toHaveLength(SYSTEM_HOSTS.length + 3);
  });

  it('no match is an empty list', () => {
    expect(names('Name', '=', 'nope')).toEqual([]);
  });
});

describe('EmulatorModel: seeds and dump', () => {
  it('seed helpers throw SeedError carrying the refusal', () => {
    const m = new EmulatorModel();
    m.seedHost(ip('a', '10.0.0.1'));
    const err = (() => {
      try {
        m.seedHost(ip('a', '10.0.0.2'));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(SeedError);
    expect((err as SeedError).status.code).toBe(502);
    expect((err as SeedError).retryable).toBe(false);
  });

  it('dump is JSON-serialisable and lists hosts, groups with members and rules', () => {
    const m = withGroup();
    m.seedHost(ip('h', '10.0.0.1', { groups: ['G'] }));
    m.addRule('drop', ['G']);
    const d = JSON.parse(JSON.stringify(m.dump())) as ReturnType<EmulatorModel['dump']>;
    expect(d).toEqual({
      hosts: [{ name: 'h', family: 'IPv4', hostType: 'IP', ipAddress: '10.0.0.1', description: '', groups: ['G'] }],
      groups: [{ name: 'G', description: 'd', family: 'IPv4', members: ['h'], corrupted: false }],
      rules: [{ name: 'drop', refs: ['G'] }],
    });
  });
});

describe('EmulatorModel: invariant', () => {
  it('membership reads the same from both sides after any sequence of operations', () => {
    const names = ['a', 'b', 'c', 'd'];
    const groups = ['G1', 'G2'];
    const op = fc.oneof(
      fc.record({
        k: fc.constant('host' as const),
        n: fc.constantFrom(...names),
        gs: fc.option(fc.subarray(groups), { nil: undefined }),
        mode: fc.constantFrom('add', 'update', 'upsert') as fc.Arbitrary<'add' | 'update' | 'upsert'>,
      }),
      fc.record({
        k: fc.constant('group' as const),
        n: fc.constantFrom(...groups),
        hs: fc.option(fc.subarray(names), { nil: undefined }),
        mode: fc.constantFrom('add', 'update', 'upsert') as fc.Arbitrary<'add' | 'update' | 'upsert'>,
      }),
      fc.record({ k: fc.constant('rmHost' as const), n: fc.constantFrom(...names) }),
      fc.record({
        k: fc.constant('rmGroup' as const),
        n: fc.constantFrom(...groups),
        hs: fc.option(fc.subarray(names), { nil: undefined }),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.boolean(), (ops, corrupts) => {
        const m = new EmulatorModel({ removeWithHostListCorrupts: corrupts });
        for (const o of ops) {
          if (o.k === 'host') m.setHost({ ...ip(o.n, `10.0.0.${names.indexOf(o.n) + 1}`), groups: o.gs }, o.mode);
          else if (o.k === 'group') m.setGroup({ name: o.n, hosts: o.hs }, o.mode);
          else if (o.k === 'rmHost') m.removeHost(o.n);
          else m.removeGroup(o.n, o.hs);
        }
        const d = m.dump();
        for (const g of d.groups) {
          for (const h of g.members) expect(m.hostByName(h)?.groups).toContain(g.name);
        }
        for (const h of d.hosts) {
          for (const g of h.groups) expect(m.groupMembers(g)).toContain(h.name);
        }
        for (const g of d.groups) if (g.corrupted) expect(g.members).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});
