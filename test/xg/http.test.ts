/**
 * One exchange (postForm) against a scripted HTTPS server: what goes on the wire, and every
 * failure as its typed error — HTTP status, size cap (declared and streamed), whole-exchange
 * timeout, refused certificate.
 */
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { Dispatcher } from 'undici';
import { XgTimeoutError, XgTransportError } from '../../src/xg/errors.js';
import { postForm } from '../../src/xg/http.js';
import { buildDispatcher, type TlsOptions } from '../../src/xg/tls.js';
import { rejection, startScriptedServer, type ScriptedServer } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(
  reply: (form: string, res: ServerResponse) => void,
  tls: Omit<TlsOptions, 'fingerprint256'> = {},
): Promise<{ s: ScriptedServer; d: Dispatcher }> {
  const s = await startScriptedServer((x, res) => reply(x, res));
  const d = buildDispatcher({ ...tls, fingerprint256: s.fingerprint256 });
  cleanups.push(
    () => s.close(),
    () => d.destroy(),
  );
  return { s, d };
}

const ctx = { op: 'get', entity: 'IPHost' };

describe('postForm', () => {
  it('POSTs the form, url-encoded, and returns the answer text', async () => {
    const { s, d } = await setup((x, res) => res.writeHead(200).end(`echo:${x}`));
    const body = await postForm(`${s.url}/p`, { reqxml: '<a b="&amp;">+ %</a>' }, { dispatcher: d, timeoutMs: 5_000, ctx });
    expect(body).toBe('echo:<a b="&amp;">+ %</a>');
    expect(s.bodies).toEqual(['<a b="&amp;">+ %</a>']);
  });

  it('an HTTP status other than 200 is a retryable transport error naming it', async () => {
    const { s, d } = await setup((_x, res) => res.writeHead(503).end('busy'));
    const err = await rejection(postForm(s.url, { reqxml: 'x' }, { dispatcher: d, timeoutMs: 5_000, ctx }));
    expect(err).toBeInstanceOf(XgTransportError);
    expect([err.code, err.retryable, err.op]).toEqual(['XG_HTTP_STATUS', true, 'get']);
    expect(err.message).toContain('HTTP 503');
  });

  it('an answer over the cap is refused, streamed or declared, and not retried', async () => {
    const { s, d } = await setup((_x, res) => res.writeHead(200).end('x'.repeat(20_000)), { maxResponseBytes: 10_000 });
    let err = await rejection(postForm(s.url, { reqxml: 'x' }, { dispatcher: d, timeoutMs: 5_000, ctx }));
    expect([err.code, err.retryable]).toEqual(['XG_RESPONSE_TOO_LARGE', false]);
    expect((err.cause as { code?: string }).code).toBe('UND_ERR_RES_EXCEEDED_MAX_SIZE');
    const declared = await setup((_x, res) => res.writeHead(200, { 'content-length': 50_000 }).write('x'), { maxResponseBytes: 10_000 });
    err = await rejection(postForm(declared.s.url, { reqxml: 'x' }, { dispatcher: declared.d, timeoutMs: 5_000, ctx }));
    expect(err.code).toBe('XG_RESPONSE_TOO_LARGE');
    expect(err.cause).toBeInstanceOf(Error);
    expect((err.cause as Error).message).toMatch(/declared length 50000/);
    // At the cap exactly is fine.
    const fits = await setup((_x, res) => res.writeHead(200).end('y'.repeat(10_000)), { maxResponseBytes: 10_000 });
    expect(await postForm(fits.s.url, { reqxml: 'x' }, { dispatcher: fits.d, timeoutMs: 5_000, ctx })).toHaveLength(10_000);
  });

  it('no complete answer within the timeout: XgTimeoutError (retryable) whose cause is the abort', async () => {
    const { s, d } = await setup((_x, res) => {
      res.writeHead(200).write('<Response>');
    });
    const err = await rejection(postForm(s.url, { reqxml: 'x' }, { dispatcher: d, timeoutMs: 300, ctx }));
    expect(err).toBeInstanceOf(XgTimeoutError);
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/within 300 ms/);
    expect((err.cause as Error).name).toBe('TimeoutError');
  });

  it('a certificate the trust settings refuse is a non-retryable XG_TLS error', async () => {
    const s = await startScriptedServer();
    const d = buildDispatcher({});
    cleanups.push(
      () => s.close(),
      () => d.destroy(),
    );
    const err = await rejection(postForm(s.url, { reqxml: 'x' }, { dispatcher: d, timeoutMs: 5_000, ctx }));
    expect([err.code, err.retryable]).toEqual(['XG_TLS', false]);
    expect(err.message).toMatch(/SELF_SIGNED|UNABLE_TO/);
  });
});
