/**
 * A burst of bans: the sidecar (one long-running process batching the difference) against the
 * original one-process-per-ban way (fail2ban's actionban running `f2b-sophosxg ban --ip IP` for
 * each ticket, one after another: a jail's actions run in its single Actions thread).
 */
import { banOnce, benchIp, extrapolate, startBed, startSidecar, sleep, until, type ConfigOptions, type Sample } from './lib.js';

export interface BurstResult {
  mode: 'sidecar' | 'one-shot';
  bans: number;
  writeLatencyMs: number;
  /** Log append → the emulator committed the last of the burst (emulator-side time stamp). */
  ms: number;
  /** Every HTTP request the firewall received for the burst. */
  requests: number;
  /** Requests holding a Set or Remove. */
  writes: number;
  /** Peak RSS (VmHWM) of the sidecar, or the largest of the one-shot processes, kB. */
  peakRssKb: number;
  /** Extrapolated from `sample` when the burst was not run in full. */
  extrapolated: boolean;
  sample?: { head: Sample; tail?: Sample };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => benchIp(from + i));

export async function sidecarBurst(bans: number, writeLatencyMs: number, cfg: ConfigOptions = {}): Promise<BurstResult> {
  const bed = await startBed(writeLatencyMs, cfg);
  try {
    const sidecar = await startSidecar(bed);
    try {
      const base = { ...bed.emu.stats };
      const t0 = performance.now();
      await bed.appendBans(range(0, bans));
      // Generous: one write per 50 bans at the latency, plus slack for a loaded 2-core machine.
      const timeout = 120_000 + Math.ceil(bans / 50) * (writeLatencyMs + 2000);
      await until(() => bed.members() >= bans, timeout, `${bans} members in the group`, 50);
      const ms = bed.clock.lastWriteAt - t0;
      const requests = bed.emu.stats.requests - base.requests;
      const writes = bed.emu.stats.writes - base.writes;
      const peakRssKb = sidecar.memory().hwmKb;
      return { mode: 'sidecar', bans, writeLatencyMs, ms, requests, writes, peakRssKb, extrapolated: false };
    } finally {
      await sidecar.stop();
    }
  } finally {
    await bed.close();
  }
}

/** Sequential `ban` processes for addresses [from, to), after `seeded` earlier bans already in the group. */
export async function oneShotRun(
  from: number,
  to: number,
  writeLatencyMs: number,
): Promise<Sample & { writes: number; peakRssKb: number }> {
  const bed = await startBed(writeLatencyMs);
  try {
    if (from > 0) bed.seed(range(0, from));
    const base = { ...bed.emu.stats };
    let peakRssKb = 0;
    const t0 = performance.now();
    for (const ip of range(from, to)) peakRssKb = Math.max(peakRssKb, await banOnce(bed, ip));
    await until(() => bed.members() >= to, 10_000, 'the one-shot bans to show in the group');
    return {
      n: to - from,
      ms: bed.clock.lastWriteAt - t0,
      requests: bed.emu.stats.requests - base.requests,
      writes: bed.emu.stats.writes - base.writes,
      peakRssKb,
    };
  } finally {
    await bed.close();
  }
}

/**
 * The one-shot way for a burst of `bans`, measured on `sample` bans: the first ones (empty group)
 * and, when the burst is larger, the last ones (group already holding the rest), then
 * extrapolated linearly. `head` can be shared between bursts: their first bans are the same.
 */
export async function oneShotBurst(
  bans: number,
  writeLatencyMs: number,
  sample: number,
  head?: Awaited<ReturnType<typeof oneShotRun>>,
): Promise<BurstResult & { head: Awaited<ReturnType<typeof oneShotRun>> }> {
  const h = head ?? (await oneShotRun(0, Math.min(sample, bans), writeLatencyMs));
  if (h.n >= bans) {
    return {
      mode: 'one-shot',
      bans,
      writeLatencyMs,
      ms: h.ms,
      requests: h.requests,
      writes: h.writes,
      peakRssKb: h.peakRssKb,
      extrapolated: false,
      head: h,
    };
  }
  await sleep(200);
  const tail = await oneShotRun(bans - h.n, bans, writeLatencyMs);
  const est = extrapolate(h, bans, tail);
  const writes = extrapolate({ ...h, requests: h.writes }, bans, { ...tail, requests: tail.writes }).requests;
  return {
    mode: 'one-shot',
    bans,
    writeLatencyMs,
    ms: est.ms,
    requests: est.requests,
    writes,
    peakRssKb: Math.max(h.peakRssKb, tail.peakRssKb),
    extrapolated: true,
    sample: { head: h, tail },
    head: h,
  };
}
