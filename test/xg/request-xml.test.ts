import { describe, expect, it } from 'vitest';
import { XMLParser } from 'fast-xml-parser';
import { wireForms, xmlEscaped } from '../../src/util/mask.js';
import { buildRequest, getXml, ipHostGroupXml, ipHostXml, removeXml, toXml } from '../../src/xg/request-xml.js';
import { decodeEntities, decodeHost, parseResponse } from '../../src/xg/xml.js';

const wrap = (inner: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?><Response APIVersion="1702.1" IPS_CAT_VER="1"><Login><status>Authentication Successful</status></Login>${inner}</Response>`;

describe('building requests', () => {
  const nasty = `S3cr&t<pw>"'`;
  const strict = new XMLParser({ ignoreAttributes: false, processEntities: true, parseTagValue: false });

  it('escapes credentials, names and filter values so they round-trip through a conforming parser', () => {
    const xml = buildRequest({
      username: 'adm&in',
      password: nasty,
      apiVersion: '1905.1',
      operations: [
        { kind: 'get', entities: [getXml('IPHost', { key: 'Name', criteria: 'like', value: 'f2b_<&>' })] },
        { kind: 'set', operation: 'add', entities: [ipHostGroupXml({ name: 'g&<"x', description: 'd', family: 'IPv6' })] },
      ],
    });
    expect(xml).not.toContain(nasty);
    const doc = strict.parse(xml) as {
      Request: {
        '@_APIVersion': string;
        Login: { Username: string; Password: string };
        Get: { IPHost: { Filter: { key: { '#text': string; '@_criteria': string } } } };
        Set: { '@_operation': string; IPHostGroup: { Name: string; IPFamily: string } };
      };
    };
    expect(doc.Request['@_APIVersion']).toBe('1905.1');
    expect(doc.Request.Login).toEqual({ Username: 'adm&in', Password: nasty });
    expect(doc.Request.Get.IPHost.Filter.key['#text']).toBe('f2b_<&>');
    expect(doc.Request.Get.IPHost.Filter.key['@_criteria']).toBe('like');
    expect(doc.Request.Set['@_operation']).toBe('add');
    expect(doc.Request.Set.IPHostGroup).toMatchObject({ Name: 'g&<"x', IPFamily: 'IPv6' });
  });

  it('our own parser decodes what we escape (names with XML specials round-trip)', () => {
    const name = `f2b_<a&b>"c'`;
    const body = wrap(toXml(ipHostXml({ name, family: 'IPv4', hostType: 'IP', ipAddress: '192.0.2.1', groups: ['g&1', 'g<2'] })));
    const h = decodeHost(parseResponse(body).entities[0]!.fields);
    expect(h).toMatchObject({ name, groups: ['g&1', 'g<2'], description: '' });
    expect(decodeEntities('&#38;&#x3C;&amp;&unknown;')).toBe('&<&&unknown;');
  });

  it('sends a full host on update and one Name per Remove element', () => {
    const host = ipHostXml({
      name: 'f2b_198.51.100.0_24',
      family: 'IPv4',
      hostType: 'Network',
      ipAddress: '198.51.100.0',
      subnet: '255.255.255.0',
      description: 'x',
      groups: [],
    });
    expect(toXml(host)).toBe(
      '<IPHost><Name>f2b_198.51.100.0_24</Name><IPFamily>IPv4</IPFamily><HostType>Network</HostType>' +
        '<IPAddress>198.51.100.0</IPAddress><Subnet>255.255.255.0</Subnet><HostGroupList/><Description>x</Description></IPHost>',
    );
    expect(toXml(removeXml('IPHost', 'a&b'))).toBe('<IPHost><Name>a&amp;b</Name></IPHost>');
    expect(toXml({ Get: getXml('IPHost') })).toBe('<Get><IPHost/></Get>');
  });

  it('a Login-only request has no operation block', () => {
    const xml = buildRequest({ username: 'u', password: 'p' });
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Request><Login><Username>u</Username><Password>p</Password></Login></Request>',
    );
  });

  it('writes a secret exactly as util/mask.ts expects, so the masker finds it in a request document', () => {
    for (const password of [`a&b<c>"d'e %26 + =&amp;`, 'plain', `'"'`]) {
      const xml = buildRequest({ username: 'u', password });
      expect(xml).toContain(`<Password>${xmlEscaped(password)}</Password>`);
      expect(wireForms(password)).toContain(xmlEscaped(password));
    }
  });

  it('writes every group of a host, escaped, in order', () => {
    const xml = toXml(ipHostXml({ name: 'h', family: 'IPv6', hostType: 'IP', ipAddress: '2001:db8::1', groups: ['a', 'b&c'] }));
    expect(xml).toContain('<HostGroupList><HostGroup>a</HostGroup><HostGroup>b&amp;c</HostGroup></HostGroupList>');
  });

  it('puts several entities of one block in order, and refuses blocks that grouping would reorder', () => {
    const xml = buildRequest({
      username: 'u',
      password: 'p',
      operations: [{ kind: 'remove', entities: [removeXml('IPHost', 'one'), removeXml('IPHost', 'two')] }],
    });
    expect(xml).toContain('<Remove><IPHost><Name>one</Name></IPHost><IPHost><Name>two</Name></IPHost></Remove>');
    const get = { kind: 'get', entities: [getXml('IPHost')] } as const;
    const remove = { kind: 'remove', entities: [removeXml('IPHost', 'x')] } as const;
    expect(buildRequest({ username: 'u', password: 'p', operations: [get, get, remove] })).toContain(
      '<Get><IPHost/></Get><Get><IPHost/></Get><Remove>',
    );
    expect(() => buildRequest({ username: 'u', password: 'p', operations: [get, remove, get] })).toThrow(RangeError);
  });
});
