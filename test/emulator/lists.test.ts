/**
 * IPList hosts as the packed-lists mode uses them (reference §3.1, §4.2, §4.3, §9 limits):
 * both families, the group's family, the 1000-address cap, full-replace updates, the
 * 60-character name limit on every entity, and several lists in one request.
 */
import { describe, expect, it } from 'vitest';
import { EmulatorModel, type HostInput } from '../../src/emulator/model.js';
import { codes, emulatorsPerTest, get, groupXml, hostXml, removeName, remove, set } from './helpers.js';

const v4 = (n: number, base = 0) =>
  Array.from({ length: n }, (_, i) => `198.${18 + ((base + i) >> 16)}.${((base + i) >> 8) & 255}.${(base + i) & 255}`);
const v6 = (n: number, base = 0) => Array.from({ length: n }, (_, i) => `2001:db8::${(base + i).toString(16)}`);
const list = (name: string, addresses: string[], extra: Partial<HostInput> = {}): HostInput => ({
  name,
  hostType: 'IPList',
  listOfIPAddresses: addresses.join(','),
  ...extra,
});

function model(quirks = {}) {
  const m = new EmulatorModel(quirks);
  m.seedGroup({ name: 'G4', family: 'IPv4' });
  m.seedGroup({ name: 'G6', family: 'IPv6' });
  return m;
}

describe('IPList: families', () => {
  it('an IPv4 list joins an IPv4 group, an IPv6 list an IPv6 group; the other way round is 501', () => {
    const m = model();
    expect(m.setHost(list('l4', v4(3), { groups: ['G4'] }), 'add').code).toBe(200);
    expect(m.setHost(list('l6', v6(3), { family: 'IPv6', groups: ['G6'] }), 'add').code).toBe(200);
    expect(m.groupMembers('G4')).toEqual(['l4']);
    expect(m.groupMembers('G6')).toEqual(['l6']);
    expect(m.setHost(list('x4', v4(3, 10), { groups: ['G6'] }), 'add').code).toBe(501);
    expect(m.setHost(list('x6', v6(3, 10), { family: 'IPv6', groups: ['G4'] }), 'add').code).toBe(501);
    expect(m.setGroup({ name: 'G6', family: 'IPv6', hosts: ['l6', 'l4'] }, 'update').code).toBe(501);
    expect(m.hostByName('x4')).toBeUndefined();
    expect(m.hostByName('x6')).toBeUndefined();
  });

  it('an address of the other family inside a list is 501 (IPFamily omitted means IPv4)', () => {
    const m = model();
    expect(m.setHost(list('a', [...v4(2), '2001:db8::1']), 'add').code).toBe(501);
    expect(m.setHost(list('b', [...v6(2), '198.18.0.9'], { family: 'IPv6' }), 'add').code).toBe(501);
    expect(m.setHost(list('c', v6(2)), 'add').code).toBe(501);
    expect(m.setHost(list('d', ['198.18.0.1', '']), 'add').code).toBe(501);
    expect(m.hostCount).toBe(0);
  });
});

describe('IPList: the address cap', () => {
  it('1000 addresses per list by default, on add and on update; a refused update leaves the list as it was', () => {
    const m = model();
    expect(m.setHost(list('l', v4(1000), { groups: ['G4'] }), 'add').code).toBe(200);
    expect(m.setHost(list('l', v4(1001), { groups: ['G4'] }), 'update').code).toBe(501);
    expect(m.hostByName('l')?.listOfIPAddresses?.split(',')).toHaveLength(1000);
    expect(m.hostByName('l')?.groups).toEqual(['G4']);
  });

  it('the cap is the maxIpListAddresses quirk', () => {
    const m = model({ maxIpListAddresses: 3 });
    expect(m.setHost(list('l', v4(3)), 'add').code).toBe(200);
    expect(m.setHost(list('k', v4(4, 10)), 'add').code).toBe(501);
  });
});

