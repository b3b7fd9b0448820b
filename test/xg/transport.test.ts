/**
 * XgTransport against a scripted HTTPS server: the request document, the debug log without the
 * password, batched writes with one result per item, and Get with a refused filter.
 */
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { XgConflictError, XgOperationError } from '../../src/xg/errors.js';
import { removeXml } from '../../src/xg/request-xml.js';
import { buildDispatcher } from '../../src/xg/tls.js';
import { XgTransport, type XgTransportOptions } from '../../src/xg/transport.js';
import { captureLog, describeRequest, rejection, startScriptedServer, type ScriptedServer } from './helpers.js';

const resp = (inner: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?><Response APIVersion="2100.1" IPS_CAT_VER="1"><Login><status>Authentication Successful</status></Login>${inner}</Response>`;
const status = (code: number, tag = 'IPHost') => `<${tag} transactionid=""><Status code="${code}">status ${code}</Status></${tag}>`;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(
  reply: (reqxml: string) => string,
  opts: Partial<XgTransportOptions> = {},
): Promise<{ s: ScriptedServer; t: XgTransport }> {
  const s = await startScriptedServer((x, res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/xml' }).end(reply(x)));
  const dispatcher = buildDispatcher({ fingerprint256: s.fingerprint256 });
  cleanups.push(
    () => s.close(),
    () => dispatcher.destroy(),
  );
  return { s, t: new XgTransport({ url: s.url, username: 'api', password: 'pw&<1', dispatcher, ...opts }) };
}

describe('XgTransport.call', () => {
  it('sends the login with every request and logs both documents without the password', async () => {
    const log = captureLog();
    const { s, t } = await setup(() => resp('<Echo>pw&amp;&lt;1</Echo>'), { log });
    await t.call('login', []);
    expect(s.bodies[0]).toContain('<Login><Username>api</Username><Password>pw&amp;&lt;1</Password></Login>');
    expect(log.lines.map((l) => l.msg.slice(0, 20))).toEqual(['XG request login: <?', 'XG response login: <']);
    for (const l of log.lines) {
      expect(l.msg).not.toContain('pw&');
      expect(l.msg).toContain('********');
    }
  });
});

describe('XgTransport.write', () => {
  it('splits items into batches and gives one result per item, in order', async () => {
    const answers = [status(200) + status(502), status(200) + '<IPHost transactionid=""/>', ''];
    let n = 0;
    const { s, t } = await setup(() => resp(answers[n++] ?? ''), { batchSize: 2 });
    const items = ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name, node: removeXml('IPHost', name) }));
    const results = await t.write('remove', 'IPHost', items);
    expect(s.bodies.map((b) => [describeRequest(b).op, describeRequest(b).entities])).toEqual([
      ['remove', 2],
      ['remove', 2],
      ['remove', 1],
    ]);
    expect(results.map((r) => [r.name, r.status?.code, r.error?.code])).toEqual([
      ['a', 200, undefined],
      ['b', 502, 'XG_NAME_EXISTS'],
      ['c', 200, undefined],
      ['d', undefined, 'XG_NO_STATUS'],
      ['e', undefined, 'XG_NO_STATUS'],
    ]);
    expect(results[1]?.error).toBeInstanceOf(XgConflictError);
    expect(results[1]?.error?.message).toContain('remove IPHost b');
    expect(results[3]?.error?.retryable).toBe(true);
  });

  it('sends nothing for no items', async () => {
    const { s, t } = await setup(() => resp(''));
    expect(await t.write('add', 'IPHost', [])).toEqual([]);
    expect(s.requests).toBe(0);
  });
});

describe('XgTransport.forEach', () => {
  const host = (name: string) => `<IPHost transactionid=""><Name>${name}</Name></IPHost>`;

  it('visits every object of the entity; zero records is an empty answer', async () => {
    const { t } = await setup((x) =>
      resp(x.includes('IPHostGroup') ? '<IPHostGroup><Status>No. of records Zero.</Status></IPHostGroup>' : host('a') + host('b')),
    );
    const seen: unknown[] = [];
    await t.forEach('IPHost', undefined, (f) => seen.push(f['Name']));
    await t.forEach('IPHostGroup', undefined, (f) => seen.push(f['Name']));
    expect(seen).toEqual(['a', 'b']);
  });

  it('a refused filter is dropped and the Get repeated; a refused Get without filter is an error', async () => {
    const { s, t } = await setup((x) => resp(x.includes('<Filter>') ? '<IPHost><Status>Transaction fail</Status></IPHost>' : host('a')));
    const seen: unknown[] = [];
    await t.forEach('IPHost', { key: 'Name', criteria: 'like', value: 'f2b_' }, (f) => seen.push(f['Name']));
    expect(seen).toEqual(['a']);
    expect(s.bodies.map((b) => b.includes('<Filter><key name="Name" criteria="like">f2b_</key></Filter>'))).toEqual([true, false]);

    const refusing = await setup(() => resp('<IPHost><Status>Transaction fail</Status></IPHost>'));
    const err = await rejection(refusing.t.forEach('IPHost', undefined, () => undefined));
    expect(err).toBeInstanceOf(XgOperationError);
    expect(err.code).toBe('XG_TRANSACTION_FAIL');
  });
});
