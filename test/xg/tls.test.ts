import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XgClient } from '../../src/xg/client.js';
import { XgTransportError } from '../../src/xg/errors.js';
import { buildDispatcher, normaliseFingerprint, type TlsOptions } from '../../src/xg/tls.js';
import { captureLog, startScriptedServer, type ScriptedServer } from './helpers.js';

// Every trust mode is exercised over a real TLS handshake with a self-signed certificate.
let server: ScriptedServer;
let port: number;
let certPem: string;
let fingerprint: string;
let dir: string;

beforeAll(async () => {
  server = await startScriptedServer();
  ({ port, certPem, fingerprint256: fingerprint } = server);
  dir = await mkdtemp(join(tmpdir(), 'xg-tls-'));
}, 60_000);

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

async function login(opts: TlsOptions, host = '127.0.0.1', log = captureLog()): Promise<unknown> {
  const dispatcher: Agent = buildDispatcher(opts, log);
  const client = new XgClient({ url: `https://${host}:${port}`, username: 'admin', password: 'pw', hostPrefix: 'f2b_', dispatcher });
  try {
    await client.checkLogin();
    return undefined;
  } catch (e) {
    return e;
  } finally {
    await client.close();
    await dispatcher.close();
  }
}

describe('buildDispatcher trust modes', () => {
  it('verifies against a CA file', async () => {
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, certPem);
    expect(await login({ caFile })).toBeUndefined();
  });

  it('checks the host name against the CA-verified certificate', async () => {
    const err = await login({ ca: certPem }, 'localhost');
    expect(err).toBeInstanceOf(XgTransportError);
    expect((err as XgTransportError).code).toBe('XG_TLS');
    expect((err as XgTransportError).retryable).toBe(false);
  });

  it('accepts the self-signed certificate when the pin matches, in any spelling', async () => {
    expect(await login({ fingerprint256: fingerprint })).toBeUndefined();
    expect(await login({ fingerprint256: fingerprint.replace(/:/g, '').toLowerCase() })).toBeUndefined();
  });

  it('refuses a wrong pin before any request is sent', async () => {
    const before = server.requests;
    const wrong = fingerprint.replace(/^../, fingerprint.startsWith('00') ? '11' : '00');
    const err = await login({ fingerprint256: wrong });
    expect(err).toBeInstanceOf(XgTransportError);
    expect((err as XgTransportError).code).toBe('XG_TLS_PIN_MISMATCH');
    expect((err as XgTransportError).retryable).toBe(false);
    expect(server.requests).toBe(before);
  });

  it('refuses a pin that matches but a CA that does not', async () => {
    const other = await generate([{ name: 'commonName', value: 'other' }], { keyType: 'ec' });
    const err = await login({ fingerprint256: fingerprint, ca: other.cert });
    expect(err).toBeInstanceOf(XgTransportError);
  });

  it('refuses the self-signed certificate with neither CA nor pin', async () => {
    const before = server.requests;
    const err = await login({});
    expect(err).toBeInstanceOf(XgTransportError);
    expect((err as XgTransportError).code).toBe('XG_TLS');
    expect(server.requests).toBe(before);
  });

  it('insecure works and warns every time a dispatcher is built', async () => {
    const log = captureLog();
    expect(await login({ insecure: true }, '127.0.0.1', log)).toBeUndefined();
    expect(await login({ insecure: true }, '127.0.0.1', log)).toBeUndefined();
    expect(log.lines.filter((l) => l.level === 'warn' && /DISABLED/.test(l.msg))).toHaveLength(2);
  });

  it('rejects a malformed pin at build time and normalises good ones', () => {
    expect(() => buildDispatcher({ fingerprint256: 'abc' })).toThrow(RangeError);
    expect(normaliseFingerprint('AB:cd' + ':00'.repeat(30))).toBe('abcd' + '00'.repeat(30));
  });
});
