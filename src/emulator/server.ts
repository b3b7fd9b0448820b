/**
 * A Sophos XG XML API emulator over real HTTPS: `/webconsole/APIController` with the §9 order
 * of checks (allow-list 534, API off 532, then the request itself), one request at a time like
 * the real firewall, and runtime-switchable transport faults for the client's failure paths.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { EmulatorModel, type ModelDump } from './model.js';
import { prepare, requestStatus, type HandlerConfig } from './handler.js';
import type { Quirks } from './quirks.js';
import { DEFAULT_SEED, PROFILES, jittered, seededRandom, type LatencyProfile, type ProfileName } from './profile.js';
import { defaultTls, fingerprint256 } from './tls.js';
import { API_PATH, BodyTooLargeError, extractReqxml, readBody } from './transport.js';

export interface EmulatorOptions {
  host?: string;
  port?: number;
  /** username → password; default { admin: 'admin' }. */
  users?: Record<string, string>;
  /** ciphertext → password, for `<Password passwordform="encrypt">` (§2.2). */
  encryptedPasswords?: Record<string, string>;
  apiVersion?: string;
  apiEnabled?: boolean;
  /** Source addresses allowed to use the API; others get 534. */
  allowList?: string[];
  quirks?: Partial<Quirks>;
  /**
   * The firewall's pace: `fast` (default, no delay) or `realistic` (writes 6 ± 1.5 s, reads
   * 1 ± 0.25 s, serialised), or a profile of one's own. `faults` given as well override it.
   */
  profile?: ProfileName | LatencyProfile;
  /** Seed of the latency jitter (default DEFAULT_SEED): the same seed gives the same delays. */
  seed?: number;
  /**
   * How a delay is waited out (default: a timer). Tests inject a recorder that resolves at once,
   * to check a 6 s profile without spending 6 s.
   */
  sleep?: (ms: number) => Promise<void>;
  faults?: Partial<Faults>;
  tls?: { key: string; cert: string };
}

export interface Faults {
  /** Added to every request holding a Set or Remove (real firewalls: 5–8 s). */
  writeLatencyMs: number;
  readLatencyMs: number;
  /** Uniform spread around the latencies: a write waits writeLatencyMs ± writeJitterMs. */
  writeJitterMs: number;
  readJitterMs: number;
  /** Draws the jitter; seeded by startEmulator so runs repeat (kept apart from `random`). */
  latencyRandom: () => number;
  /** 0..1: answer HTTP `http5xxStatus` with an HTML body instead of the API. */
  http5xxRate: number;
  http5xxStatus: 502 | 503;
  /** 0..1: destroy the socket without answering (nothing applied). */
  resetRate: number;
  /** 0..1: apply a write, then destroy the socket ("timed out but applied"). */
  resetAfterCommitRate: number;
  /** Destroy every connection as soon as it opens. */
  down: boolean;
  /** Hold every request this long before handling it (beyond the client's timeout). */
  hangMs: number;
  /** One request at a time, like the real firewall. */
  serialize: boolean;
  random: () => number;
}

export interface EmulatorStats {
  requests: number;
  writes: number;
  byEntity: Record<string, number>;
  authFailures: number;
  /** Objects (entity elements) returned by Gets: what read-backs cost. */
  objectsRead: number;
  /** Response bytes sent for API requests. */
  bytesOut: number;
  /** Sum of the latencies injected into writes / reads (their mean is the firewall's pace). */
  writeDelayMs: number;
  readDelayMs: number;
  /** Requests received and not yet answered (queued or being served): 0 means the firewall is idle. */
  inFlight: number;
}

export interface EmulatorDump extends ModelDump {
  apiVersion: string;
}

export interface Emulator {
  url: string;
  port: number;
  certPem: string;
  fingerprint256: string;
  faults: Faults;
  model: EmulatorModel;
  stats: EmulatorStats;
  dump(): EmulatorDump;
  close(): Promise<void>;
}

export const DEFAULT_FAULTS: Readonly<Faults> = Object.freeze({
  writeLatencyMs: 0,
  readLatencyMs: 0,
  writeJitterMs: 0,
  readJitterMs: 0,
  latencyRandom: Math.random,
  http5xxRate: 0,
  http5xxStatus: 503,
  resetRate: 0,
  resetAfterCommitRate: 0,
  down: false,
  hangMs: 0,
  serialize: true,
  random: Math.random,
});

/** Leading NULs and a blank line before the prolog, as netzint's defensive parsing implies (§1.1). */
const JUNK = '\u0000\u0000\r\n';

function normaliseIp(ip: string | undefined): string {
  const s = ip ?? '';
  return s.startsWith('::ffff:') && s.includes('.') ? s.slice(7) : s;
}

