/** The pipeline's options, read from the config and wired to the runtime's ports, state and metrics. */
import { lookup } from 'node:dns/promises';
import type { SchedulerLike } from 'rxjs';
import type { Config } from '../config/index.js';
import { jailMatches } from '../core/glob.js';
import type { SidecarMetrics } from '../metrics/metrics.js';
import { firewallNeverBlock, makeFloor, type Floor, type HostResolver } from '../pipeline/floor.js';
import type { PipelineLogger } from '../pipeline/log.js';
import type { ModelOptions } from '../pipeline/model.js';
import type { PersistedState, SidecarOptions, StateSink } from '../pipeline/sidecar.js';
import type { ObjectsMode } from '../pipeline/firewall-set.js';
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
  metrics: Pick<SidecarMetrics, 'banToBlock'> & Partial<Pick<SidecarMetrics, 'targetRefused' | 'neverblockSkipped' | 'repeatedLine'>>;
  /** The firewalls' own addresses (firewallAddresses), never blocked whatever the config says. */
  firewallAddresses?: readonly string[];
  scheduler: SchedulerLike;
  log: PipelineLogger;
  /** The log is followed: removals wait for its read-back. */
  follow: boolean;
  /** Orphan removals pass it first (config `breaker`); none: not checked. */
  breaker?: RemovalBreaker | undefined;
}

/**
 * The desired-state model's options from the config alone (no firewall addresses: offline tools
 * such as `forget` change the stored state, and the running sidecar applies its full floor).
 */
export function modelOptionsOf(config: Config): ModelOptions {
  return {
    groups: config.groups,
    neverBlock: floorOf(config, []),
    maxLineAgeMs: config.log.maxLineAgeMs,
    jailMatches,
    suspend: config.suspend,
  };
}

export function sidecarOptions(w: PipelineWiring): SidecarOptions {
  const { config, metrics } = w;
  return {
    groups: config.groups,
    neverBlock: floorOf(config, w.firewallAddresses ?? []),
    // `replay` (not following) backfills an old log on purpose: only the followed log is judged old.
    maxLineAgeMs: w.follow ? config.log.maxLineAgeMs : 0,
    onNote: (n) => {
      if (n.kind === 'repeat') metrics.repeatedLine?.(n.source);
      if (n.kind !== 'never-block' && n.kind !== 'refused') return;
      metrics.targetRefused?.(n.reason);
      if (n.kind === 'never-block') for (const g of n.groups) metrics.neverblockSkipped?.(g);
    },
    jailMatches,
    batch: config.batch,
    suspend: config.suspend,
    retry: config.retry,
    resyncIntervalMs: config.reconcile.resyncIntervalMs,
    scheduler: w.scheduler,
    log: w.log,
    ports: w.ports,
    modes: objectsModes(config),
    initial: w.initial,
    // Until the log (and, on a first start, the seed) is read back, the desired state is not
    // complete: an empty state knows nothing yet, and a loaded one lacks the bans logged after
    // its checkpoint (not saved before a crash, or a full disk). Removing "undesired" owned
    // hosts then would lift live bans for a while.
    holdRemovals: w.follow,
    // A followed log's held unbans wait until it has been read through their deadline (a "Jail
    // stopped" already written but not yet read must not find its stop-Unbans lifted).
    readBarrier: w.follow,
    ...(w.breaker && { breaker: w.breaker }),
    // Ban line → firewall acknowledgement, for live bans only (see src/pipeline/latency.ts).
    onApplied: (a) => {
      for (const s of a.banToBlockSeconds) metrics.banToBlock(a.firewall, a.group, s);
    },
    sink: w.sink,
  };
}

/** `firewalls.NAME.objects` (issue 12): packed IPLists (default) or one host per address. */
function objectsModes(config: Config): Map<string, ObjectsMode> {
  const modes = new Map<string, ObjectsMode>();
  for (const [name, fw] of Object.entries(config.firewalls)) {
    modes.set(
      name,
      fw.objects === 'lists' ? { objects: 'lists', lists: { listSize: fw.listSize, hostPrefix: fw.hostPrefix } } : { objects: 'hosts' },
    );
  }
  return modes;
}

/** The floor under every ban target: config neverBlock + the firewalls' own addresses + minimum prefixes. */
export function floorOf(config: Config, firewallAddresses: readonly string[]): Floor {
  const { ipv4, ipv6 } = config.guards.minPrefix;
  return makeFloor({ neverBlock: [...config.neverBlock, ...firewallAddresses], minPrefix: { IPv4: ipv4, IPv6: ipv6 } });
}

const dnsResolve: HostResolver = async (host) => (await lookup(host, { all: true })).map((a) => a.address);

/**
 * Each firewall's own address, from its URL (an IP literal as it is, a host name resolved once
 * here): banning it on itself would cut the sidecar and the admins off. A name that does not
 * resolve is a warning, not a failed start: the firewall is then unreachable anyway.
 */
export async function firewallAddresses(
  config: Config,
  log: { warn(obj: object, msg: string): void },
  resolve: HostResolver = dnsResolve,
): Promise<string[]> {
  const out = new Set<string>();
  for (const [id, fw] of Object.entries(config.firewalls)) {
    try {
      for (const a of await firewallNeverBlock(fw.url, resolve)) out.add(a);
    } catch (err) {
      log.warn({ firewall: id, err }, 'cannot resolve the firewall host: its address is not added to neverBlock');
    }
  }
  return [...out];
}
