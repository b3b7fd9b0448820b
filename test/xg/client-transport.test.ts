/**
 * The client's wire behaviour against a scripted HTTPS server: what it sends, and how it reads
 * answers the emulator does not produce (junk, DOCTYPE, oversize bodies, missing statuses).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { XgClient, type XgClientOptions } from '../../src/xg/client.js';
import { XgTransportError } from '../../src/xg/errors.js';
import { buildDispatcher, type TlsOptions } from '../../src/xg/tls.js';
import { LOGIN_OK, rejection, startScriptedServer, type ScriptedServer } from './helpers.js';

const OK_LOGIN = '<Login><status>Authentication Successful</status></Login>';
const resp = (inner: string, version = '2100.1'): string =>
  `<?xml version="1.0" encoding="UTF-8"?><Response APIVersion="${version}" IPS_CAT_VER="1">${OK_LOGIN}${inner}</Response>`;
const send = (res: ServerResponse, body: string): void => {
  res.writeHead(200, { 'content-type': 'text/xml' }).end(body);
};

let server: ScriptedServer | undefined;
const closers: Array<() => Promise<void>> = [];

async function setup(
  reply: (reqxml: string, res: ServerResponse, req: IncomingMessage) => void,
  opts: Partial<XgClientOptions> = {},
  tls: Omit<TlsOptions, 'fingerprint256'> = {},
): Promise<{ s: ScriptedServer; c: XgClient }> {
  const s = await startScriptedServer(reply);
  server = s;
  const dispatcher = buildDispatcher({ ...tls, fingerprint256: s.fingerprint256 });
  const c = new XgClient({ url: s.url, username: 'admin', password: 'pw', hostPrefix: 'f2b_', dispatcher, ...opts });
  closers.push(
    () => c.close(),
    () => dispatcher.close(),
  );
  return { s, c };
}

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await server?.close();
  server = undefined;
});

describe('XgClient on the wire', () => {
  it('POSTs the form field reqxml to the API path, never in the URL', async () => {
    const seen: Array<{ method?: string; url?: string; type?: string }> = [];
    const { c } = await setup((_x, res, req) => {
      seen.push({ method: req.method, url: req.url, type: req.headers['content-type'] });
      send(res, LOGIN_OK);
    });
    await c.checkLogin();
    expect(seen).toEqual([{ method: 'POST', url: '/webconsole/APIController', type: 'application/x-www-form-urlencoded' }]);
  });

  it('starts with the default APIVersion, then sends the one the firewall reports', async () => {
    const { s, c } = await setup((_x, res) => send(res, resp('', '2105.3')));
    await c.checkLogin();
    await c.checkLogin();
    expect(s.bodies.map((b) => /APIVersion="([^"]+)"/.exec(b)?.[1])).toEqual(['1905.1', '2105.3']);
  });

  it('keeps a configured APIVersion', async () => {
    const { s, c } = await setup((_x, res) => send(res, resp('', '2105.3')), { apiVersion: '2000.1' });
    await c.checkLogin();
    await c.checkLogin();
    expect(s.bodies.map((b) => /APIVersion="([^"]+)"/.exec(b)?.[1])).toEqual(['2000.1', '2000.1']);
  });

  it('reads answers with junk and NULs around the document', async () => {
    const { c } = await setup((_x, res) => send(res, `\0\r\nHTTP junk\0${resp('')}\0\0\n`));
    await expect(c.checkLogin()).resolves.toBeUndefined();
  });

  it('refuses a DOCTYPE answer (no entity expansion)', async () => {
    const { c } = await setup((_x, res) =>
      send(
        res,
        `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "Authentication Successful">]><Response><Login><status>&a;</status></Login></Response>`,
      ),
    );
    const err = await rejection(c.checkLogin());
    expect(err).toBeInstanceOf(XgTransportError);
    expect(err.code).toBe('XG_XML_REFUSED');
  });

  it('stops reading a body over the size cap', async () => {
    const { c } = await setup(
      (_x, res) => send(res, resp(`<IPHost><Name>${'x'.repeat(100_000)}</Name></IPHost>`)),
      {},
      { maxResponseBytes: 10_000 },
    );
    const err = await rejection(c.listOwnedHosts());
    expect(err.code).toBe('XG_RESPONSE_TOO_LARGE');
  });

  it('treats a Set answered without a Status as a failure', async () => {
    const { c } = await setup((x, res) =>
      send(res, resp(x.includes('<Get>') ? '<IPHostGroup transactionid=""><Status>No. of records Zero.</Status></IPHostGroup>' : '')),
    );
    const err = await rejection(c.ensureGroup({ name: 'g', family: 'IPv4' }));
    expect(err.code).toBe('XG_NO_STATUS');
    expect(err.retryable).toBe(true);
  });

  it('re-reads without the filter when the firmware refuses it, and re-filters by prefix', async () => {
    const all = resp(
      [
        '<IPHost transactionid=""><Name>##ALL_RW</Name><IPFamily>IPv4</IPFamily><HostType>System Host</HostType></IPHost>',
        '<IPHost transactionid=""><Name>admin_f2b_x</Name><IPFamily>IPv4</IPFamily><HostType>IP</HostType><IPAddress>192.0.2.1</IPAddress></IPHost>',
        '<IPHost transactionid=""><Name>f2b_192.0.2.2</Name><IPFamily>IPv4</IPFamily><HostType>IP</HostType><HostGroupList><HostGroup>g</HostGroup></HostGroupList><IPAddress>192.0.2.2</IPAddress></IPHost>',
      ].join(''),
    );
    const { s, c } = await setup((x, res) =>
      send(res, x.includes('<Filter>') ? resp('<IPHost transactionid=""><Status>Transaction fail</Status></IPHost>') : all),
    );
    expect(await c.listOwnedHosts()).toEqual([{ name: 'f2b_192.0.2.2', address: '192.0.2.2', family: 'IPv4', groups: ['g'] }]);
    expect(s.bodies.map((b) => b.includes('<Filter>'))).toEqual([true, false]);
  });

  it('runs one operation at a time', async () => {
    let inFlight = 0;
    let max = 0;
    const { c } = await setup((_x, res) => {
      max = Math.max(max, ++inFlight);
      // Hold each answer long enough for concurrent requests, if any were sent, to arrive.
      setTimeout(() => {
        inFlight--;
        send(res, resp('<IPHost transactionid=""><Status>No. of records Zero.</Status></IPHost>'));
      }, 50);
    });
    await Promise.all([c.listOwnedHosts(), c.listOwnedHosts(), c.checkLogin(), c.listOwnedHosts()]);
    expect(max).toBe(1);
  });
});
