/**
 * One ban at a time: the Ban line is appended to the log → the firewall commits the write that
 * makes the host a member of the group (emulator-side time stamp, same clock).
 * - 'quiet': each ban comes more than a window after the previous write (a quiet period: the
 *   sidecar writes it at once);
 * - 'follow-up': each ban comes 100–500 ms after the previous one was acknowledged, inside the
 *   window that write started (it waits for the window's end).
 */
import { benchIp, hostOf, median, percentile, sleep, startBed, startSidecar } from './lib.js';

export type Spacing = 'quiet' | 'follow-up';

export interface LatencyResult {
  spacing: Spacing;
  bans: number;
  windowMs: number;
  writeLatencyMs: number;
  medianMs: number;
  p99Ms: number;
  minMs: number;
  maxMs: number;
  /** Target: the batching window plus one write. */
  targetMs: number;
}

export const DEFAULT_WINDOW_MS = 1000;

export async function singleBanLatency(
  bans: number,
  writeLatencyMs: number,
  spacing: Spacing,
  windowMs = DEFAULT_WINDOW_MS,
): Promise<LatencyResult> {
  // windowMs is the shipped default; written to the config only when it differs.
  const bed = await startBed(writeLatencyMs, windowMs === DEFAULT_WINDOW_MS ? {} : { windowMs });
  const out: number[] = [];
  try {
    const sidecar = await startSidecar(bed);
    try {
      for (let i = 0; i < bans; i++) {
        const ip = benchIp(i);
        const acked = bed.clock.whenMember(hostOf(ip));
        const t0 = performance.now();
        await bed.appendBans([ip]);
        const timeout = sleep(windowMs + writeLatencyMs + 60_000).then(() => undefined);
        const t1 = await Promise.race([acked, timeout]);
        if (t1 === undefined) throw new Error(`ban ${i + 1} (${ip}) not applied within a minute`);
        out.push(t1 - t0);
        // An irregular pause, so the appends do not fall in step with the tailer's poll.
        await sleep((spacing === 'quiet' ? windowMs : 0) + 100 + Math.floor(Math.random() * 400));
      }
    } finally {
      await sidecar.stop();
    }
  } finally {
    await bed.close();
  }
  return {
    spacing,
    bans,
    windowMs,
    writeLatencyMs,
    medianMs: median(out),
    p99Ms: percentile(out, 99),
    minMs: Math.min(...out),
    maxMs: Math.max(...out),
    targetMs: windowMs + writeLatencyMs,
  };
}
