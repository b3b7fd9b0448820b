import { request } from 'node:http';
import { VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { startMetricsEndpoint } from '../../src/app/metrics-endpoint.js';
import { Shutdown } from '../../src/app/shutdown.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import type { StatusSnapshot } from '../../src/metrics/status.js';

const snapshot = (): StatusSnapshot => ({ groups: [], firewalls: [], log: { path: '/l', readable: true } });
const quiet = { info: () => undefined, error: () => undefined };

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('startMetricsEndpoint', () => {
  it('without `metrics` in the config, listens nowhere', async () => {
    const shutdown = new Shutdown({ warn: () => undefined });
    const server = await startMetricsEndpoint(
      {
        config: { health: { unreachableAfterMs: 1000 } },
        metrics: createMetrics(),
        snapshot,
        scheduler: new VirtualTimeScheduler(),
        log: quiet,
      },
      shutdown,
    );
    expect(server).toBeUndefined();
  });

  it('serves /metrics and /healthz until shutdown, and logs where it listens', async () => {
    const shutdown = new Shutdown({ warn: () => undefined });
    const infos: [object, string | undefined][] = [];
    const server = await startMetricsEndpoint(
      {
        config: { metrics: { listen: '127.0.0.1:0' }, health: { unreachableAfterMs: 1000 } },
        metrics: createMetrics({ version: 'x' }),
        snapshot,
        scheduler: new VirtualTimeScheduler(),
        log: { info: (o, msg?: string) => void infos.push([o, msg]), error: () => undefined },
      },
      shutdown,
    );
    if (!server) throw new Error('no server');
    // Exactly one "listening" line, with the address and the port (issue 15: there were two).
    expect(infos.filter(([, msg]) => /listening/.test(msg ?? ''))).toEqual([
      [{ address: server.address, port: server.port }, 'metrics and health endpoint listening'],
    ]);
    expect((await get(server.port, '/metrics')).body).toMatch(/f2b_sophosxg_/);
    expect((await get(server.port, '/healthz')).status).toBe(200);
    await shutdown.run();
    await expect(get(server.port, '/healthz')).rejects.toThrow(/ECONNREFUSED/);
  });
});