describe('IPList: update replaces the whole list', () => {
  it('the new ListOfIPAddresses replaces the old one; omitted HostGroupList takes the list out of the group', () => {
    const m = model();
    m.seedHost(list('l', v4(5), { groups: ['G4'], description: 'd' }));
    expect(m.setHost(list('l', v4(2, 100), { groups: ['G4'] }), 'update').code).toBe(200);
    expect(m.hostByName('l')).toMatchObject({ listOfIPAddresses: v4(2, 100).join(','), groups: ['G4'], description: '' });
    expect(m.setHost(list('l', v4(2, 100)), 'update').code).toBe(200);
    expect(m.groupMembers('G4')).toEqual([]);
    expect(m.removeHost('l').code).toBe(200);
  });

  it('an update without ListOfIPAddresses is 501 (a list needs at least one address); the old one stays', () => {
    const m = model();
    m.seedHost(list('l', v4(2), { groups: ['G4'] }));
    expect(m.setHost({ name: 'l', hostType: 'IPList', groups: ['G4'] }, 'update').code).toBe(501);
    expect(m.hostByName('l')?.listOfIPAddresses).toBe(v4(2).join(','));
  });

  it('two lists with the same addresses are 503, in any order of the addresses; after an update the old content is free', () => {
    const m = model();
    m.seedHost(list('a', v4(3)));
    expect(m.setHost(list('b', [...v4(3)].reverse()), 'add').code).toBe(503);
    expect(m.setHost(list('b', v4(4)), 'add').code).toBe(200);
    expect(m.setHost(list('a', v4(2, 50)), 'update').code).toBe(200);
    expect(m.setHost(list('c', v4(3)), 'add').code).toBe(200);
  });

  it('a member list cannot be removed (510) until it leaves the group', () => {
    const m = model();
    m.seedHost(list('l', v4(2), { groups: ['G4'] }));
    expect(m.removeHost('l').code).toBe(510);
    expect(m.setGroup({ name: 'G4', family: 'IPv4' }, 'update').code).toBe(200);
    expect(m.removeHost('l').code).toBe(200);
  });
});

describe('names: 60 characters for every entity', () => {
  it.each([
    ['IPHost (IP)', (m: EmulatorModel, n: string) => m.setHost({ name: n, hostType: 'IP', ipAddress: '198.18.9.9' }, 'add')],
    ['IPHost (IPList)', (m: EmulatorModel, n: string) => m.setHost(list(n, v4(2, 300)), 'add')],
    ['IPHostGroup', (m: EmulatorModel, n: string) => m.setGroup({ name: n, family: 'IPv4' }, 'add')],
  ])('%s: 60 accepted, 61 refused with 501 "Configuration parameters validation failed."', (_, add) => {
    const m = model();
    expect(add(m, 'x'.repeat(61))).toEqual({ code: 501, text: 'Configuration parameters validation failed.' });
    expect(add(m, 'x'.repeat(60)).code).toBe(200);
  });

  it('counts characters, not bytes: 60 non-ASCII characters fit', () => {
    const m = model();
    expect(m.setGroup({ name: 'é'.repeat(60), family: 'IPv4' }, 'add').code).toBe(200);
    expect(m.setGroup({ name: '😀'.repeat(61), family: 'IPv4' }, 'add').code).toBe(501);
  });
});

const start = emulatorsPerTest();

describe('IPList over HTTPS', () => {
  it('several lists in one Set, then the group update and a Remove in the same request: one result each, in order', async () => {
    const f = await start();
    await f.call(set('add', groupXml({ name: 'G4', family: 'IPv4' })));
    const a = { name: 'f2b_G4.list1', type: 'IPList', list: v4(1000).join(','), groups: ['G4'] };
    const b = { name: 'f2b_G4.list2', type: 'IPList', list: v4(1000, 1000).join(','), groups: ['G4'] };
    const c = { name: 'f2b_G4.list3', type: 'IPList', list: v4(1001, 2000).join(','), groups: ['G4'] };
    const writesBefore = f.em.stats.writes;
    const r = await f.call(set('add', hostXml(a), hostXml(b), hostXml(c)));
    expect(codes(r)).toEqual([200, 200, 501]);
    expect(f.em.stats.writes - writesBefore).toBe(1);
    expect(f.em.model.groupMembers('G4').sort()).toEqual([a.name, b.name]);

    const r2 = await f.call(
      set('update', hostXml({ ...b, list: v4(3, 5000).join(',') })) +
        set('update', groupXml({ name: 'G4', family: 'IPv4', hosts: [b.name] })) +
        remove(removeName('IPHost', a.name)),
    );
    expect(codes(r2)).toEqual([200, 200, 200]);
    expect(f.em.model.hostByName(a.name)).toBeUndefined();
    expect(f.em.model.hostByName(b.name)?.listOfIPAddresses).toBe(v4(3, 5000).join(','));
  });

  it('Get returns the list in ListOfIPAddresses after HostGroupList; stats count the objects read', async () => {
    const f = await start();
    f.em.model.seedGroup({ name: 'G6', family: 'IPv6' });
    f.em.model.seedHost(list('l6', v6(3), { family: 'IPv6', groups: ['G6'] }));
    const before = f.em.stats.objectsRead;
    const r = await f.call(get('IPHost', { key: 'Name', criteria: '=', value: 'l6' }));
    expect(r.entities).toHaveLength(1);
    expect(r.entities[0]?.order).toEqual(['Name', 'IPFamily', 'HostType', 'HostGroupList', 'ListOfIPAddresses']);
    expect(r.entities[0]?.field('ListOfIPAddresses')).toBe(v6(3).join(','));
    expect(f.em.stats.objectsRead - before).toBe(1);
    await f.call(get('IPHost'));
    // the nine seeded system hosts plus the list
    expect(f.em.stats.objectsRead - before).toBe(11);
    expect(f.em.stats.bytesOut).toBeGreaterThan(0);
  });
});
