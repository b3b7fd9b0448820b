/**
 * The sidecar's main job, wired: config → logger, lock, state, firewall adapters, metrics →
 * tailer → parser → pipeline. `run`, `replay` and `demo` all go through here, so what the demo
 * shows is what a server runs. Each part is started by its own unit, which registers how to stop
 * it with the shutdown.
 */
import { asyncScheduler } from 'rxjs';
import type { Config } from '../config/index.js';
import { stateCodec } from '../pipeline/persisted.js';
import { createMetrics, type SidecarMetrics } from '../metrics/metrics.js';
import { createSidecar, type Sidecar, type SidecarStatus } from '../pipeline/sidecar.js';
import { StateStore } from '../state/index.js';
import type { Logger } from '../util/log.js';
import type { FirewallPort } from '../xg/port.js';
import { watchEnforcement } from './enforcement.js';
import { followLog } from './follow.js';
import { startMetricsEndpoint } from './metrics-endpoint.js';
import { breakerFor, firewallAddresses, sidecarOptions } from './pipeline.js';
import { watchReleases } from './release.js';
import { outcomeOf, watchForgets } from './forget.js';
import { SourceBook, sourcesSnapshot } from './sources.js';
import { openPorts } from './ports.js';
import { Shutdown } from './shutdown.js';
import { toSnapshot, withHolds, type LogActivity } from './snapshot.js';
import { buildPlan, formatPlan } from './plan.js';
import { discardingSink, openState, peekOpenState, stateSink } from './state.js';
import { keepStatusFile } from './status-file.js';

export { STATUS_FILE } from './status-file.js';
export { toSnapshot } from './snapshot.js';

export interface RuntimeOptions {
  config: Config;
  log: Logger;
  env: NodeJS.ProcessEnv;
  /** Passwords are handed here as soon as they are read, for the log scrubber. */
  onSecret: (s: string) => void;
  dryRun?: { print: (line: string) => void };
  /** Ports to use instead of building XG clients (tests, demo). */
  ports?: Map<string, FirewallPort>;
  version: string;
  /** Follow the log (run) or not (replay feeds events itself). */
  follow: boolean;
  /** The log the start-up line names (default config.log.path): replay reads another file. */
  input?: string;
}

export interface Runtime {
  sidecar: Sidecar;
  metrics: SidecarMetrics;
  status(): SidecarStatus;
  stop(): Promise<void>;
}

export async function startRuntime(o: RuntimeOptions): Promise<Runtime> {
  const { config, log } = o;
  const scheduler = asyncScheduler;
  const shutdown = new Shutdown(log);
  try {
    const store = new StateStore(config.stateDir, stateCodec, { onWarning: (m) => log.warn(m) });
    // A dry run is an audit: it runs beside the live sidecar, so it takes no lock and writes nothing
    // to the state directory (state, status file, release requests) and serves no metrics; it prints
    // the plan before following the log.
    const readOnly = o.dryRun !== undefined;
    const { loaded, initial } = readOnly
      ? await peekOpenState(config.stateDir, stateCodec, new Date(scheduler.now()), log)
      : await openState(config.stateDir, store, log, shutdown);
    // Process metrics keep an event-loop timer running; without an endpoint nobody could read them.
    const metrics = createMetrics({ version: o.version, processMetrics: config.metrics !== undefined && !readOnly });
    const ports = await openPorts(o, metrics, shutdown);
    if (o.dryRun && o.follow)
      for (const line of formatPlan(await buildPlan({ config, ports, log, scheduler }), config.log.path)) o.dryRun.print(line);
    const sink = readOnly ? discardingSink : stateSink(store, metrics);
    const fwAddresses = await firewallAddresses(config, log);
    const breaker = breakerFor(config);
    const sidecar = createSidecar(
      sidecarOptions({ config, ports, initial, sink, metrics, scheduler, log, follow: o.follow, firewallAddresses: fwAddresses, breaker }),
    );
    shutdown.add(() => sidecar.stop());
    if (breaker && !readOnly) watchReleases({ stateDir: config.stateDir, breaker, log }, shutdown);

    const activity: LogActivity = { readable: true, sources: new SourceBook() };
    if (o.follow && !readOnly) {
      const forget = (source: string) => {
        const r = sidecar.forget(source);
        return outcomeOf(source, r.changes, r.slots);
      };
      watchForgets({ stateDir: config.stateDir, forget, settled: () => sidecar.idle(), log }, shutdown);
    }
    // Only a sidecar that keeps running watches the rules (replay is a one-off backfill).
    const enforcement = o.follow ? watchEnforcement({ config, ports, scheduler, log }, shutdown) : undefined;
    const snapshot = () => {
      const status = sidecar.status();
      const base = toSnapshot(status, config.log.path, activity.readable, activity.lastLineAt);
      const sources = activity.sources && sourcesSnapshot(status.sources ?? [], activity.sources, scheduler.now());
      const s = withHolds(sources ? { ...base, sources } : base, breaker, metrics);
      return enforcement ? enforcement.apply(s) : s;
    };
    if (!readOnly) keepStatusFile({ stateDir: config.stateDir, changes$: sidecar.changed$, snapshot, scheduler, log }, shutdown);
    // Beside the live sidecar its metrics port is taken; a dry run is watched on its terminal instead.
    if (!readOnly) await startMetricsEndpoint({ config, metrics, snapshot, scheduler, log }, shutdown);
    if (o.follow) await followLog({ config, loaded, sidecar, metrics, activity, scheduler, log }, shutdown);

    log.info(
      {
        stateDir: config.stateDir,
        log: o.input ?? config.log.path,
        firewalls: [...ports.keys()],
        dryRun: Boolean(o.dryRun),
        state: loaded.source,
      },
      'sidecar started',
    );
    return { sidecar, metrics, status: () => sidecar.status(), stop: () => shutdown.run() };
  } catch (err) {
    await shutdown.run();
    throw err;
  }
}
