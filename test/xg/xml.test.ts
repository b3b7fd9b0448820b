import { describe, expect, it } from 'vitest';
import { checkEnvelope, decodeGroup, decodeHost, isZeroRecords, parseResponse } from '../../src/xg/xml.js';
import { XgAccessError, XgAuthError, XgError, XgRequestError, XgTransportError } from '../../src/xg/errors.js';

// Verbatim protocol samples quoted in /work/shared/reference/sophos-xg-api.md.
const LOGIN_OK = `<?xml version="1.0" encoding="UTF-8"?>
<Response APIVersion="2000.1" IPS_CAT_VER="1">
  <Login>
    <status>Authentication Successful</status>
  </Login>
</Response>`; // §2.3

const LOGIN_FAIL = `<?xml version="1.0" encoding="UTF-8"?>
<Response APIVersion="1905.1" IPS_CAT_VER="1">
  <Login>
    <status>Authentication Failure</status>
  </Login>
</Response>`; // §2.3

const IP_NOT_ALLOWED = `<?xml version="1.0" encoding="UTF-8"?>
<Response APIVersion="2100.1" IPS_CAT_VER="1">
  <Status code="534">API operations are not allowed from the requester IP address</Status>
</Response>`; // §1.4

const API_DISABLED = `<Response APIVersion="2100.1" IPS_CAT_VER="1">
  <Status code="532">You need to enable the API Configuration.</Status>
</Response>`; // §1.4

const SHAPE = `<?xml version="1.0" encoding="UTF-8"?>
<Response APIVersion="2000.2" IPS_CAT_VER="1" IS_WIFI6="0">
  <Login>
    <status>Authentication Successful</status>
  </Login>
  <IPHost transactionid="">
    <Status code="200">Configuration applied successfully.</Status>
  </IPHost>
  <IPHost transactionid="">
    <Status code="502">Operation failed. Entity having same name already exists.</Status>
  </IPHost>
</Response>`; // §5.1

const GET_ONE = `<Response APIVersion="1905.1" IPS_CAT_VER="1">
  <Login><status>Authentication Successful</status></Login>
  <IPHost transactionid="">
    <Name>TEST1</Name><IPFamily>IPv4</IPFamily><HostType>IP</HostType><IPAddress>10.1.1.1</IPAddress>
  </IPHost>
</Response>`; // §8.1

const ZERO_OLD = `<Response APIVersion="1905.1" IPS_CAT_VER="1">
  <Login><status>Authentication Successful</status></Login>
  <IPHost transactionid=""><Status>Number of records Zero.</Status></IPHost>
</Response>`; // §8.1

const ZERO_NEW = ZERO_OLD.replace('Number of records Zero.', 'No. of records Zero.'); // §4.5

const RULE_502 = `<Response APIVersion="1905.1" IPS_CAT_VER="1">
  <Login><status>Authentication Successful</status></Login>
  <FirewallRule transactionid="">
    <Status code="502">Operation failed. Entity having same name already exists.</Status>
  </FirewallRule>
</Response>`; // §8.1

const GROUP_SET = `<Response APIVersion="1702.1" IPS_CAT_VER="1">
  <Login><status>Authentication Successful</status></Login>
  <IPHostGroup transactionid="">
    <Status code="200">Configuration applied successfully.</Status>
  </IPHostGroup>
</Response>`; // §8.1