function htmlError(res: ServerResponse, code: number, title: string): void {
  const body = `<!DOCTYPE html>\n<html><head><title>${code} ${title}</title></head><body><h1>${title}</h1></body></html>\n`;
  res.writeHead(code, { 'content-type': 'text/html; charset=UTF-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Timers that `close()` can cut short, so a hanging request never outlives its emulator. */
class Delays {
  private readonly pending = new Set<() => void>();
  closed = false;

  /** `sleep`: an injected clock (tests record the delays instead of waiting them out). */
  constructor(private readonly sleep?: (ms: number) => Promise<void>) {}

  wait(ms: number): Promise<void> {
    if (ms <= 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      let t: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(t);
        this.pending.delete(done);
        resolve();
      };
      this.pending.add(done);
      if (this.sleep) this.sleep(ms).then(done, done);
      else t = setTimeout(done, ms);
    });
  }

  cancelAll(): void {
    this.closed = true;
    for (const done of [...this.pending]) done();
  }
}

/** The fault fields a latency profile sets; the generator is seeded here so runs repeat. */
export function profileFaults(profile: ProfileName | LatencyProfile, seed: number): Partial<Faults> {
  const p = typeof profile === 'string' ? PROFILES[profile] : profile;
  return {
    writeLatencyMs: p.writeMs,
    writeJitterMs: p.writeJitterMs,
    readLatencyMs: p.readMs,
    readJitterMs: p.readJitterMs,
    serialize: p.serialize,
    latencyRandom: seededRandom(seed),
  };
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const tls = opts.tls ?? (await defaultTls());
  const model = new EmulatorModel(opts.quirks);
  const faults: Faults = { ...DEFAULT_FAULTS, ...profileFaults(opts.profile ?? 'fast', opts.seed ?? DEFAULT_SEED), ...opts.faults };
  const stats: EmulatorStats = {
    requests: 0,
    writes: 0,
    byEntity: {},
    authFailures: 0,
    objectsRead: 0,
    bytesOut: 0,
    writeDelayMs: 0,
    readDelayMs: 0,
    inFlight: 0,
  };
  const cfg: HandlerConfig = {
    apiVersion: opts.apiVersion ?? '2000.2',
    users: opts.users ?? { admin: 'admin' },
    encryptedPasswords: opts.encryptedPasswords ?? {},
  };
  const allow = new Set((opts.allowList ?? ['127.0.0.1', '::1']).map(normaliseIp));
  const apiEnabled = opts.apiEnabled ?? true;
  const delays = new Delays(opts.sleep);
  const sockets = new Set<Socket>();
  let queue: Promise<void> = Promise.resolve();

  const serialized = (fn: () => Promise<void>): Promise<void> => {
    if (!faults.serialize) return fn();
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };
  const roll = (rate: number) => rate > 0 && faults.random() < rate;

  const answer = async (req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> => {
    await delays.wait(faults.hangMs);
    if (delays.closed || faults.down) return void req.socket.destroy();
    let xml: string;
    if (!allow.has(normaliseIp(req.socket.remoteAddress))) {
      xml = requestStatus(cfg.apiVersion, 534);
    } else if (!apiEnabled) {
      xml = requestStatus(cfg.apiVersion, 532);
    } else {
      const url = new URL(req.url ?? '/', 'https://emulator.invalid');
      const reqxml = await extractReqxml(req.method ?? 'GET', url, req.headers['content-type'] ?? '', body);
      const prepared = prepare(reqxml, model, cfg, stats);
      if (prepared.kind === 'reply') {
        xml = prepared.body;
      } else {
        const ms = prepared.write
          ? jittered(faults.writeLatencyMs, faults.writeJitterMs, faults.latencyRandom)
          : jittered(faults.readLatencyMs, faults.readJitterMs, faults.latencyRandom);
        if (prepared.write) stats.writeDelayMs += ms;
        else stats.readDelayMs += ms;
        await delays.wait(ms);
        if (delays.closed) return void req.socket.destroy();
        xml = prepared.execute();
        if (prepared.write && roll(faults.resetAfterCommitRate)) return void req.socket.destroy();
      }
    }
    const out = model.quirks.leadingJunk ? JUNK + xml : xml;
    stats.bytesOut += Buffer.byteLength(out);
    res.writeHead(200, { 'content-type': 'text/xml; charset=UTF-8', 'content-length': Buffer.byteLength(out) });
    res.end(out);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    stats.requests++;
    stats.inFlight++;
    try {
      await serve(req, res);
    } finally {
      stats.inFlight--;
    }
  };

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== API_PATH) return htmlError(res, 404, 'Not Found');
    if (req.method !== 'GET' && req.method !== 'POST') return htmlError(res, 405, 'Method Not Allowed');
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch (err) {
      if (err instanceof BodyTooLargeError) return htmlError(res, 413, 'Request Entity Too Large');
      return void req.socket.destroy();
    }
    if (faults.down || roll(faults.resetRate)) return void req.socket.destroy();
    if (roll(faults.http5xxRate)) {
      return htmlError(res, faults.http5xxStatus, faults.http5xxStatus === 502 ? 'Bad Gateway' : 'Service Unavailable');
    }
    await serialized(() => answer(req, res, body));
  };

  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) htmlError(res, 500, 'Internal Server Error');
      else req.socket.destroy();
    });
  });
  server.on('connection', (s: Socket) => {
    if (faults.down || delays.closed) return void s.destroy();
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  // Clients that give up mid-handshake are normal under fault injection; nothing to report.
  server.on('tlsClientError', () => undefined);

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `https://${urlHost}:${port}${API_PATH}`,
    port,
    certPem: tls.cert,
    fingerprint256: fingerprint256(tls.cert),
    faults,
    model,
    stats,
    dump: () => ({ apiVersion: cfg.apiVersion, ...model.dump() }),
    close: () =>
      new Promise<void>((resolve) => {
        delays.cancelAll();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
