/**
 * The sidecar's main job, wired: config → logger, lock, state, firewall adapters, metrics →
 * tailer → parser → pipeline. `run`, `replay` and `demo` all go through here, so what the demo
 * shows is what a server runs.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { asyncScheduler, auditTime, finalize, map, type Subscription } from 'rxjs';
import type { Config } from '../config/index.js';
import { jailMatches, makeNeverBlock } from '../config/index.js';
import { parseLine } from '../parser/index.js';
import { createSidecar, type PersistedState, type Sidecar, type SidecarStatus } from '../pipeline/sidecar.js';
import { stateCodec } from '../pipeline/persisted.js';
import { acquireLock, StateStore, writeFileAtomic } from '../state/index.js';
import { tailFile } from '../tail/index.js';
import type { Logger } from '../util/log.js';
import { buildFirewalls, closeAll, type BuiltFirewall } from './firewalls.js';
import { seedFirst, seedInputs } from './seed.js';
import { createMetrics, type SidecarMetrics } from '../metrics/metrics.js';
import { instrumentPort } from '../metrics/instrument.js';
import { startMetricsServer } from '../metrics/server.js';
import type { StatusSnapshot } from '../metrics/status.js';
import type { FirewallPort } from '../xg/port.js';

export const STATUS_FILE = 'status.json';
/** Longest the removals of a first start wait for the log read-back (a huge log, a stuck seed). */
const READ_BACK_TIMEOUT_MS = 10 * 60_000;

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
}

export interface Runtime {
  sidecar: Sidecar;
  metrics: SidecarMetrics;
  status(): SidecarStatus;
  stop(): Promise<void>;
}

