/**
 * The firewall ports the pipeline writes through: the ones handed in (tests, demo) or XG clients
 * built from the config, each wrapped so its requests are measured.
 */
import { instrumentPort } from '../metrics/instrument.js';
import type { SidecarMetrics } from '../metrics/metrics.js';
import type { Config } from '../config/index.js';
import type { Logger } from '../util/log.js';
import type { FirewallPort } from '../xg/port.js';
import { buildFirewalls, closeAll } from './firewalls.js';
import type { Shutdown } from './shutdown.js';

export interface PortsOptions {
  config: Config;
  log: Logger;
  env: NodeJS.ProcessEnv;
  onSecret: (s: string) => void;
  dryRun?: { print: (line: string) => void } | undefined;
  /** Use these instead of building XG clients; their owner closes them. */
  ports?: ReadonlyMap<string, FirewallPort> | undefined;
}

/** One instrumented port per firewall; clients built here are closed by `shutdown`. */
export async function openPorts(o: PortsOptions, metrics: SidecarMetrics, shutdown: Shutdown): Promise<Map<string, FirewallPort>> {
  const ports = new Map<string, FirewallPort>(o.ports ?? []);
  if (!o.ports) {
    const { log } = o;
    const built = await buildFirewalls(o.config, {
      env: o.env,
      log: { debug: (m) => log.debug(m), info: (m) => log.info(m), warn: (m) => log.warn(m) },
      dryRun: o.dryRun,
      onSecret: o.onSecret,
    });
    shutdown.add(() => closeAll(built));
    for (const [k, b] of built) ports.set(k, b.port);
  }
  for (const [k, p] of ports) ports.set(k, instrumentPort(p, k, metrics));
  return ports;
}
