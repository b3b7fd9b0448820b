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
  /** Written into the file so `status` can tell whether its writer still runs (default: this process). */
  pid?: number;
}

export function keepStatusFile(o: StatusFileOptions, shutdown: Shutdown): void {
  const file = join(o.stateDir, STATUS_FILE);
  const write = o.write ?? ((f: string, t: string) => writeFileAtomic(f, t));
  const pid = o.pid ?? process.pid;
  // A failed write is only logged: the file is a convenience, the sidecar's work goes on.
  const writeStatus = () =>
    write(file, JSON.stringify({ ...o.snapshot(), updatedAt: new Date(o.scheduler.now()).toISOString(), pid }, null, 2)).catch(
      (err: unknown) => o.log.warn({ err }, 'cannot write status file'),
    );
  const sub = o.changes$.pipe(auditTime(MIN_INTERVAL_MS, o.scheduler)).subscribe(() => void writeStatus());
  shutdown.add(async () => {
    sub.unsubscribe();
    await writeStatus();
  });
}

/** What `status` says about the writer of status.json: how old the file is and whether its process runs. */
export interface StatusWriter {
  ageMs?: number;
  /** undefined: no pid in the file (written by an older version). */
  running?: boolean;
  line: string;
}

/**
 * Pure: the age of `updatedAt` at `now` and the liveness of `pid` (asked through `alive`). A live
 * pid may be another process that got the number after a reboot: the age tells that case apart.
 */
export function describeWriter(s: { updatedAt?: string; pid?: number }, now: number, alive: (pid: number) => boolean): StatusWriter {
  const at = s.updatedAt === undefined ? NaN : Date.parse(s.updatedAt);
  const ageMs = Number.isFinite(at) ? Math.max(0, now - at) : undefined;
  const age = ageMs === undefined ? 'of unknown age' : `written ${formatAge(ageMs)} ago`;
  if (s.pid === undefined || !Number.isInteger(s.pid) || s.pid <= 0) return { ageMs, line: `status ${age} (no process id in it)` };
  const running = alive(s.pid);
  return running
    ? { ageMs, running, line: `sidecar running (pid ${s.pid}), status ${age}` }
    : {
        ageMs,
        running,
        line: `NOT RUNNING: the sidecar that wrote this status (pid ${s.pid}) has stopped; status ${age}, its figures are as it left them`,
      };
}

function formatAge(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

/** Signal 0: ESRCH = no such process; EPERM = it exists under another user. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