export async function startRuntime(o: RuntimeOptions): Promise<Runtime> {
  const { config, log } = o;
  const release = await acquireLock(config.stateDir);
  const cleanups: (() => Promise<void>)[] = [release];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await c().catch((e: unknown) => log.warn({ err: e }, 'cleanup failed'));
  };
  try {
    const store = new StateStore(config.stateDir, stateCodec, { onWarning: (m) => log.warn(m) });
    const loaded = await store.load();
    if (loaded.recovered) log.error({ recovered: loaded.recovered }, 'state file recovered');
    const metrics = createMetrics({ version: o.version, processMetrics: true });

    let built = new Map<string, BuiltFirewall>();
    const ports = new Map<string, FirewallPort>();
    if (o.ports) {
      for (const [k, p] of o.ports) ports.set(k, p);
    } else {
      built = await buildFirewalls(config, {
        env: o.env,
        log: { debug: (m) => log.debug(m), info: (m) => log.info(m), warn: (m) => log.warn(m) },
        dryRun: o.dryRun,
        onSecret: o.onSecret,
      });
      cleanups.push(() => closeAll(built));
      for (const [k, b] of built) ports.set(k, b.port);
    }
    for (const [k, p] of ports) ports.set(k, instrumentPort(p, k, metrics));

    const initial: PersistedState | undefined = loaded.source === 'empty' ? undefined : (loaded.state as PersistedState);
    const sidecar = createSidecar({
      groups: config.groups,
      neverBlock: makeNeverBlock(config.neverBlock),
      jailMatches,
      batch: config.batch,
      suspend: config.suspend,
      retry: config.retry,
      resyncIntervalMs: config.reconcile.resyncIntervalMs,
      scheduler: asyncScheduler,
      log,
      ports,
      initial,
      // Until the log (and, on a first start, the seed) is read back, the desired state is not
      // complete: an empty state knows nothing yet, and a loaded one lacks the bans logged after
      // its checkpoint (not saved before a crash, or a full disk). Removing "undesired" owned
      // hosts then would lift live bans for a while.
      holdRemovals: o.follow,
      // Ban line → firewall acknowledgement, for live bans only (see src/pipeline/latency.ts).
      onApplied: (a) => {
        for (const s of a.banToBlockSeconds) metrics.banToBlock(a.firewall, a.group, s);
      },
      sink: {
        save: async (s) => {
          try {
            await store.save(s as never);
          } catch (err) {
            metrics.stateWriteFailure();
            throw err;
          }
        },
      },
    });
    cleanups.push(() => sidecar.stop());

    let logReadable = true;
    let lastLineAt: string | undefined;
    const snapshot = (): StatusSnapshot => toSnapshot(sidecar.status(), config.log.path, logReadable, lastLineAt);

    // status.json lets `f2b-sophosxg status` report on a running sidecar without a network port.
    const statusFile = join(config.stateDir, STATUS_FILE);
    const writeStatus = () =>
      writeFileAtomic(statusFile, JSON.stringify({ ...snapshot(), updatedAt: new Date().toISOString() }, null, 2)).catch(
        (err: unknown) => log.warn({ err }, 'cannot write status file'),
      );
    const statusSub: Subscription = sidecar.status$.pipe(auditTime(1000)).subscribe(() => void writeStatus());
    cleanups.push(async () => {
      statusSub.unsubscribe();
      await writeStatus();
    });

    if (config.metrics) {
      const server = await startMetricsServer({
        listen: config.metrics.listen,
        metrics,
        getStatus: snapshot,
        now: () => Date.now(),
        unreachableAfterMs: config.health.unreachableAfterMs,
        log,
      });
      log.info({ address: server.address }, 'metrics and health endpoint listening');
      cleanups.push(() => server.close());
    }

    if (o.follow) {
      // A state lost to corruption lost its checkpoint too: "end" would skip every ban of the
      // current file (and the reconciler would then clear them from the firewall).
      const startAt = loaded.recovered && loaded.source === 'empty' ? 'beginning' : config.log.startAt;
      const seed = config.seedFromClient && loaded.source === 'empty';
      // Removals are held (see holdRemovals) until the read-back is done: the log up to its size
      // at start, and the seed. A rotation during the read-back, or a safety timeout, also ends it.
      let waits = 0;
      let released = false;
      const safety = setTimeout(() => release('read-back timeout'), READ_BACK_TIMEOUT_MS);
      safety.unref();
      cleanups.push(async () => clearTimeout(safety));
      const release = (why: string): void => {
        if (released) return;
        released = true;
        clearTimeout(safety);
        log.info({ why }, 'desired state read back: owned hosts no longer desired may now be removed');
        sidecar.releaseRemovals();
      };
      const done = (why: string): void => {
        // After the current push: the line (or seed event) that ended the read-back must be in the snapshot.
        queueMicrotask(() => {
          if (--waits <= 0) release(why);
        });
      };
      // Reading starts at the checkpoint, else at the beginning or the end of the file.
      const from = loaded.state.checkpoint;
      const logAtStart = from !== undefined || startAt === 'beginning' ? await stat(config.log.path).catch(() => undefined) : undefined;
      const readFrom = from !== undefined && logAtStart !== undefined && from.ino === logAtStart.ino && from.dev === logAtStart.dev ? from.offset : 0;
      let catchUp = logAtStart !== undefined && logAtStart.size > readFrom;
      if (catchUp) waits++;
      if (seed) waits++;
      if (waits === 0) release('nothing to read back');
      const input$ = tailFile({
        path: config.log.path,
        checkpoint: loaded.state.checkpoint,
        startAt,
        waitForFile: true,
        onWarning: (w) => log.warn({ code: w.code, path: w.path }, w.message),
      }).pipe(
        map((tl) => {
          logReadable = true;
          lastLineAt = new Date().toISOString();
          metrics.linesRead();
          if (catchUp && logAtStart && (tl.checkpoint.offset >= logAtStart.size || tl.checkpoint.ino !== logAtStart.ino)) {
            catchUp = false;
            done('log read back');
          }
          const r = parseLine(tl.line);
          if (r.kind === 'event') {
            metrics.event(r.event.type, r.event.jail);
            return { event: r.event, checkpoint: tl.checkpoint };
          }
          if (r.kind === 'rejected') {
            metrics.lineRejected(r.reason);
            log.warn({ jail: r.jail, id: r.id, reason: r.reason }, 'log line rejected');
          }
          return { checkpoint: tl.checkpoint };
        }),
      );
      // Seeding only on a first start: afterwards the state knows more than fail2ban-client (held unbans).
      if (config.seedFromClient && !seed) log.info({ state: loaded.source }, 'seedFromClient: state exists, not seeding');
      const seed$ = seedInputs({ client: config.fail2banClient, log }).pipe(finalize(() => done('seed read')));
      const sub = sidecar.connect(seed ? input$.pipe(seedFirst(seed$)) : input$);
      cleanups.push(async () => sub.unsubscribe());
    }

    log.info(
      { stateDir: config.stateDir, log: config.log.path, firewalls: [...ports.keys()], dryRun: Boolean(o.dryRun), state: loaded.source },
      'sidecar started',
    );
    return {
      sidecar,
      metrics,
      status: () => sidecar.status(),
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** The pipeline's status in the shape metrics, health and status.json share. */
export function toSnapshot(s: SidecarStatus, path: string, readable: boolean, lastLineAt?: string): StatusSnapshot {
  return {
    groups: s.groups.map((g) => ({
      firewall: g.firewall,
      group: g.group,
      family: g.family,
      desired: g.desired,
      applied: g.applied,
      pendingAdds: g.pendingAdds,
      pendingRemoves: g.pendingRemoves,
      suspended: g.suspended,
      lastSuccess: g.lastSuccess,
      lastError: g.lastError ? { message: g.lastError.message, code: g.lastError.code, at: g.lastError.at } : undefined,
    })),
    firewalls: s.firewalls.map((f) => ({
      name: f.firewall,
      reachable: f.reachable,
      lastContact: f.lastContact,
      consecutiveFailures: f.consecutiveFailures,
      permanentError: f.permanentError
        ? { message: f.permanentError.message, code: f.permanentError.code, since: f.permanentError.at }
        : undefined,
    })),
    log: { path, readable, lastLineAt },
  };
}