const wrap = (inner: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?><Response APIVersion="1702.1" IPS_CAT_VER="1"><Login><status>Authentication Successful</status></Login>${inner}</Response>`;

const HOST_WITH_GROUP = wrap(`<IPHost transactionid="">
  <Name>iphost1</Name>
  <IPFamily>IPv4</IPFamily>
  <HostType>IP</HostType>
  <HostGroupList>
    <HostGroup>ip_hosts</HostGroup>
  </HostGroupList>
  <IPAddress>2.2.2.2</IPAddress>
</IPHost>`); // §3.1

const GROUPS = wrap(`<IPHostGroup transactionid="">
  <Name>ip_hosts</Name>
  <Description/>
  <HostList>
    <Host>iphost1</Host>
  </HostList>
  <IPFamily>IPv4</IPFamily>
</IPHostGroup>
<IPHostGroup transactionid="">
  <Name>forunitest2</Name>
  <Description/>
  <IPFamily>IPv4</IPFamily>
</IPHostGroup>`); // §3.2

describe('parseResponse on the reference fixtures', () => {
  it('accepts a successful login', () => {
    const r = parseResponse(LOGIN_OK);
    expect(r.apiVersion).toBe('2000.1');
    expect(r.login).toBe('Authentication Successful');
    expect(() => checkEnvelope(r)).not.toThrow();
  });

  it('turns Authentication Failure into a non-retryable XgAuthError', () => {
    const err = captureSync(() => checkEnvelope(parseResponse(LOGIN_FAIL)));
    expect(err).toBeInstanceOf(XgAuthError);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('Authentication Failure');
  });

  it('checks the request-level Status before Login (534, 532)', () => {
    const e534 = captureSync(() => checkEnvelope(parseResponse(IP_NOT_ALLOWED)));
    expect(e534).toBeInstanceOf(XgAccessError);
    expect(e534.xgStatus).toBe(534);
    expect(e534.code).toBe('XG_IP_NOT_ALLOWED');
    const e532 = captureSync(() => checkEnvelope(parseResponse(API_DISABLED)));
    expect(e532).toBeInstanceOf(XgAccessError);
    expect(e532.xgStatus).toBe(532);
    expect(e532.message).toMatch(/enable the API/);
  });

  it('gives one result per entity, in order, with codes', () => {
    const r = parseResponse(SHAPE);
    expect(r.entities.map((e) => [e.tag, e.status?.code])).toEqual([
      ['IPHost', 200],
      ['IPHost', 502],
    ]);
    expect(r.entities[1]?.status?.text).toBe('Operation failed. Entity having same name already exists.');
    expect(parseResponse(RULE_502).entities[0]?.status).toEqual({
      code: 502,
      text: 'Operation failed. Entity having same name already exists.',
    });
    expect(parseResponse(GROUP_SET).entities[0]).toMatchObject({ tag: 'IPHostGroup', status: { code: 200 } });
  });

  it('normalises a single Get result to a list and decodes the host', () => {
    const r = parseResponse(GET_ONE);
    expect(r.entities).toHaveLength(1);
    expect(decodeHost(r.entities[0]!.fields)).toEqual({
      name: 'TEST1',
      family: 'IPv4',
      hostType: 'IP',
      ipAddress: '10.1.1.1',
      groups: [],
    });
    const h = decodeHost(parseResponse(HOST_WITH_GROUP).entities[0]!.fields);
    expect(h?.groups).toEqual(['ip_hosts']);
  });

  it('decodes groups with and without members', () => {
    const groups = parseResponse(GROUPS).entities.map((e) => decodeGroup(e.fields));
    expect(groups).toEqual([
      { name: 'ip_hosts', description: '', family: 'IPv4', members: ['iphost1'] },
      { name: 'forunitest2', description: '', family: 'IPv4', members: [] },
    ]);
  });

  it('reads both zero-records spellings as code-less empty results', () => {
    for (const body of [ZERO_OLD, ZERO_NEW]) {
      const [e] = parseResponse(body).entities;
      expect(e?.status?.code).toBeUndefined();
      expect(isZeroRecords(e?.status)).toBe(true);
    }
    expect(isZeroRecords({ text: 'Transaction fail' })).toBe(false);
    expect(isZeroRecords({ code: 200, text: 'No. of records Zero.' })).toBe(false);
  });
});

describe('parseResponse leniency and refusals', () => {
  it('drops NULs and junk before the prolog', () => {
    const r = parseResponse(`\0\0garbage\r\n${LOGIN_OK.replace('<Login>', '<Login>\0')}\0`);
    expect(r.login).toBe('Authentication Successful');
  });

  it('ignores unknown root attributes and elements', () => {
    const r = parseResponse(SHAPE.replace('IS_WIFI6="0"', 'IS_WIFI6="0" TOKEN="abc"'));
    expect(r.entities).toHaveLength(2);
  });

  it('refuses a DOCTYPE with entities without expanding anything', () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<Response><Login><status>&lol2;</status></Login></Response>`;
    const err = captureSync(() => parseResponse(bomb));
    expect(err).toBeInstanceOf(XgTransportError);
    expect(err.code).toBe('XG_XML_REFUSED');
    expect(err.retryable).toBe(false);
  });

  it('classifies empty, non-XML and truncated bodies as retryable transport errors', () => {
    for (const body of ['', '<html>502 Bad Gateway</html>', LOGIN_OK.slice(0, 80), '<Request/>']) {
      const err = captureSync(() => parseResponse(body));
      expect(err).toBeInstanceOf(XgTransportError);
      expect(err.retryable).toBe(true);
    }
  });

  it('treats a response without Login as unusable, not as success', () => {
    const err = captureSync(() => checkEnvelope(parseResponse('<Response APIVersion="1905.1"></Response>')));
    expect(err).toBeInstanceOf(XgTransportError);
  });

  it('maps a code-less 529-style text to XgRequestError', () => {
    const err = captureSync(() => checkEnvelope(parseResponse('<Response><Status>Input request file is Invalid</Status></Response>')));
    expect(err).toBeInstanceOf(XgRequestError);
  });
});

