/**
 * Latency profiles: how long the emulated firewall takes per request. `fast` answers at once
 * (tests); `realistic` is the firewall's own pace as measured on a real XGS (reference §4.7,
 * §6.3): writes 5–8 s, modelled as 6 ± 1.5 s, about 1 s per Get, one request at a time. The
 * jitter comes from a seeded generator so a benchmark run can be repeated exactly.
 */

export type ProfileName = 'fast' | 'realistic';

export interface LatencyProfile {
  /** Mean delay of a request holding a Set or Remove. */
  writeMs: number;
  /** Half-width of the uniform spread around writeMs (6000 ± 1500 → 4.5 s … 7.5 s). */
  writeJitterMs: number;
  readMs: number;
  readJitterMs: number;
  /** One request at a time: the real firewall appears to serialise API calls (§6.3). */
  serialize: boolean;
}

export const PROFILES: Readonly<Record<ProfileName, Readonly<LatencyProfile>>> = Object.freeze({
  fast: Object.freeze({ writeMs: 0, writeJitterMs: 0, readMs: 0, readJitterMs: 0, serialize: true }),
  realistic: Object.freeze({ writeMs: 6000, writeJitterMs: 1500, readMs: 1000, readJitterMs: 250, serialize: true }),
});

/** Seed used when a profile with jitter is asked for without one: runs are repeatable by default. */
export const DEFAULT_SEED = 0x5eed;

/**
 * mulberry32: a tiny seeded generator with a full 2^32 period, uniform in [0, 1). Not for
 * anything secret; it only spreads latencies reproducibly.
 */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A delay uniform in [mean − jitter, mean + jitter], never negative; `random` in [0, 1). */
export function jittered(meanMs: number, jitterMs: number, random: () => number): number {
  if (jitterMs <= 0) return Math.max(0, meanMs);
  return Math.max(0, Math.round(meanMs + (2 * random() - 1) * jitterMs));
}
