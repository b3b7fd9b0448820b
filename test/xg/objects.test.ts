/**
 * XgObjects over a scripted firewall that ignores filters (answers everything, §4.5): what this
 * sidecar counts as its own is decided from the answer, never from the filter.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { XgObjects } from '../../src/xg/objects.js';
import { buildDispatcher } from '../../src/xg/tls.js';
import { XgTransport } from '../../src/xg/transport.js';
import { startScriptedServer } from './helpers.js';

const resp = (inner: string): string =>
  `<Response APIVersion="2100.1"><Login><status>Authentication Successful</status></Login>${inner}</Response>`;
const host = (name: string, type: string, ip?: string, groups: string[] = []) =>
  `<IPHost><Name>${name}</Name><IPFamily>IPv4</IPFamily><HostType>${type}</HostType>${ip ? `<IPAddress>${ip}</IPAddress>` : ''}` +
  (groups.length ? `<HostGroupList>${groups.map((g) => `<HostGroup>${g}</HostGroup>`).join('')}</HostGroupList>` : '') +
  '</IPHost>';
const HOSTS = [
  host('##ALL_RW', 'System Host'),
  host('f2b_##sys', 'System Host'),
  host('admin_f2b_1', 'IP', '192.0.2.1', ['g']),
  host('F2B_192.0.2.2', 'IP', '192.0.2.2'),
  host('f2b_192.0.2.3', 'IP', '192.0.2.3', ['g']),
  host('f2b_192.0.2.4', 'IPRange'),
].join('');
const GROUPS =
  '<IPHostGroup><Name>g2</Name><IPFamily>IPv6</IPFamily></IPHostGroup><IPHostGroup><Name>g</Name><IPFamily>IPv4</IPFamily><HostList><Host>f2b_192.0.2.3</Host></HostList></IPHostGroup>';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function objects(): Promise<XgObjects> {
  const s = await startScriptedServer((x, res) => res.writeHead(200).end(resp(x.includes('IPHostGroup') ? GROUPS : HOSTS)));
  const dispatcher = buildDispatcher({ fingerprint256: s.fingerprint256 });
  cleanups.push(
    () => s.close(),
    () => dispatcher.destroy(),
  );
  return new XgObjects(new XgTransport({ url: s.url, username: 'u', password: 'p', dispatcher }), 'f2b_');
}

describe('XgObjects', () => {
  it('owns only non-system hosts that start with the prefix, case-sensitively', async () => {
    const o = await objects();
    expect([...(await o.ownedHosts()).keys()]).toEqual(['f2b_192.0.2.3', 'f2b_192.0.2.4']);
    expect([...(await o.ownedHosts(new Set(['f2b_192.0.2.4', 'admin_f2b_1']))).keys()]).toEqual(['f2b_192.0.2.4']);
  });

  it('maps owned hosts to the address they hold, skipping types the sidecar never creates', async () => {
    const o = await objects();
    expect(await o.ownedAddresses()).toEqual(new Map([['f2b_192.0.2.3', '192.0.2.3']]));
  });

  it('finds a group by its exact name among everything answered', async () => {
    const o = await objects();
    expect(await o.group('g')).toEqual({ name: 'g', description: '', family: 'IPv4', members: ['f2b_192.0.2.3'] });
    expect(await o.group('g3')).toBeUndefined();
  });
});
