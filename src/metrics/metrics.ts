/**
 * Prometheus metrics of one sidecar. Each call of createMetrics owns a fresh Registry (never
 * prom-client's global one), so tests and several instances in one process cannot collide.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import {
  XgAccessError,
  XgAuthError,
  XgConflictError,
  XgNotFoundError,
  XgOperationError,
  XgReferencedError,
  XgRequestError,
  XgTimeoutError,
  XgTransportError,
  XgValidationError,
} from '../xg/errors.js';
import { parseTime, type StatusSnapshot } from './status.js';

export const PREFIX = 'f2b_sophosxg_';

/** Firewall round trips: 50 ms (read on a LAN) up to 30 s (real writes take 5–8 s; 30 s is the usual timeout). */
export const REQUEST_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 6, 7, 8, 10, 15, 20, 30];
/** Ban line → firewall acknowledgement: batching windows and backoff stretch this to minutes. */
export const BAN_TO_BLOCK_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600];

export type RequestOutcome =
  | 'ok'
  | 'auth'
  | 'access'
  | 'request'
  | 'validation'
  | 'conflict'
  | 'referenced'
  | 'not_found'
  | 'operation'
  | 'transport'
  | 'timeout'
  | 'error';

// Most specific first: TlsPinError is an XgTransportError and lands on 'transport'.
const OUTCOME_TABLE: ReadonlyArray<[abstract new (...args: never[]) => Error, RequestOutcome]> = [
  [XgTimeoutError, 'timeout'],
  [XgTransportError, 'transport'],
  [XgAuthError, 'auth'],
  [XgAccessError, 'access'],
  [XgRequestError, 'request'],
  [XgValidationError, 'validation'],
  [XgConflictError, 'conflict'],
  [XgReferencedError, 'referenced'],
  [XgNotFoundError, 'not_found'],
  [XgOperationError, 'operation'],
];

/** The outcome label of a firewall request: a small fixed set, so a message can never become a label. */
export function requestOutcome(error?: unknown): RequestOutcome {
  if (error === undefined) return 'ok';
  for (const [cls, label] of OUTCOME_TABLE) if (error instanceof cls) return label;
  return 'error';
}

/**
 * Caps the distinct values of a free-text label: the first `max` values pass (cut to 64
 * characters), later ones become "other". Rejection reasons come from the parser as text, and
 * one reason per bad address would grow the series without bound.
 */
export function boundedLabel(max: number): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    const v = value.slice(0, 64);
    if (seen.has(v)) return v;
    if (seen.size >= max) return 'other';
    seen.add(v);
    return v;
  };
}

/**
 * Sampling interval of the nodejs_eventloop_lag_* metrics. prom-client's default (10 ms) wakes the
 * idle process 100 times a second, most of its idle CPU (bench/idle.ts); lags worth seeing on a
 * sidecar are far longer than 100 ms.
 */
export const EVENT_LOOP_PRECISION_MS = 100;

export interface MetricsOptions {
  /** Value of the build_info{version} label. */
  version?: string;
  /** Also export prom-client's process_* and nodejs_* metrics (off in tests: they start timers). */
  processMetrics?: boolean;
}

export interface SidecarMetrics {
  readonly registry: Registry;
  readonly contentType: string;
  /** One parsed fail2ban event; server-wide events have no jail (label ""). */
  event(type: string, jail?: string): void;
  linesRead(n?: number): void;
  /** One event from a named fleet source (issue 13). */
  sourceEvent(source: string): void;
  /** A line a source's transport delivered again (rsyslog after a reconnect), dropped. */
  repeatedLine(source: string): void;
  /** A line that looked like an event but carried an invalid address. */
  lineRejected(reason: string): void;
  /** An address left out because it matches the never-block list. */
  neverblockSkipped(group: string): void;
  /** A ban target the floor refused (pipeline/floor.ts FloorReason: 'multicast', 'too-wide', …). */
  targetRefused(reason: string): void;
  /** Orphan removals the breaker holds, per group (pipeline/breaker.ts holds()); groups absent hold none. */
  applyHolds(holds: ReadonlyArray<{ group: string; count: number }>): void;
  /** One firewall request: its duration and its outcome (no error = ok). */
  request(firewall: string, op: string, seconds: number, error?: unknown): void;
  /** Log time stamp of the Ban line → the firewall acknowledged the block. */
  banToBlock(firewall: string, group: string, seconds: number): void;
  stateWriteFailure(): void;
  /** Set every status gauge from a snapshot; series of groups/firewalls no longer present disappear. */
  applyStatus(status: StatusSnapshot): void;
  render(): Promise<string>;
}

