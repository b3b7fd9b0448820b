import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { SYSTEM_HOSTS } from '../../src/emulator/index.js';
import { codes, doc, get, groupXml, hostXml, login, parse, remove, removeName, set, emulatorsPerTest } from './helpers.js';

const start = emulatorsPerTest();

describe('transport and envelope', () => {
  for (const transport of ['urlencoded', 'multipart', 'get'] as const) {
    it(`accepts reqxml by ${transport}`, async () => {
      const f = await start();
      const r = await f.send(doc(get('IPHost')), transport);
      expect(r.status).toBe(200);
      expect(r.contentType).toBe('text/xml; charset=UTF-8');
      expect(r.body.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<Response ')).toBe(true);
      const p = parse(r.body);
      expect(p.login).toBe('Authentication Successful');
      expect(p.entities.map((e) => e.field('Name'))).toEqual(SYSTEM_HOSTS.map((s) => s.name));
    });
  }

  it('root attributes follow the configured APIVersion (IS_WIFI6 from 2000.2 on)', async () => {
    const f = await start();
    expect((await f.call('')).root.attrs).toEqual({ APIVersion: '2000.2', IPS_CAT_VER: '1', IS_WIFI6: '0' });
    const old = await start({ apiVersion: '1905.1' });
    expect((await old.call('')).root.attrs).toEqual({ APIVersion: '1905.1', IPS_CAT_VER: '1' });
  });

  it('a Login-only request is a credentials check', async () => {
    const f = await start();
    const p = await f.call('');
    expect(p.login).toBe('Authentication Successful');
    expect(p.entities).toEqual([]);
    expect(f.em.stats.requests).toBe(1);
    expect(f.em.stats.writes).toBe(0);
  });

  it('bad credentials answer only the lower-case login status and process nothing', async () => {
    const f = await start({ users: { api: 'S3cr&t<pw>' } });
    const bad = await f.call(set('add', groupXml({ name: 'G' })), login('api', 'wrong'));
    expect(bad.login).toBe('Authentication Failure');
    expect(bad.entities).toEqual([]);
    expect(bad.root.children.map((c) => c.tag)).toEqual(['Login']);
    expect(f.em.model.groupByName('G')).toBeUndefined();
    expect(f.em.stats.authFailures).toBe(1);
    // an escaped special-character password works
    expect((await f.call('', login('api', 'S3cr&t<pw>'))).login).toBe('Authentication Successful');
    expect((await f.call('', '')).login).toBe('Authentication Failure');
  });

  it('accepts a known passwordform="encrypt" ciphertext', async () => {
    const f = await start({ encryptedPasswords: { '8b1e6eb1b182b1806390ffefc99753fc': 'admin' } });
    expect((await f.call('', login('admin', '8b1e6eb1b182b1806390ffefc99753fc', ' passwordform="encrypt"'))).login).toBe(
      'Authentication Successful',
    );
    expect((await f.call('', login('admin', 'admin', ' passwordform="encrypt"'))).login).toBe('Authentication Failure');
  });

  it('534 for a source address outside the allow-list, before anything else', async () => {
    const f = await start({ allowList: ['192.0.2.10'] });
    const p = await f.call(set('add', groupXml({ name: 'G' })));
    expect(p.status).toEqual({ code: 534, text: 'API operations are not allowed from the requester IP address' });
    expect(p.login).toBeUndefined();
    expect(f.em.model.groupByName('G')).toBeUndefined();
  });

  it('532 when the API is not enabled', async () => {
    const f = await start({ apiEnabled: false });
    const p = await f.call('');
    expect(p.status).toEqual({ code: 532, text: 'You need to enable the API Configuration.' });
    expect(p.login).toBeUndefined();
  });

  it.each([
    ['junk', 'this is not xml'],
    ['unclosed tags', '<Request><Login><Username>admin</Username>'],
    ['a wrong root', `<Req>${'<Login/>'}</Req>`],
    ['an empty field', ''],
  ])('529 for %s', async (_label, body) => {
    const f = await start();
    const p = parse((await f.send(body)).body);
    expect(p.status).toEqual({ code: 529, text: 'Input request file is Invalid' });
    expect(p.login).toBeUndefined();
  });

  it('529 when the form field is missing or the body was not URL-encoded (cut at the first &)', async () => {
    const f = await start();
    const missing = await request(f.em.url, {
      method: 'POST',
      dispatcher: f.agent,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'other=1',
    });
    expect(parse(await missing.body.text()).status?.code).toBe(529);
    const unencoded = `reqxml=${doc(set('add', groupXml({ name: 'a&b' })))}`;
    const cut = await request(f.em.url, {
      method: 'POST',
      dispatcher: f.agent,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: unencoded,
    });
    expect(parse(await cut.body.text()).status?.code).toBe(529);
  });

  it('a DOCTYPE (entity-expansion bomb) is refused with 529 without expanding anything', async () => {
    const f = await start();
    const lol = Array.from({ length: 9 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`).join('');
    const bomb = `<?xml version="1.0"?><!DOCTYPE Request [<!ENTITY l0 "lol">${lol}]><Request>${login('admin', 'admin')}<Get><IPHost><Filter><key name="Name" criteria="=">&l9;</key></Filter></IPHost></Get></Request>`;
    const p = parse((await f.send(bomb)).body);
    expect(p.status?.code).toBe(529);
  });

  it('an unknown entity or operation makes the whole request 529 "Input request module is Invalid"', async () => {
    const f = await start();
    const p = await f.call(`${set('add', groupXml({ name: 'G' }))}<Get><SecurityPolicy/></Get>`);
    expect(p.login).toBe('Authentication Successful');
    expect(p.status).toEqual({ code: 529, text: 'Input request module is Invalid' });
    expect(f.em.model.groupByName('G')).toBeUndefined();
    expect((await f.call('<Frobnicate/>')).status?.code).toBe(529);
  });

  it('529 "There is no API Version" only when that quirk is on', async () => {
    const noVersion = `<Request>${login('admin', 'admin')}</Request>`;
    const lax = await start();
    expect(parse((await lax.send(noVersion)).body).login).toBe('Authentication Successful');
    const strict = await start({ quirks: { requireApiVersion: true } });
    expect(parse((await strict.send(noVersion)).body).status).toEqual({ code: 529, text: 'There is no API Version' });
    expect(parse((await strict.send(doc(''))).body).login).toBe('Authentication Successful');
  });

  it('other paths and verbs are not the API', async () => {
    const f = await start();
    const other = await request(f.em.url.replace('APIController', 'Other'), { dispatcher: f.agent });
    expect(other.statusCode).toBe(404);
    await other.body.text();
    const put = await request(f.em.url, { method: 'PUT', dispatcher: f.agent, body: 'reqxml=x' });
    expect(put.statusCode).toBe(405);
    await put.body.text();
  });

  it('leading junk before the prolog when switched on', async () => {
    const f = await start({ quirks: { leadingJunk: true } });
    const r = await f.send(doc(''));
    expect(r.body.startsWith('\u0000')).toBe(true);
    expect(parse(r.body.slice(r.body.indexOf('<?xml'))).login).toBe('Authentication Successful');
  });
});

describe('entities over HTTPS', () => {
  it('several entities per Set: one result each, in document order, transactionid echoed', async () => {
    const f = await start();
    const p = await f.call(
      set(
        'add',
        groupXml({ name: 'G', description: 'fail2ban' }),
        hostXml({ name: 'h1', ip: '203.0.113.1', groups: ['G'] }, 't-1'),
        hostXml({ name: 'h1', ip: '203.0.113.2' }, 't-2'),
        hostXml({ name: 'h3', ip: '203.0.113.1' }, 't-3'),
        hostXml({ name: 'h4', ip: '2001:db8::1', family: 'IPv6', groups: ['G'] }, 't-4'),
        hostXml({ name: 'h5', ip: 'bogus' }, '<&>'),
      ),
    );
    expect(p.entities.map((e) => [e.tag, e.transactionid, e.status?.code])).toEqual([
      ['IPHostGroup', '', 200],
      ['IPHost', 't-1', 200],
      ['IPHost', 't-2', 502],
      ['IPHost', 't-3', 503],
      ['IPHost', 't-4', 501],
      ['IPHost', '<&>', 501],
    ]);
    expect(p.entities[2]?.status?.text).toBe('Operation failed. Entity having same name already exists.');
  });

  it('Get output: element order, membership on both sides, Description rules', async () => {
    const f = await start();
    await f.call(set('add', groupXml({ name: 'G', family: 'IPv4' }), groupXml({ name: 'Empty', description: 'a & b' })));
    await f.call(
      set(
        'add',
        hostXml({ name: 'h1', ip: '203.0.113.1', groups: ['G'], description: 'x<y' }),
        hostXml({ name: 'net', type: 'Network', ip: '198.51.100.0', subnet: '255.255.255.0' }),
      ),
    );
    const groups = await f.call(get('IPHostGroup'));
    expect(groups.entities.map((e) => e.order)).toEqual([
      ['Name', 'Description', 'HostList', 'IPFamily'],
      ['Name', 'Description', 'IPFamily'],
    ]);
    expect(groups.entities[0]?.list('HostList', 'Host')).toEqual(['h1']);
    expect(groups.entities[1]?.field('Description')).toBe('a & b');
    const hosts = await f.call(get('IPHost', { key: 'Name', criteria: 'like', value: 'h1' }));
    expect(hosts.entities).toHaveLength(1);
    expect(hosts.entities[0]?.order).toEqual(['Name', 'IPFamily', 'HostType', 'HostGroupList', 'IPAddress', 'Description']);
    expect(hosts.entities[0]?.list('HostGroupList', 'HostGroup')).toEqual(['G']);
    expect(hosts.entities[0]?.field('Description')).toBe('x<y');
    const net = await f.call(get('IPHost', { key: 'Name', criteria: '=', value: 'net' }));
    expect(net.entities[0]?.order).toEqual(['Name', 'IPFamily', 'HostType', 'IPAddress', 'Subnet']);
  });

  it('a full Get lists the system hosts; an unknown filter key returns everything', async () => {
    const f = await start();
    await f.call(set('add', hostXml({ name: 'mine', ip: '10.0.0.1' })));
    const all = await f.call(get('IPHost'));
    const sys = all.entities.filter((e) => e.field('HostType') === 'System Host');
    expect(sys.map((e) => e.field('Name'))).toEqual(SYSTEM_HOSTS.map((s) => s.name));
    expect(sys.every((e) => e.field('IPAddress') === undefined)).toBe(true);
    const unknownKey = await f.call(get('IPHost', { key: 'Colour', criteria: '=', value: 'x' }));
    expect(unknownKey.entities).toHaveLength(SYSTEM_HOSTS.length + 1);
  });

  it('filters by IPAddress with = and by Name with !=', async () => {
    const f = await start();
    await f.call(set('add', hostXml({ name: 'a', ip: '10.0.0.1' }), hostXml({ name: 'b', ip: '10.0.0.2' })));
    const byIp = await f.call(get('IPHost', { key: 'IPAddress', criteria: '=', value: '10.0.0.2' }));
    expect(byIp.entities.map((e) => e.field('Name'))).toEqual(['b']);
    const notA = await f.call(get('IPHost', { key: 'Name', criteria: '!=', value: 'a' }));
    expect(notA.entities.map((e) => e.field('Name'))).not.toContain('a');
    expect(notA.entities.map((e) => e.field('Name'))).toContain('b');
  });

  for (const text of ['No. of records Zero.', 'Number of records Zero.'] as const) {
    it(`no match: one code-less Status "${text}" per queried entity`, async () => {
      const f = await start({ quirks: { zeroRecordsText: text } });
      const p = await f.call(`${get('IPHostGroup')}${get('IPHost', { key: 'Name', criteria: '=', value: 'nope' })}`);
      expect(p.entities.map((e) => [e.tag, e.status])).toEqual([
        ['IPHostGroup', { text }],
        ['IPHost', { text }],
      ]);
    });
  }

  it('update replaces the whole group; membership reads back on both sides', async () => {
    const f = await start();
    await f.call(set('add', groupXml({ name: 'G', description: 'keep me' })));
    await f.call(
      set('add', hostXml({ name: 'h1', ip: '10.0.0.1', groups: ['G'] }), hostXml({ name: 'h2', ip: '10.0.0.2', groups: ['G'] })),
    );
    expect(f.em.model.groupMembers('G')).toEqual(['h1', 'h2']);
    expect(codes(await f.call(set('update', groupXml({ name: 'G', hosts: ['h2'] }))))).toEqual([200]);
    const g = (await f.call(get('IPHostGroup', { key: 'Name', criteria: '=', value: 'G' }))).entities[0];
    expect(g?.list('HostList', 'Host')).toEqual(['h2']);
    expect(g?.field('Description')).toBe('');
    const h1 = (await f.call(get('IPHost', { key: 'Name', criteria: '=', value: 'h1' }))).entities[0];
    expect(h1?.list('HostGroupList', 'HostGroup')).toBeUndefined();
    // host update without HostGroupList leaves the group
    await f.call(set('update', hostXml({ name: 'h2', ip: '10.0.0.2' })));
    expect(f.em.model.groupMembers('G')).toEqual([]);
  });

  it('update of a missing name is 500; a missing member on update is 500 (501 when switched)', async () => {
    const f = await start();
    expect(codes(await f.call(set('update', groupXml({ name: 'nope' }))))).toEqual([500]);
    await f.call(set('add', groupXml({ name: 'G' })));
    expect(codes(await f.call(set('update', groupXml({ name: 'G', hosts: ['ghost'] }))))).toEqual([500]);
    const g = await start({ quirks: { updateMissingMemberCode: 501, updateMissingCode: 526 } });
    await g.call(set('add', groupXml({ name: 'G' })));
    expect(codes(await g.call(set('update', groupXml({ name: 'G', hosts: ['ghost'] }), groupXml({ name: 'nope' }))))).toEqual([501, 526]);
  });

  it('Set without operation upserts by default, and only adds when switched', async () => {
    const up = await start();
    expect(codes(await up.call(set(undefined, hostXml({ name: 'a', ip: '10.0.0.1' }), hostXml({ name: 'a', ip: '10.0.0.3' }))))).toEqual([
      200, 200,
    ]);
    expect(up.em.model.hostByName('a')?.ipAddress).toBe('10.0.0.3');
    const add = await start({ quirks: { setWithoutOperation: 'add' } });
    expect(codes(await add.call(set(undefined, hostXml({ name: 'a', ip: '10.0.0.1' }), hostXml({ name: 'a', ip: '10.0.0.3' }))))).toEqual([
      200, 502,
    ]);
  });

  it('family mismatch 501 and name limits 501 over the wire', async () => {
    const f = await start({ quirks: { maxNameLength: 50 } });
    await f.call(set('add', groupXml({ name: 'G6', family: 'IPv6' })));
    const p = await f.call(
      set(
        'add',
        hostXml({ name: 'v4', ip: '10.0.0.1', groups: ['G6'] }),
        hostXml({ name: 'n'.repeat(51), ip: '10.0.0.2' }),
        hostXml({ name: 'n'.repeat(50), ip: '10.0.0.3' }),
        hostXml({ name: '#x', ip: '10.0.0.4' }),
      ),
    );
    expect(codes(p)).toEqual([501, 501, 200, 501]);
  });

  it('remove: member host 510 (504 when switched), missing 528 (526 when switched), system host 528', async () => {
    for (const [quirks, member, missing] of [
      [{}, 510, 528],
      [{ removeReferencedHostCode: 504, removeMissingHostCode: 526 }, 504, 526],
    ] as const) {
      const f = await start({ quirks });
      await f.call(set('add', groupXml({ name: 'G' })));
      await f.call(set('add', hostXml({ name: 'h', ip: '10.0.0.1', groups: ['G'] })));
      const p = await f.call(remove(removeName('IPHost', 'h'), removeName('IPHost', 'nope'), removeName('IPHost', '#Port1')));
      expect(codes(p)).toEqual([member, missing, 528]);
      expect(f.em.model.hostByName('h')).toBeDefined();
    }
  });

  it('remove: a group used by a rule is 504; an unused one goes and its hosts stay', async () => {
    const f = await start();
    await f.call(set('add', groupXml({ name: 'Used' }), groupXml({ name: 'Free' })));
    await f.call(set('add', hostXml({ name: 'h', ip: '10.0.0.1', groups: ['Free'] })));
    f.em.model.addRule('drop Used', ['Used']);
    expect(codes(await f.call(remove(removeName('IPHostGroup', 'Used'), removeName('IPHostGroup', 'Free'))))).toEqual([504, 200]);
    expect(f.em.model.hostByName('h')?.groups).toEqual([]);
    expect(codes(await f.call(remove(removeName('IPHost', 'h'))))).toEqual([200]);
  });

  it('Remove with HostList corrupts the group: emptied, and later updates answer 500', async () => {
    const f = await start();
    await f.call(set('add', groupXml({ name: 'G', description: 'd' })));
    await f.call(
      set('add', hostXml({ name: 'h1', ip: '10.0.0.1', groups: ['G'] }), hostXml({ name: 'h2', ip: '10.0.0.2', groups: ['G'] })),
    );
    const p = await f.call(remove(`<IPHostGroup><Name>G</Name><HostList><Host>h1</Host></HostList></IPHostGroup>`));
    expect(codes(p)).toEqual([200]);
    expect(f.em.model.corrupted).toEqual(['G']);
    const g = (await f.call(get('IPHostGroup'))).entities[0];
    expect(g?.list('HostList', 'Host')).toBeUndefined();
    expect(codes(await f.call(set('update', groupXml({ name: 'G', description: 'd', hosts: ['h2'] }))))).toEqual([500]);
  });

  it('a group with 5,000 members: one update, a full Get returns them all', async () => {
    const f = await start();
    const n = 5000;
    const names = Array.from({ length: n }, (_, i) => `f2b_10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    const hosts = names.map((name) => hostXml({ name, ip: name.slice(4) }));
    expect(codes(await f.call(set('add', groupXml({ name: 'big' }), ...hosts))).every((c) => c === 200)).toBe(true);
    expect(codes(await f.call(set('update', groupXml({ name: 'big', hosts: names }))))).toEqual([200]);
    const g = (await f.call(get('IPHostGroup', { key: 'Name', criteria: '=', value: 'big' }))).entities[0];
    expect(g?.list('HostList', 'Host')).toEqual(names);
    const all = await f.call(get('IPHost'));
    expect(all.entities).toHaveLength(n + SYSTEM_HOSTS.length);
    expect(f.em.stats.byEntity.IPHost).toBe(n + 1);
  });

  it('dump() is the JSON state: hosts, groups with members, rules', async () => {
    const f = await start();
    await f.call(set('add', groupXml({ name: 'G', description: '"q" & <x>' })));
    await f.call(set('add', hostXml({ name: 'h', ip: '10.0.0.1', groups: ['G'] })));
    f.em.model.addRule('drop', ['G']);
    expect(JSON.parse(JSON.stringify(f.em.dump()))).toEqual({
      apiVersion: '2000.2',
      hosts: [{ name: 'h', family: 'IPv4', hostType: 'IP', ipAddress: '10.0.0.1', description: '', groups: ['G'] }],
      groups: [{ name: 'G', description: '"q" & <x>', family: 'IPv4', members: ['h'], corrupted: false }],
      rules: [{ name: 'drop', refs: ['G'] }],
    });
    expect(f.em.stats).toMatchObject({ requests: 2, writes: 2, authFailures: 0 });
  });
});
