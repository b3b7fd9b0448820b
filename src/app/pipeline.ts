/** The pipeline's options, read from the config and wired to the runtime's ports, state and metrics. */
import type { SchedulerLike } from 'rxjs';
import type { Config } from '../config/index.js';
import { jailMatches } from '../core/glob.js';
import { makeNeverBlock } from '../core/network.js';
import type { SidecarMetrics } from '../metrics/metrics.js';
import type { PipelineLogger } from '../pipeline/log.js';
import type { PersistedState, SidecarOptions, StateSink } from '../pipeline/sidecar.js';
import type { FirewallPort } from '../xg/port.js';
import { RemovalBreaker } from '../pipeline/index.js';

/** The breaker the config asks for (one per sidecar, all groups). */
export function breakerFor(config: Config): RemovalBreaker | undefined {
  const { enabled, ...limits } = config.breaker;
  return enabled ? new RemovalBreaker(limits) : undefined;
}

export interface PipelineWiring {
  config: Config;
  ports: ReadonlyMap<string, FirewallPort>;
  initial: PersistedState | undefined;
  sink: StateSink;
  metrics: Pick<SidecarMetrics, 'banToBlock'>;
  scheduler: SchedulerLike;
  log: PipelineLogger;
  /** The log is followed: removals wait for its read-back. */
  follow: boolean;
  /** Orphan removals pass it first (config `breaker`); none: not checked. */
  breaker?: RemovalBreaker | undefined;
}

export function sidecarOptions(w: PipelineWiring): SidecarOptions {
  const { config, metrics } = w;
  return {
    groups: config.groups,
    neverBlock: makeNeverBlock(config.neverBlock),
    jailMatches,
    batch: config.batch,
    suspend: config.suspend,
    retry: config.retry,
    resyncIntervalMs: config.reconcile.resyncIntervalMs,
    scheduler: w.scheduler,
    log: w.log,
    ports: w.ports,
    initial: w.initial,
    // Until the log (and, on a first start, the seed) is read back, the desired state is not
    // complete: an empty state knows nothing yet, and a loaded one lacks the bans logged after
    // its checkpoint (not saved before a crash, or a full disk). Removing "undesired" owned
    // hosts then would lift live bans for a while.
    holdRemovals: w.follow,
    ...(w.breaker && { breaker: w.breaker }),
    // Ban line → firewall acknowledgement, for live bans only (see src/pipeline/latency.ts).
    onApplied: (a) => {
      for (const s of a.banToBlockSeconds) metrics.banToBlock(a.firewall, a.group, s);
    },
    sink: w.sink,
  };
}
