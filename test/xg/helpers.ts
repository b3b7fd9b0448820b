import type { XgLogger } from '../../src/xg/log.js';
import type { Dispatcher } from 'undici';
import { XgError } from '../../src/xg/errors.js';

export interface CapturedLog extends XgLogger {
  lines: Array<{ level: 'debug' | 'info' | 'warn'; msg: string }>;
}

/** A logger that keeps every line, debug included, for assertions. */
export function captureLog(): CapturedLog {
  const lines: CapturedLog['lines'] = [];
  return {
    lines,
    debug: (msg) => lines.push({ level: 'debug', msg }),
    info: (msg) => lines.push({ level: 'info', msg }),
    warn: (msg) => lines.push({ level: 'warn', msg }),
  };
}

import { X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';

export interface ScriptedServer {
  url: string;
  port: number;
  certPem: string;
  fingerprint256: string;
  /** Requests received (after the TLS handshake). */
  requests: number;
  /** Bodies received (form-decoded reqxml). */
  bodies: string[];
  close(): Promise<void>;
}

export const LOGIN_OK =
  '<?xml version="1.0" encoding="UTF-8"?><Response APIVersion="2100.1" IPS_CAT_VER="1"><Login><status>Authentication Successful</status></Login></Response>';

/**
 * A real HTTPS server on 127.0.0.1 with a self-signed certificate valid for 127.0.0.1 only (like
 * the firewall's factory certificate), answering with whatever the test scripts.
 */
export async function startScriptedServer(
  reply: (reqxml: string, res: ServerResponse, req: IncomingMessage) => void = (_x, res) => {
    res.writeHead(200, { 'content-type': 'text/xml' }).end(LOGIN_OK);
  },
): Promise<ScriptedServer> {
  const pems = await generate([{ name: 'commonName', value: 'firewall.test' }], {
    algorithm: 'sha256',
    keyType: 'ec',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
    ],
  });
  const state = { requests: 0, bodies: [] as string[] };
  const server: Server = createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    state.requests++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reqxml = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('reqxml') ?? '';
      state.bodies.push(reqxml);
      reply(reqxml, res, req);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    certPem: pems.cert,
    fingerprint256: new X509Certificate(pems.cert).fingerprint256,
    get requests() {
      return state.requests;
    },
    get bodies() {
      return state.bodies;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The typed error a call rejected with; fails the test when it resolved or threw something else. */
export async function rejection(p: Promise<unknown>): Promise<XgError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof XgError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

/** A request as the client sent it, read from the wire: the operation, how many entities, the document. */
export interface SentRequest {
  /** login, get, add, update, remove */
  op: string;
  entities: number;
  reqxml: string;
}

export function describeRequest(reqxml: string): SentRequest {
  const set = /<Set operation="(\w+)"/.exec(reqxml);
  const op = /<Get>/.test(reqxml) ? 'get' : set ? (set[1] as string) : /<Remove>/.test(reqxml) ? 'remove' : 'login';
  const entities = reqxml.match(/<(IPHost|IPHostGroup)[\s/>]/g)?.length ?? 0;
  return { op, entities, reqxml };
}

/**
 * The dispatcher, with `onRequest` called as each request is handed to it (before it is sent):
 * a transport-level seam to count requests or change the firewall between two of them.
 */
export function observeRequests(dispatcher: Dispatcher, onRequest: (r: SentRequest) => void): Dispatcher {
  return dispatcher.compose((dispatch) => (opts, handler) => {
    onRequest(describeRequest(new URLSearchParams(typeof opts.body === 'string' ? opts.body : '').get('reqxml') ?? ''));
    return dispatch(opts, handler);
  });
}