function captureSync(fn: () => unknown): XgError {
  try {
    fn();
  } catch (e) {
    if (e instanceof XgError) return e;
    throw e;
  }
  throw new Error('expected an XgError');
}

describe('parseResponse: children parsed one at a time', () => {
  const doc = (inner: string, decl = '<?xml version="1.0" encoding="UTF-8"?>') =>
    `${decl}\n<Response APIVersion="2000.2" IPS_CAT_VER="1">\n<Login><status>Authentication Successful</status></Login>\n${inner}\n</Response>`;
  const mixed = [
    '<IPHost transactionid="1"><Status code="200">Configuration applied successfully.</Status></IPHost>',
    '<IPHostGroup transactionid=""><Name>a&amp;b</Name><HostList><Host>h1</Host><Host>h2</Host></HostList></IPHostGroup>',
    '<IPHost transactionid="2"><Status code="502">Operation failed. Entity having same name already exists.</Status></IPHost>',
    '<Empty/>',
  ].join('\n');

  it('gives what parsing the whole document gives: attributes, login, entities and their statuses', () => {
    const split = parseResponse(doc(mixed));
    // A comment makes the splitter step aside: the whole-document parse is the reference.
    const whole = parseResponse(doc(`<!-- whole -->${mixed}`));
    expect(split.apiVersion).toBe('2000.2');
    expect(split.login).toBe('Authentication Successful');
    expect(split.entities.map((e) => [e.tag, e.status?.code])).toEqual([
      ['IPHost', 200],
      ['IPHost', 502],
      ['IPHostGroup', undefined],
    ]); // an empty element carries no entity, as before
    expect(split).toEqual(whole);
    expect(split.entities[2]?.fields['Name']).toBe('a&b');
  });

  it('a document without declaration, and a whole-request Status, read the same', () => {
    const r = parseResponse(doc('<Status code="534">API operations are not allowed from the requester IP address.</Status>', ''));
    expect(r.status).toEqual({ code: 534, text: 'API operations are not allowed from the requester IP address.' });
    expect(r.entities).toEqual([]);
  });

  it('10,000 hosts: every one read, in order', () => {
    const hosts = Array.from(
      { length: 10_000 },
      (_, i) => `<IPHost><Name>f2b_11.0.${i >> 8}.${i & 255}</Name><HostGroupList><HostGroup>g</HostGroup></HostGroupList></IPHost>`,
    );
    const r = parseResponse(doc(hosts.join('')));
    expect(r.entities).toHaveLength(10_000);
    expect(r.entities[9_999]?.fields['Name']).toBe('f2b_11.0.39.15');
    expect(decodeHost(r.entities[0]!.fields)?.groups).toEqual(['g']);
  });
});