export function createMetrics(opts: MetricsOptions = {}): SidecarMetrics {
  const registry = new Registry();
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name: PREFIX + name, help, labelNames, registers });
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Gauge<L>({ name: PREFIX + name, help, labelNames, registers });
  const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]) =>
    new Histogram<L>({ name: PREFIX + name, help, labelNames, buckets, registers });

  const events = counter('events_total', 'fail2ban events read from the log, by type and jail', ['type', 'jail']);
  const lines = counter('lines_total', 'Lines read from the fail2ban log');
  const rejected = counter('lines_rejected_total', 'Lines that looked like events but carried an invalid address', ['reason']);
  const neverblock = counter('neverblock_skipped_total', 'Addresses not blocked because they match the never-block list', ['group']);
  const refused = counter(
    'ban_targets_refused_total',
    'Ban targets never sent to a firewall (unspecified, multicast, too wide, never-block, …), by reason',
    ['reason'],
  );
  const held = gauge('removals_held', 'Removals no Unban asked for, held by the breaker until an operator releases them', ['group']);
  const desired = gauge('desired_addresses', 'Addresses that should be in the group', ['firewall', 'group']);
  const applied = gauge('applied_addresses', 'Owned addresses in the group as last read or written on the firewall', ['firewall', 'group']);
  const pending = gauge('pending_operations', 'Addresses still to be added to or removed from the group', ['firewall', 'group', 'op']);
  const objectsUsed = gauge('owned_objects', 'Owned objects in the group: IPList hosts (kind="list") and per-address hosts (kind="host")', [
    'firewall',
    'group',
    'kind',
  ]);
  const perObject = gauge('addresses_per_list', 'Addresses per owned IPList host of the group: the fullest (stat="max") and the mean', [
    'firewall',
    'group',
    'stat',
  ]);
  const setAside = gauge(
    'addresses_set_aside',
    'Addresses the firewall refused for good, set aside (retried hourly and at each resync; see status)',
    ['firewall', 'group'],
  );
  const suspended = gauge('suspended_addresses', 'Addresses kept only by held unbans or stopped jails', ['firewall', 'group']);
  const requests = counter('firewall_requests_total', 'Firewall API requests by outcome', ['firewall', 'op', 'outcome']);
  const duration = histogram('firewall_request_duration_seconds', 'Firewall API request duration', ['firewall', 'op'], REQUEST_BUCKETS);
  const banLatency = histogram(
    'ban_to_block_seconds',
    'Time from the Ban log line to the firewall acknowledgement',
    ['firewall', 'group'],
    BAN_TO_BLOCK_BUCKETS,
  );
  const lastReconcile = gauge(
    'last_successful_reconcile_timestamp_seconds',
    'Unix time of the last successful reconcile of any group on the firewall',
    ['firewall'],
  );
  const enforced = gauge(
    'group_enforced',
    '1 when an enabled Drop/Reject firewall rule uses the group as a source network, 0 when none does (bans are then no-ops)',
    ['firewall', 'group'],
  );
  const up = gauge('firewall_up', '1 when the last contact with the firewall succeeded', ['firewall']);
  const sourceEvents = counter('source_events_total', 'fail2ban events read per fleet source', ['source']);
  const repeated = counter('repeated_lines_total', 'Lines a fleet source delivered again (rsyslog after a reconnect), dropped', ['source']);
  const sourceBans = gauge('source_bans', 'Bans (address, jail) each fleet source holds in the desired state', ['source']);
  const sourceLast = gauge('source_last_line_timestamp_seconds', 'Unix time the last line of each fleet source was read', ['source']);
  const sourceSilent = gauge('source_silent', '1 when a fleet source sent no line for over a day (its bans stay until `forget`)', [
    'source',
  ]);
  const logReadable = gauge('log_readable', '1 when the fail2ban log can be read');
  const stateWrites = counter('state_write_failures_total', 'Failed writes of the state file');
  const buildInfo = gauge('build_info', 'Always 1; the version label carries the sidecar version', ['version']);

  const reasonLabel = boundedLabel(20);

  buildInfo.set({ version: opts.version ?? 'unknown' }, 1);
  if (opts.processMetrics) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_PRECISION_MS });

  const applyStatus = (status: StatusSnapshot): void => {
    // Reset then set in one synchronous pass: a scrape never sees the half-updated state, and
    // groups or firewalls dropped from the config stop being exported.
    for (const g of [desired, applied, pending, suspended, lastReconcile, up, objectsUsed, perObject, enforced, setAside]) g.reset();
    for (const g of [sourceBans, sourceLast, sourceSilent]) g.reset();
    const latest = new Map<string, number>();
    for (const g of status.groups) {
      const labels = { firewall: g.firewall, group: g.group };
      desired.set(labels, g.desired);
      applied.set(labels, g.applied);
      suspended.set(labels, g.suspended);
      setAside.set(labels, g.setAside ?? 0);
      pending.set({ ...labels, op: 'add' }, g.pendingAdds);
      pending.set({ ...labels, op: 'remove' }, g.pendingRemoves);
      if (g.objects) {
        objectsUsed.set({ ...labels, kind: 'list' }, g.objects.lists);
        objectsUsed.set({ ...labels, kind: 'host' }, g.objects.hosts);
        perObject.set({ ...labels, stat: 'max' }, g.objects.maxPerList);
        perObject.set({ ...labels, stat: 'mean' }, g.objects.meanPerList);
      }
      // Absent until the rules were read: unknown is not "not enforced".
      if (g.enforced !== undefined) enforced.set(labels, g.enforced ? 1 : 0);
      const t = parseTime(g.lastSuccess);
      if (t !== undefined) latest.set(g.firewall, Math.max(t, latest.get(g.firewall) ?? -Infinity));
    }
    // Absent until a first success: `time() - x` alerts must not fire on a fake epoch-0 value.
    for (const [firewall, t] of latest) lastReconcile.set({ firewall }, t / 1000);
    for (const f of status.firewalls) up.set({ firewall: f.name }, f.reachable ? 1 : 0);
    logReadable.set(status.log.readable ? 1 : 0);
    for (const x of status.sources ?? []) {
      sourceBans.set({ source: x.name }, x.bans);
      sourceSilent.set({ source: x.name }, x.silent ? 1 : 0);
      const t = parseTime(x.lastLineAt);
      if (t !== undefined) sourceLast.set({ source: x.name }, t / 1000);
    }
  };

  return {
    registry,
    contentType: registry.contentType,
    event: (type, jail) => events.inc({ type, jail: jail ?? '' }),
    linesRead: (n = 1) => lines.inc(n),
    sourceEvent: (source) => sourceEvents.inc({ source }),
    repeatedLine: (source) => repeated.inc({ source }),
    lineRejected: (reason) => rejected.inc({ reason: reasonLabel(reason) }),
    neverblockSkipped: (group) => neverblock.inc({ group }),
    targetRefused: (reason) => refused.inc({ reason: reasonLabel(reason) }),
    applyHolds: (holds) => {
      held.reset();
      for (const h of holds) held.set({ group: h.group }, h.count);
    },
    request: (firewall, op, seconds, error) => {
      requests.inc({ firewall, op, outcome: requestOutcome(error) });
      duration.observe({ firewall, op }, seconds);
    },
    banToBlock: (firewall, group, seconds) => banLatency.observe({ firewall, group }, Math.max(0, seconds)),
    stateWriteFailure: () => stateWrites.inc(),
    applyStatus,
    render: () => registry.metrics(),
  };
}
