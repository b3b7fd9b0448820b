/**
 * The opt-in HTTP listener: GET /metrics, /healthz and /status. Read-only and unauthenticated,
 * hence loopback by default; it serves counts and names, never credentials.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { evaluateHealth } from './health.js';
import { DEFAULT_LISTEN, exposureWarning, parseListen } from './listen.js';
import type { SidecarMetrics } from './metrics.js';
import { publicStatus, type StatusSnapshot } from './status.js';

/** pino's methods fit. */
export interface ServerLogger {
  info(obj: object, msg: string): void;
  /** Loggers without it get warnings as errors. */
  warn?(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface MetricsServerOptions {
  /** "HOST:PORT", "[IPV6]:PORT" or ":PORT" (every interface); default 127.0.0.1:9617. */
  listen?: string;
  metrics: SidecarMetrics;
  getStatus: () => StatusSnapshot;
  /** Epoch ms. */
  now: () => number;
  unreachableAfterMs: number;
  /** Epoch ms the sidecar started (see HealthOptions.startedAt); default: now() when the server starts. */
  startedAt?: number;
  log?: ServerLogger;
}

export interface MetricsServer {
  address: string;
  port: number;
  close(): Promise<void>;
}

export class MetricsServerError extends Error {
  readonly code = 'METRICS_LISTEN_FAILED';
  readonly retryable = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MetricsServerError';
  }
}

interface Reply {
  status: number;
  type: string;
  body: string;
  headers?: Record<string, string>;
}

const json = (status: number, value: unknown): Reply => ({
  status,
  type: 'application/json; charset=utf-8',
  body: `${JSON.stringify(value, null, 2)}\n`,
});
const text = (status: number, body: string, headers?: Record<string, string>): Reply => ({
  status,
  type: 'text/plain; charset=utf-8',
  body: `${body}\n`,
  headers,
});

export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const listen = opts.listen ?? DEFAULT_LISTEN;
  const { host, port } = parseListen(listen);
  const startedAt = opts.startedAt ?? opts.now();

  const route = async (req: IncomingMessage): Promise<Reply> => {
    // HEAD is GET without a body (node drops it); probes commonly use it.
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'method not allowed', { allow: 'GET, HEAD' });
    const path = (req.url ?? '/').split('?', 1)[0];
    switch (path) {
      case '/metrics': {
        // Fresh gauges on every scrape, whether or not the caller also pushes status changes.
        opts.metrics.applyStatus(opts.getStatus());
        return { status: 200, type: opts.metrics.contentType, body: await opts.metrics.render() };
      }
      case '/healthz': {
        const report = evaluateHealth(opts.getStatus(), opts.now(), { unreachableAfterMs: opts.unreachableAfterMs, startedAt });
        return report.ok
          ? json(200, { status: report.degraded ? 'degraded' : 'ok', checks: report.checks })
          : json(503, { status: 'fail', checks: report.checks.filter((c) => !c.ok) });
      }
      case '/status':
        return json(200, publicStatus(opts.getStatus()));
      default:
        return text(404, 'not found');
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let reply: Reply;
    try {
      reply = await route(req);
    } catch (err) {
      opts.log?.error({ err: err instanceof Error ? err.message : String(err), url: req.url }, 'metrics endpoint failed');
      reply = text(500, 'internal error');
    }
    res.writeHead(reply.status, { 'content-type': reply.type, 'cache-control': 'no-store', ...reply.headers });
    res.end(reply.body);
  };

  const server = createServer((req, res) => void handle(req, res));
  // A stuck client must not hold a socket for long: scrapes and probes are quick.
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(new MetricsServerError(`cannot listen on ${listen}: ${err.message}`, { cause: err }));
    server.once('error', onError);
    server.listen({ port, host }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => opts.log?.error({ err: err.message }, 'metrics server error'));

  const bound = server.address() as AddressInfo;
  opts.log?.info({ address: bound.address, port: bound.port }, 'metrics and health endpoint listening');
  const exposed = exposureWarning(bound.address);
  if (exposed && opts.log) (opts.log.warn ?? opts.log.error).call(opts.log, { address: bound.address, port: bound.port }, exposed);

  return {
    address: bound.address,
    port: bound.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets of a scraper would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}
