/** The HTTP endpoint for /metrics and the health checks, when the config asks for one. */
import type { SchedulerLike } from 'rxjs';
import type { Config } from '../config/index.js';
import type { SidecarMetrics } from '../metrics/metrics.js';
import { startMetricsServer, type MetricsServer, type ServerLogger } from '../metrics/server.js';
import type { StatusSnapshot } from '../metrics/status.js';
import type { Shutdown } from './shutdown.js';

export interface MetricsEndpointOptions {
  config: Pick<Config, 'metrics' | 'health'>;
  metrics: SidecarMetrics;
  snapshot: () => StatusSnapshot;
  scheduler: SchedulerLike;
  log: ServerLogger;
}

/** Listens (closed by `shutdown`) if `metrics` is configured; undefined otherwise. */
export async function startMetricsEndpoint(o: MetricsEndpointOptions, shutdown: Shutdown): Promise<MetricsServer | undefined> {
  if (!o.config.metrics) return undefined;
  const server = await startMetricsServer({
    listen: o.config.metrics.listen,
    metrics: o.metrics,
    getStatus: o.snapshot,
    now: () => o.scheduler.now(),
    unreachableAfterMs: o.config.health.unreachableAfterMs,
    log: o.log,
  });
  // startMetricsServer itself logs where it listens (with the port): one line, not two.
  shutdown.add(() => server.close());
  return server;
}
