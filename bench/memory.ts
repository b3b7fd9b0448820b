/**
 * Resident memory of the sidecar holding `addresses` bans: the log holds that many Ban lines
 * and the firewall group already holds the hosts (the steady state after a restart, reached
 * without 100,000 emulated writes). The sidecar reads the whole log, reads the whole group back,
 * finds nothing to write, and settles; we read its VmRSS 3 s after that, again once it is steady
 * (V8 gives the start-up's garbage back to the system only when its memory reducer runs, some
 * 10–40 s after the work stops; a sidecar runs for months, so the steady figure is the one that
 * counts), and its VmHWM (peak).
 */
import { benchIp, sidecarProgress, sleep, startBed, startSidecar, until, type GroupProgress, type ProcMemory } from './lib.js';

/** How long after settling the steady reading is taken. */
export const STEADY_SPAN_MS = 75_000;

export interface MemoryResult extends ProcMemory {
  addresses: number;
  /** VmRSS 3 s + STEADY_SPAN_MS after settling. */
  steadyKb?: number;
  /** Settled → the last move of RSS by more than 1 MB. */
  steadyAfterMs?: number;
  /** Write requests the firewall received: 0 expected (the group already matches). */
  writes: number;
  /** Start → desired and applied both equal `addresses`; undefined when it never settled. */
  settleMs?: number;
  /** Why it did not settle (time limit, crash), with the sidecar's last reported progress. */
  failure?: string;
}

export async function sidecarMemory(addresses: number, writeLatencyMs: number, timeoutMs = 150_000): Promise<MemoryResult> {
  const bed = await startBed(writeLatencyMs);
  try {
    const ips = Array.from({ length: addresses }, (_, i) => benchIp(i));
    bed.seed(ips);
    await bed.appendBans(ips);
    const t0 = performance.now();
    const sidecar = await startSidecar(bed, timeoutMs);
    let last: ProcMemory = sidecar.memory();
    let progress: GroupProgress | undefined;
    let failure: string | undefined;
    let settleMs: number | undefined;
    let steadyKb: number | undefined;
    let steadyAfterMs: number | undefined;
    try {
      await until(
        () => {
          // The process may die (out of memory) between two readings: keep the last one it gave.
          try {
            last = sidecar.memory();
          } catch {
            throw new Error(
              `the sidecar process is gone (last RSS ${Math.round(last.rssKb / 1024)} MB, peak ${Math.round(last.hwmKb / 1024)} MB)`,
            );
          }
          progress = sidecarProgress(bed);
          return progress !== undefined && progress.desired === addresses && progress.applied === addresses && progress.pendingAdds === 0;
        },
        Math.max(1000, timeoutMs - (performance.now() - t0)),
        `the sidecar to hold ${addresses} addresses`,
        250,
      );
      settleMs = performance.now() - t0;
      await sleep(3000);
      last = sidecar.memory();
      const s = await steady(sidecar.memory, STEADY_SPAN_MS);
      steadyKb = s.rssKb;
      steadyAfterMs = s.afterMs + 3000;
    } catch (err) {
      failure = `${(err as Error).message.split('\n')[0]}; last progress ${JSON.stringify(progress ?? null)}`;
    }
    await sidecar.stop().catch((err: unknown) => {
      failure = `${failure ?? ''}; ${(err as Error).message.split('\n')[0]}`;
    });
    return { addresses, ...last, steadyKb, steadyAfterMs, writes: bed.emu.stats.writes, settleMs, failure };
  } finally {
    await bed.close();
  }
}

/**
 * Samples RSS every second for `spanMs` and returns the last reading, and when it last moved by
 * more than 1 MB. A fixed span, not "flat for a while": RSS sits flat on the start-up peak for
 * 10–40 s before V8's memory reducer runs and gives the garbage back.
 */
async function steady(read: () => ProcMemory, spanMs: number): Promise<{ rssKb: number; afterMs: number }> {
  const t0 = performance.now();
  let ref = read().rssKb;
  let moved = 0;
  for (;;) {
    await sleep(1000);
    const now = performance.now();
    const rss = read().rssKb;
    if (Math.abs(rss - ref) > 1024) {
      ref = rss;
      moved = now - t0;
    }
    if (now - t0 >= spanMs) return { rssKb: rss, afterMs: moved };
  }
}
