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
import { startFirewall, type FirewallFixture } from './emulator-fixture.js';

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
    // Both fingerprints in the form openssl and the config print: upper-case hex pairs with colons.
    expect((err as XgTransportError).message).toContain(`expected ${wrong}, got ${fingerprint}`);
    expect(fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
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

describe('trust modes against the XG emulator', () => {
  let f: FirewallFixture;
  beforeAll(async () => {
    f = await startFirewall();
  });
  afterAll(async () => {
    await f.teardown();
  });

  /** Login through a transport built for `opts`; the emulator's request count tells what reached it. */
  async function attempt(opts: TlsOptions, log = captureLog()): Promise<{ err: unknown; reached: number }> {
    const before = f.em.stats.requests;
    const dispatcher = buildDispatcher(opts, log);
    const client = new XgClient({ url: f.em.url, username: 'admin', password: 'admin', hostPrefix: 'f2b_', dispatcher });
    try {
      await client.checkLogin();
      return { err: undefined, reached: f.em.stats.requests - before };
    } catch (e) {
      return { err: e, reached: f.em.stats.requests - before };
    } finally {
      await client.close();
      await dispatcher.close();
    }
  }

  it('a CA file holding the firewall certificate', async () => {
    const caFile = join(dir, 'emulator-ca.pem');
    await writeFile(caFile, f.em.certPem);
    expect(await attempt({ caFile })).toEqual({ err: undefined, reached: 1 });
  });

  it('the pinned SHA-256 fingerprint, with or without colons', async () => {
    expect(await attempt({ fingerprint256: f.em.fingerprint256 })).toEqual({ err: undefined, reached: 1 });
    expect(await attempt({ fingerprint256: f.em.fingerprint256.replace(/:/g, '') })).toEqual({ err: undefined, reached: 1 });
  });

  it('a wrong pin is refused before any request reaches the firewall', async () => {
    const wrong = [...f.em.fingerprint256].reverse().join('');
    const { err, reached } = await attempt({ fingerprint256: wrong });
    expect(err).toBeInstanceOf(XgTransportError);
    expect((err as XgTransportError).code).toBe('XG_TLS_PIN_MISMATCH');
    expect((err as XgTransportError).retryable).toBe(false);
    expect(reached).toBe(0);
  });

  it('no trust setting: the self-signed certificate is refused, nothing sent', async () => {
    const { err, reached } = await attempt({});
    expect((err as XgTransportError).code).toBe('XG_TLS');
    expect(reached).toBe(0);
  });

  it('insecure connects, with a warning', async () => {
    const log = captureLog();
    expect(await attempt({ insecure: true }, log)).toEqual({ err: undefined, reached: 1 });
    expect(log.lines.some((l) => l.level === 'warn' && /DISABLED/.test(l.msg))).toBe(true);
  });
});
