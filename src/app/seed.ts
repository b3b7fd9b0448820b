/**
 * `seedFromClient`: on a first start (no state yet) the sidecar asks fail2ban which addresses are
 * banned right now, so bans made before it was installed reach the firewall without waiting for
 * fail2ban to ban them again. `fail2ban-client banned` (0.10.6, 0.11.2+) answers in one call; older
 * servers get `status` and then `status JAIL` per jail (reference §10). The command runs at this
 * edge; turning its output into pipeline events is pure (seedEvents).
 */
import { execFile } from 'node:child_process';
import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import type { PipelineInput } from '../pipeline/sidecar.js';
import type { PipelineLogger } from '../pipeline/log.js';
import { ClientOutputError, parseBanned, parseStatusJails } from '../parser/client.js';
import { checkAddress } from '../core/address.js';
import type { F2bEvent } from '../parser/types.js';

/** One fail2ban-client call; `banned` on a big server prints a few MB at most. */
export const CLIENT_TIMEOUT_MS = 30_000;
const MAX_OUTPUT = 64 * 1024 * 1024;

export interface ClientCommand {
  /** Executable (looked up in PATH when it has no slash). */
  path: string;
  /** Arguments before the sub-command, e.g. ["-s", "/run/fail2ban/fail2ban.sock"]. */
  args: readonly string[];
}

/** fail2ban-client could not be run, failed, or timed out. */
export class ClientCommandError extends Error {
  readonly code = 'F2B_CLIENT_FAILED';
  /** The server may be starting, or the socket may appear: a later start can succeed. */
  readonly retryable = true;
  constructor(
    message: string,
    readonly exitCode?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ClientCommandError';
  }
}

/** Runs `path args… sub…`; resolves stdout on exit code 0. */
export function runClient(
  cmd: ClientCommand,
  sub: readonly string[],
  timeoutMs = CLIENT_TIMEOUT_MS,
  signal?: AbortSignal,
): Promise<string> {
  const argv = [...cmd.args, ...sub];
  const shown = [cmd.path, ...argv].join(' ');
  return new Promise((resolve, reject) => {
    const opts = {
      timeout: timeoutMs,
      killSignal: 'SIGKILL' as const,
      maxBuffer: MAX_OUTPUT,
      encoding: 'utf8' as const,
      ...(signal ? { signal } : {}),
    };
    execFile(cmd.path, argv, opts, (err, stdout, stderr) => {
      if (!err) {
        resolve(stdout);
        return;
      }
      const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: unknown };
      const detail = firstLine(stderr) || firstLine(stdout);
      if (e.killed) reject(new ClientCommandError(`\`${shown}\` timed out after ${timeoutMs} ms`, undefined, { cause: err }));
      else if (typeof e.code === 'number') {
        reject(new ClientCommandError(`\`${shown}\` exited with code ${e.code}${detail ? `: ${detail}` : ''}`, e.code, { cause: err }));
      } else reject(new ClientCommandError(`cannot run \`${shown}\`: ${e.message}`, undefined, { cause: err }));
    });
  });
}

function firstLine(s: string): string {
  return (s.split('\n').find((l) => l.trim() !== '') ?? '').trim().slice(0, 300);
}

/**
 * `fail2ban-client status JAIL`: the IDs after "Banned IP list:" (space-separated; all versions).
 * Throws ClientOutputError when the line is missing (e.g. `status JAIL short`).
 */
