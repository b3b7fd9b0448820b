/**
 * Following fail2ban's log into the pipeline: where to start, the read-back that holds removals,
 * and the fail2ban-client seed on a first start.
 */
import { stat } from 'node:fs/promises';
import { finalize, type SchedulerLike } from 'rxjs';
import type { Config } from '../config/index.js';
import type { SidecarMetrics } from '../metrics/metrics.js';
import type { PersistedState } from '../pipeline/persisted.js';
import type { Sidecar } from '../pipeline/sidecar.js';
import type { LoadResult } from '../state/index.js';
import { tailFile } from '../tail/index.js';
import type { Logger } from '../util/log.js';
import { toPipelineInput } from './log-input.js';
import { backlogRead, logBacklog, ReadBack } from './read-back.js';
import { seedFirst, seedInputs } from './seed.js';
import type { Shutdown } from './shutdown.js';
import type { LogActivity } from './snapshot.js';

/** Longest the removals of a first start wait for the log read-back (a huge log, a stuck seed). */
export const READ_BACK_TIMEOUT_MS = 10 * 60_000;

export interface FollowOptions {
  config: Config;
  loaded: LoadResult<PersistedState>;
  sidecar: Sidecar;
  metrics: SidecarMetrics;
  activity: LogActivity;
  scheduler: SchedulerLike;
  log: Logger;
}

export async function followLog(o: FollowOptions, shutdown: Shutdown): Promise<void> {
  const { config, loaded, sidecar, activity, scheduler, log } = o;
  // A state lost to corruption lost its checkpoint too: "end" would skip every ban of the
  // current file (and the reconciler would then clear them from the firewall).
  const startAt = loaded.recovered && loaded.source === 'empty' ? 'beginning' : config.log.startAt;
  // Seeding only on a first start: afterwards the state knows more than fail2ban-client (held unbans).
  const seed = config.seedFromClient && loaded.source === 'empty';

  const readBack = new ReadBack({
    scheduler,
    timeoutMs: READ_BACK_TIMEOUT_MS,
    onRelease: (why) => {
      log.info({ why }, 'desired state read back: owned hosts no longer desired may now be removed');
      sidecar.releaseRemovals();
    },
  });
  shutdown.add(() => readBack.stop());
  // Reading starts at the checkpoint, else at the beginning or the end of the file.
  const from = loaded.state.checkpoint;
  const atStart = from !== undefined || startAt === 'beginning' ? await stat(config.log.path).catch(() => undefined) : undefined;
  let backlog = logBacklog(from, startAt, atStart);
  if (backlog) readBack.expect();
  if (seed) readBack.expect();
  readBack.begin();

  const input$ = tailFile({
    path: config.log.path,
    checkpoint: from,
    startAt,
    waitForFile: true,
    scheduler,
    onWarning: (w) => log.warn({ code: w.code, path: w.path }, w.message),
  }).pipe(
    toPipelineInput({
      metrics: o.metrics,
      log,
      onLine: (tl) => {
        activity.readable = true;
        activity.lastLineAt = new Date(scheduler.now()).toISOString();
        if (backlog && backlogRead(backlog, tl.checkpoint)) {
          backlog = undefined;
          readBack.done('log read back');
        }
      },
    }),
  );
  if (config.seedFromClient && !seed) log.info({ state: loaded.source }, 'seedFromClient: state exists, not seeding');
  const seed$ = seedInputs({ client: config.fail2banClient, log }).pipe(finalize(() => readBack.done('seed read')));
  const sub = sidecar.connect(seed ? input$.pipe(seedFirst(seed$)) : input$);
  shutdown.add(() => sub.unsubscribe());
}
