/**
 * Following fail2ban's log into the pipeline: where to start, the read-back that holds removals,
 * and the fail2ban-client seed on a first start.
 */
import { access, constants, stat } from 'node:fs/promises';
import { finalize, map, merge, Subject, type SchedulerLike } from 'rxjs';
import type { Checkpoint } from '../core/checkpoint.js';
import type { Config } from '../config/index.js';
import type { SidecarMetrics } from '../metrics/metrics.js';
import type { PersistedState } from '../pipeline/persisted.js';
import type { Sidecar } from '../pipeline/sidecar.js';
import type { LoadResult } from '../state/index.js';
import { isLogPattern, tailFile, tailSources, type TailWarning } from '../tail/index.js';
import type { Logger } from '../util/log.js';
import { toPipelineInput } from './log-input.js';
import { primeRepeats } from './prime.js';
import { ReadBack } from './read-back.js';
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
  // No state at all (a first start, a deleted or corrupt stateDir, a migration from the per-ban
  // tool): owned hosts may be on the firewall that only the log justifies, so the desired state is
  // rebuilt from the log and its rotated files whatever startAt says; "end" would skip every ban
  // before it and the reconciler would then lift them.
  const startAt = loaded.source === 'empty' ? 'beginning' : config.log.startAt;
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
  // The log must have been read to its end once (from the checkpoint, else from startAt) before
  // anything is removed: a missing or unreadable log (a mistyped path) never justifies a removal,
  // so this part is not ended by the safety timeout.
  // A glob (a fleet) always waits for its first read of every file, however little there is.
  if (isLogPattern(config.log.path) || !(await nothingToRead(config.log.path, loaded.state.checkpoint, startAt))) readBack.expect(true);
  if (seed) readBack.expect();
  readBack.begin();

  const caughtUp = () => {
    activity.readable = true;
    readBack.done('log read back', true);
  };
  const onWarning = (w: TailWarning) => log.warn({ code: w.code, path: w.path }, w.message);
  // How far the log has been read, in line order with the lines themselves (a Subject fed after
  // the pass's lines were emitted): held unbans are judged against it (intake.ts readThrough).
  const drained$ = new Subject<number>();
  const onDrained = (began: number) => drained$.next(began);
  const readNow = sidecar.readRequests;
  const lines$ = isLogPattern(config.log.path)
    ? tailSources({
        pattern: config.log.path,
        checkpoints: new Map(Object.entries(loaded.state.checkpoints ?? {})),
        startAt,
        scheduler,
        onWarning,
        onSource: (source, path) => {
          log.info({ source, path }, 'following a fleet source');
          void stat(path).then(
            (st) => activity.sources?.found(source, path, st.mtimeMs),
            () => activity.sources?.found(source, path),
          );
        },
        onCaughtUp: caughtUp,
        onDrained,
        readNow,
      })
    : tailFile({
        path: config.log.path,
        checkpoint: loaded.state.checkpoint,
        startAt,
        waitForFile: true,
        scheduler,
        onWarning,
        onCaughtUp: caughtUp,
        onDrained,
        readNow,
      });
  const lineInput$ = lines$.pipe(
    toPipelineInput({
      metrics: o.metrics,
      log,
      now: () => scheduler.now(),
      onLine: (tl) => {
        activity.readable = true;
        activity.lastLineAt = new Date(scheduler.now()).toISOString();
        if (tl.source !== undefined) activity.sources?.line(tl.source, scheduler.now());
      },
    }),
  );
  const input$ = merge(lineInput$, drained$.pipe(map((readThrough) => ({ readThrough }))));
  if (config.seedFromClient && !seed) log.info({ state: loaded.source }, 'seedFromClient: state exists, not seeding');
  const seed$ = seedInputs({ client: config.fail2banClient, log }).pipe(finalize(() => readBack.done('seed read')));
  const primed = await primeRepeats({
    checkpoints: loaded.state.checkpoints,
    checkpoint: loaded.state.checkpoint,
    remember: (source, event) => sidecar.remember(source, event),
    now: scheduler.now(),
  }).catch((err: unknown) => (log.warn({ err }, 'cannot read back the lines before the checkpoints (repeat filter)'), 0));
  if (primed > 0) log.debug({ lines: primed }, 'repeat filter primed with the lines before the checkpoints');
  const sub = sidecar.connect(seed ? input$.pipe(seedFirst(seed$)) : input$);
  shutdown.add(() => sub.unsubscribe());
}

/**
 * The log exists and reading it would deliver nothing: the file at the checkpoint's end, or, with
 * no checkpoint, `end`, or an empty file with no rotated `PATH.1` before it. Then removals need
 * not wait for the tailer's first read. A missing or unreadable log is never "nothing".
 */
async function nothingToRead(path: string, from: Checkpoint | undefined, startAt: 'end' | 'beginning'): Promise<boolean> {
  const st = await stat(path).catch(() => undefined);
  if (!st?.isFile()) return false;
  if (
    !(await access(path, constants.R_OK).then(
      () => true,
      () => false,
    ))
  )
    return false;
  if (from) return from.dev === st.dev && from.ino === st.ino && from.offset === st.size;
  if (startAt === 'end') return true;
  return st.size === 0 && (await stat(`${path}.1`).catch(() => undefined)) === undefined;
}
