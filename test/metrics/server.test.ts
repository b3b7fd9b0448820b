import { once } from 'node:events';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { createMetrics, type SidecarMetrics } from '../../src/metrics/metrics.js';
import { ListenError } from '../../src/metrics/listen.js';
import { MetricsServerError, startMetricsServer, type MetricsServer } from '../../src/metrics/server.js';
import type { StatusSnapshot } from '../../src/metrics/status.js';
import { parseExposition, valueOf } from './exposition.js';
import { T0, healthySnapshot, iso } from './snapshot.js';

const LIMIT = 300_000;
const hasV6Loopback = Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address === '::1'));

let agent: Agent;
let server: MetricsServer | undefined;
let metrics: SidecarMetrics;
let status: StatusSnapshot;
let clock: number;

async function start(extra: { listen?: string; getStatus?: () => StatusSnapshot; startedAt?: number } = {}): Promise<MetricsServer> {
  server = await startMetricsServer({
    listen: '127.0.0.1:0',
    metrics,
    getStatus: () => status,
    now: () => clock,
    unreachableAfterMs: LIMIT,
    ...extra,
  });
  return server;
}

async function get(path: string, method = 'GET') {
  if (!server) throw new Error('server not started');
  const res = await request(`http://127.0.0.1:${server.port}${path}`, { method: method as 'GET', dispatcher: agent });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

beforeEach(() => {
  agent = new Agent();
  metrics = createMetrics({ version: '9.9.9' });
  status = healthySnapshot();
  clock = T0;
});

afterEach(async () => {
  await server?.close();
  server = undefined;
  await agent.close();
});

describe('startMetricsServer', () => {
  it('listens on loopback on a random port when asked for port 0', async () => {
    const s = await start();
    expect(s.address).toBe('127.0.0.1');
    expect(s.port).toBeGreaterThan(0);
  });

  it('GET /metrics serves the exposition with counters and the current status gauges', async () => {
    await start();
    metrics.event('ban', 'sshd');
    metrics.request('edge', 'addToGroup', 6);
    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(metrics.contentType);
    const exp = parseExposition(res.body);
    expect(valueOf(exp, 'f2b_sophosxg_events_total', { type: 'ban', jail: 'sshd' })).toBe(1);
    expect(valueOf(exp, 'f2b_sophosxg_firewall_request_duration_seconds_count', { firewall: 'edge', op: 'addToGroup' })).toBe(1);
    expect(valueOf(exp, 'f2b_sophosxg_build_info', { version: '9.9.9' })).toBe(1);
    // Status is read at scrape time: no separate push needed.
    expect(valueOf(exp, 'f2b_sophosxg_desired_addresses', { firewall: 'edge', group: 'f2b-ssh-v4' })).toBe(12);

    status.groups[0] = { ...(status.groups[0] as StatusSnapshot['groups'][number]), desired: 20 };
    status.firewalls[0] = { name: 'edge', reachable: false, consecutiveFailures: 1 };
    const again = parseExposition((await get('/metrics?x=1')).body);
    expect(valueOf(again, 'f2b_sophosxg_desired_addresses', { firewall: 'edge', group: 'f2b-ssh-v4' })).toBe(20);
    expect(valueOf(again, 'f2b_sophosxg_firewall_up', { firewall: 'edge' })).toBe(0);
  });

  it('GET /healthz is 200 with every check while healthy', async () => {
    await start();
    const res = await get('/healthz');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(res.body) as { status: string; checks: { name: string; ok: boolean }[] };
    expect(body.status).toBe('ok');
    expect(body.checks.map((c) => c.name)).toEqual(['firewall:edge', 'firewall:branch', 'log']);
    expect(body.checks.every((c) => c.ok)).toBe(true);
  });

  it('GET /healthz turns 503 with the failing checks once a problem outlasts the threshold', async () => {
    await start();
    status.firewalls[1] = { name: 'branch', reachable: false, consecutiveFailures: 7, unreachableSince: iso(T0) };
    clock = T0 + LIMIT;
    expect((await get('/healthz')).status).toBe(200);
    clock = T0 + LIMIT + 1_000;
    const res = await get('/healthz');
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toEqual({
      status: 'fail',
      checks: [{ name: 'firewall:branch', ok: false, detail: 'unreachable (7 consecutive failures) for 301s (longer than 300s)' }],
    });
  });

  it('GET /healthz counts a never-reached firewall from the start-up time', async () => {
    status.firewalls[0] = { name: 'edge', reachable: false, consecutiveFailures: 3 };
    await start({ startedAt: T0 - LIMIT - 1 });
    expect((await get('/healthz')).status).toBe(503);
  });

  it('GET /status serves the snapshot as JSON, without fields outside its shape', async () => {
    await start();
    status.firewalls[0] = {
      ...(status.firewalls[0] as StatusSnapshot['firewalls'][number]),
      password: 'hunter2',
    } as StatusSnapshot['firewalls'][number];
    const res = await get('/status');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).not.toContain('hunter2');
    expect(JSON.parse(res.body)).toEqual(JSON.parse(JSON.stringify(healthySnapshot())));
  });

  it('answers 404 for unknown paths and 405 for methods other than GET/HEAD', async () => {
    await start();
    expect((await get('/')).status).toBe(404);
    expect((await get('/metrics/extra')).status).toBe(404);
    const post = await get('/metrics', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect((await get('/healthz', 'DELETE')).status).toBe(405);
    const head = await get('/healthz', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('answers 500 (and logs) when the status source throws, and keeps serving', async () => {
    const logged: string[] = [];
    let fail = true;
    server = await startMetricsServer({
      listen: '127.0.0.1:0',
      metrics,
      getStatus: () => {
        if (fail) throw new Error('model not ready');
        return status;
      },
      now: () => clock,
      unreachableAfterMs: LIMIT,
      log: { info: () => {}, error: (obj, msg) => logged.push(`${msg} ${JSON.stringify(obj)}`) },
    });
    expect((await get('/status')).status).toBe(500);
    expect(logged.some((l) => l.includes('model not ready'))).toBe(true);
    fail = false;
    expect((await get('/status')).status).toBe(200);
  });

  it('on loopback, warns of nothing (the exposure warning itself: listen.test.ts)', async () => {
    const warned: string[] = [];
    const log = {
      info: () => {},
      warn: (_o: object, msg: string) => warned.push(msg),
      error: (_o: object, msg: string) => warned.push(msg),
    };
    server = await startMetricsServer({
      listen: '127.0.0.1:0',
      metrics,
      getStatus: () => status,
      now: () => clock,
      unreachableAfterMs: LIMIT,
      log,
    });
    expect(server.address).toBe('127.0.0.1');
    expect(warned).toEqual([]);
  });

  it('rejects a bad listen string before binding, naming the value', async () => {
    await expect(start({ listen: '::1:9617' })).rejects.toThrow(ListenError);
    await expect(start({ listen: '127.0.0.1:99999' })).rejects.toThrow('"127.0.0.1:99999"');
  });

  it('fails with MetricsServerError when the port is taken', async () => {
    const first = await start();
    const err = await startMetricsServer({
      listen: `127.0.0.1:${first.port}`,
      metrics,
      getStatus: () => status,
      now: () => clock,
      unreachableAfterMs: LIMIT,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MetricsServerError);
    expect((err as MetricsServerError).message).toContain(`127.0.0.1:${first.port}`);
    expect(((err as MetricsServerError).cause as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
  });

  it('close() drops a client stuck half-way through its request and frees the port', async () => {
    const s = await start();
    server = undefined;
    const socket = connect(s.port, '127.0.0.1');
    socket.on('error', () => {}); // the reset is the expected outcome; 'close' below is what is checked
    await once(socket, 'connect');
    socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n'); // headers never finished
    // Not events.once: that rejects on the 'error' (ECONNRESET) which precedes 'close'.
    const closed = new Promise((resolve) => socket.once('close', resolve));
    // Without dropping open connections this waits for the server's header timeout (the test's 5 s limit fails first).
    await s.close();
    await closed;
    const again = await start({ listen: `127.0.0.1:${s.port}` });
    expect(again.port).toBe(s.port);
  }, 5_000);

  it.skipIf(!hasV6Loopback)('listens on IPv6 loopback when given "[::1]:0"', async () => {
    const s = await start({ listen: '[::1]:0' });
    expect(s.address).toBe('::1');
    const res = await request(`http://[::1]:${s.port}/healthz`, { dispatcher: agent });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  });
});