export function parseStatusJailBanned(stdout: string): string[] {
  if (!/^Status for the jail: /m.test(stdout)) throw new ClientOutputError('`status JAIL` output has no "Status for the jail:" line');
  const m = /^[\s|`-]*Banned IP list:\t?(.*?)\r?$/m.exec(stdout);
  if (!m) throw new ClientOutputError('`status JAIL` output has no "Banned IP list:" line');
  const list = (m[1] ?? '').trim();
  return list === '' ? [] : list.split(/\s+/);
}

export interface BannedListing {
  /** jail → IDs as printed. */
  jails: Map<string, string[]>;
  /** Which command answered. */
  via: 'banned' | 'status';
  /** Why `banned` was not used, when the fallback ran. */
  fallbackReason?: string;
}

/** Asks fail2ban for every current ban: `banned`, else `status` + `status JAIL`. */
export async function readBanned(cmd: ClientCommand, timeoutMs = CLIENT_TIMEOUT_MS, signal?: AbortSignal): Promise<BannedListing> {
  const call = (sub: string[]) => runClient(cmd, sub, timeoutMs, signal);
  let reason: string;
  try {
    return { jails: parseBanned(await call(['banned'])), via: 'banned' };
  } catch (err) {
    // Timeouts and a missing executable will not get better with more calls.
    if (err instanceof ClientCommandError && err.exitCode === undefined) throw err;
    reason = (err as Error).message;
  }
  const jails = new Map<string, string[]>();
  for (const jail of parseStatusJails(await call(['status']))) {
    jails.set(jail, parseStatusJailBanned(await call(['status', jail])));
  }
  return { jails, via: 'status', fallbackReason: reason };
}

export interface SeedPlan {
  /** One `restore-ban` per valid (jail, address): a ban fail2ban already holds, not a new one. */
  events: F2bEvent[];
  /** IDs that are not IP addresses or networks (hostnames, garbage typed into `banip`). */
  rejected: Array<{ jail: string; id: string; reason: string }>;
}

/**
 * Listing → pipeline events. `restore-ban` rather than `ban`: the model treats both alike, and a
 * seeded ban has no log line, so it must not count as a live ban (ban-to-block latency).
 */
export function seedEvents(jails: ReadonlyMap<string, readonly string[]>): SeedPlan {
  const plan: SeedPlan = { events: [], rejected: [] };
  for (const [jail, ids] of jails) {
    for (const id of ids) {
      const a = checkAddress(id);
      if (!a.ok) {
        plan.rejected.push({ jail, id, reason: a.reason });
        continue;
      }
      plan.events.push({ type: 'restore-ban', jail, ip: a.ip, family: a.family, raw: `fail2ban-client: [${jail}] ${id}` });
    }
  }
  return plan;
}

export interface SeedOptions {
  client: ClientCommand;
  log: PipelineLogger;
  timeoutMs?: number;
}

/**
 * The current bans as pipeline inputs (no checkpoint: they come from no log line). Never errors:
 * without fail2ban-client the sidecar still works from the log alone, so a failure is a warning.
 */
export function seedInputs(o: SeedOptions): Observable<PipelineInput> {
  return new Observable<PipelineInput>((sub) => {
    const abort = new AbortController();
    readBanned(o.client, o.timeoutMs, abort.signal).then(
      (listing) => {
        if (abort.signal.aborted) return;
        if (listing.fallbackReason)
          o.log.info({ reason: listing.fallbackReason }, '`fail2ban-client banned` unavailable: seeded from `status JAIL`');
        const plan = seedEvents(listing.jails);
        for (const r of plan.rejected) o.log.warn(r, 'seed: not an IP address or network, skipped');
        o.log.info(
          { via: listing.via, jails: listing.jails.size, bans: plan.events.length, rejected: plan.rejected.length },
          'seeded desired state from fail2ban-client',
        );
        for (const event of plan.events) sub.next({ event });
        sub.complete();
      },
      (err: unknown) => {
        if (abort.signal.aborted) return;
        const e = err as { message?: unknown; code?: unknown };
        o.log.warn(
          { code: typeof e.code === 'string' ? e.code : 'UNKNOWN', err: String(e.message ?? err) },
          'seedFromClient: cannot read the current bans from fail2ban-client; following the log only',
        );
        sub.complete();
      },
    );
    return () => abort.abort();
  });
}

/**
 * Subscribes to the source at once but holds its items back until `seed$` completes, then emits
 * the held items and goes live. The log is followed from before the snapshot is taken, so a line
 * written while fail2ban-client runs is applied after the snapshot, never lost or reordered before it.
 */
export function seedFirst<T>(seed$: Observable<T>): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((sub) => {
      let held: T[] | undefined = [];
      let end: (() => void) | undefined;
      const live = source.subscribe({
        next: (v) => (held ? held.push(v) : sub.next(v)),
        error: (e: unknown) => (held ? (end = () => sub.error(e)) : sub.error(e)),
        complete: () => (held ? (end = () => sub.complete()) : sub.complete()),
      });
      const seeding = seed$.subscribe({
        next: (v) => sub.next(v),
        error: (e: unknown) => sub.error(e),
        complete: () => {
          const items = held ?? [];
          held = undefined;
          for (const v of items) sub.next(v);
          end?.();
        },
      });
      return () => {
        seeding.unsubscribe();
        live.unsubscribe();
      };
    });
}
