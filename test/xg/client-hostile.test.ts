/**
 * Hostile firewall answers, served over real HTTPS (the emulator's certificate helper, pinned):
 * entity bombs, external entities, bodies far over the size cap (declared or streamed without
 * end), a body that trickles forever, absurd nesting. Each must end quickly in a typed,
 * non-hanging error, without buffering the hostile body.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultTls, fingerprint256 } from '../../src/emulator/tls.js';
import { XgClient } from '../../src/xg/client.js';
import { XgTimeoutError, XgTransportError } from '../../src/xg/errors.js';
import { MAX_RESPONSE_BYTES, buildDispatcher } from '../../src/xg/tls.js';
import { rejection } from './helpers.js';

const LOGIN_OK = '<Login><status>Authentication Successful</status></Login>';
const MB = 1024 * 1024;

interface Hostile {
  client: XgClient;
  /** Bytes of body the server managed to hand to the socket before the client hung up. */
  sent(): number;
  /** Resolves when the server sees the client's connection close. */
  closed: Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function hostile(
  reply: (res: ServerResponse, req: IncomingMessage, count: (n: number) => void) => void,
  requestTimeoutMs = 5_000,
): Promise<Hostile> {
  const tls = await defaultTls();
  let sent = 0;
  let onClose: () => void = () => undefined;
  const closed = new Promise<void>((r) => (onClose = r));
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    req.resume();
    req.socket.once('close', onClose);
    req.on('end', () => reply(res, req, (n) => (sent += n)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const dispatcher = buildDispatcher({ fingerprint256: fingerprint256(tls.cert) });
  const client = new XgClient({
    url: `https://127.0.0.1:${port}`,
    username: 'admin',
    password: 'pw',
    hostPrefix: 'f2b_',
    dispatcher,
    requestTimeoutMs,
  });
  cleanups.push(async () => {
    for (const t of timers) clearInterval(t);
    await client.close();
    await dispatcher.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return { client, sent: () => sent, closed };
}

/** Writes `chunk` until `total` bytes are out (Infinity: forever), respecting back-pressure. */
function stream(res: ServerResponse, chunk: Buffer, total: number, count: (n: number) => void): void {
  let left = total;
  const pump = (): void => {
    while (left > 0 && !res.destroyed) {
      const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= piece.length;
      count(piece.length);
      if (!res.write(piece)) return void res.once('drain', pump);
    }
    if (left <= 0) res.end();
  };
  res.on('error', () => undefined);
  pump();
}

const xml = (res: ServerResponse, body: string): void => {
  res.writeHead(200, { 'content-type': 'text/xml' }).end(body);
};

describe('hostile firewall responses', () => {
  it('an entity-expansion bomb (billion laughs) is refused without expanding anything', async () => {
    const lol = ['<!ENTITY l0 "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`)].join('');
    const h = await hostile((res) =>
      xml(res, `<?xml version="1.0"?><!DOCTYPE Response [${lol}]><Response>${LOGIN_OK}<IPHost><Name>&l9;</Name></IPHost></Response>`),
    );
    const before = process.memoryUsage().heapUsed;
    const err = await rejection(h.client.listOwnedHosts());
    expect(err).toBeInstanceOf(XgTransportError);
    expect(err.code).toBe('XG_XML_REFUSED');
    expect(err.retryable).toBe(false);
    // Fully expanded, &l9; is 3 GB of "lol"; nothing near that was allocated.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * MB);
  });

  it('an external entity (XXE) is refused, in any letter case', async () => {
    const h = await hostile((res) =>
      xml(
        res,
        `<?xml version="1.0"?><!doctype Response [<!entity x SYSTEM "file:///etc/passwd">]><Response>${LOGIN_OK}<IPHost><Name>&x;</Name></IPHost></Response>`,
      ),
    );
    const err = await rejection(h.client.listOwnedHosts());
    expect(err.code).toBe('XG_XML_REFUSED');
    expect(err.message).not.toContain('root:');
  });

  it('a body whose declared length is over the cap is refused before it is read', async () => {
    const total = MAX_RESPONSE_BYTES + 50 * MB;
    const h = await hostile((res, _req, count) => {
      res.writeHead(200, { 'content-type': 'text/xml', 'content-length': total });
      stream(res, Buffer.alloc(MB, 'A'), total, count);
    });
    const err = await rejection(h.client.checkLogin());
    expect(err).toBeInstanceOf(XgTransportError);
    expect(err.code).toBe('XG_RESPONSE_TOO_LARGE');
    expect(err.retryable).toBe(false);
    await h.closed;
    // The client hung up: the server could not hand over the body (socket buffers aside).
    expect(h.sent()).toBeLessThan(16 * MB);
  });

  it('an endless body without a length stops at the default cap', async () => {
    const h = await hostile((res, _req, count) => {
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.write(`<?xml version="1.0"?><Response>${LOGIN_OK}<IPHost><Name>`);
      stream(res, Buffer.alloc(256 * 1024, 'x'), Infinity, count);
      // Streaming 128 MB over TLS takes seconds on a loaded machine: the timeout must not win.
    }, 120_000);
    const before = process.memoryUsage();
    const err = await rejection(h.client.checkLogin());
    expect(err.code).toBe('XG_RESPONSE_TOO_LARGE');
    await h.closed;
    // Stopped close to the cap (what was in flight in socket buffers aside), not at "forever".
    expect(h.sent()).toBeGreaterThan(MAX_RESPONSE_BYTES);
    expect(h.sent()).toBeLessThan(MAX_RESPONSE_BYTES + 16 * MB);
    const grown = process.memoryUsage().rss - before.rss;
    expect(grown).toBeLessThan(4 * MAX_RESPONSE_BYTES);
  });

  it('a body that trickles forever ends at the whole-request timeout', async () => {
    const h = await hostile((res) => {
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.write('<?xml version="1.0"?><Response>');
      // Each byte arrives well within any idle timeout; the answer never completes.
      const t = setInterval(() => res.write(' '), 20);
      res.once('close', () => clearInterval(t));
    }, 1_000);
    const err = await rejection(h.client.checkLogin());
    expect(err).toBeInstanceOf(XgTimeoutError);
    expect(err.retryable).toBe(true);
    await h.closed;
  });

  it('absurd nesting is a malformed answer, not a stack overflow', async () => {
    const depth = 100_000;
    const h = await hostile((res) =>
      xml(res, `<Response>${LOGIN_OK}<IPHost>${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}</IPHost></Response>`),
    );
    const err = await rejection(h.client.listOwnedHosts());
    expect(err).toBeInstanceOf(XgTransportError);
    expect(err.code).toBe('XG_BAD_RESPONSE');
  });

  it('an HTML page or binary junk with HTTP 200 is a bad response', async () => {
    const bodies = ['<html><body>Login</body></html>', Buffer.from([0xff, 0xfe, 0x00, 0x3c, 0x80, 0x81]).toString('latin1')];
    let i = 0;
    const h = await hostile((res) => xml(res, bodies[i++ % bodies.length] ?? ''));
    for (let n = 0; n < bodies.length; n++) {
      const err = await rejection(h.client.checkLogin());
      expect(err.code).toBe('XG_BAD_RESPONSE');
    }
  });
});
