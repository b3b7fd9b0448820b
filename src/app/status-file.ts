/**
 * status.json in the state directory: lets `f2b-sophosxg status` report on a running sidecar
 * without a network port. Rewritten at most once a second while the status changes, and once
 * more at shutdown.
 */
import { join } from 'node:path';
import { auditTime, type Observable, type SchedulerLike } from 'rxjs';
import type { StatusSnapshot } from '../metrics/status.js';
import { writeFileAtomic } from '../state/index.js';
import type { Shutdown, ShutdownLogger } from './shutdown.js';

export const STATUS_FILE = 'status.json';
const MIN_INTERVAL_MS = 1000;

export interface StatusFileOptions {
  stateDir: string;
  /** Any emission means "the status changed". */
  changes$: Observable<unknown>;
  snapshot: () => StatusSnapshot;
  scheduler: SchedulerLike;
  log: ShutdownLogger;
  /** Writes a file atomically (default: the state store's writer). */
  write?: (file: string, text: string) => Promise<void>;
}

export function keepStatusFile(o: StatusFileOptions, shutdown: Shutdown): void {
  const file = join(o.stateDir, STATUS_FILE);
  const write = o.write ?? ((f: string, t: string) => writeFileAtomic(f, t));
  // A failed write is only logged: the file is a convenience, the sidecar's work goes on.
  const writeStatus = () =>
    write(file, JSON.stringify({ ...o.snapshot(), updatedAt: new Date(o.scheduler.now()).toISOString() }, null, 2)).catch((err: unknown) =>
      o.log.warn({ err }, 'cannot write status file'),
    );
  const sub = o.changes$.pipe(auditTime(MIN_INTERVAL_MS, o.scheduler)).subscribe(() => void writeStatus());
  shutdown.add(async () => {
    sub.unsubscribe();
    await writeStatus();
  });
}
