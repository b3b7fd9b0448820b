import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_SEED, PROFILES, jittered, seededRandom } from '../../src/emulator/profile.js';
import { doc, emulatorsPerTest, get, groupXml, hostXml, parse, set } from './helpers.js';

describe('seededRandom', () => {
  it('the same seed gives the same sequence, in [0, 1); another seed gives another one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (seed) => {
        const a = seededRandom(seed);
        const b = seededRandom(seed);
        const xs = Array.from({ length: 50 }, () => a());
        expect(Array.from({ length: 50 }, () => b())).toEqual(xs);
        for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
        const c = seededRandom(seed + 1);
        expect(Array.from({ length: 50 }, () => c())).not.toEqual(xs);
      }),
      { numRuns: 50 },
    );
  });

  it('is spread over the whole interval (mean near 0.5, every tenth visited)', () => {
    const r = seededRandom(DEFAULT_SEED);
    const xs = Array.from({ length: 10_000 }, () => r());
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
    const buckets = new Set(xs.map((x) => Math.floor(x * 10)));
    expect(buckets.size).toBe(10);
  });
});

describe('jittered', () => {
  it('stays within mean ± jitter and never goes below 0', () => {
    fc.assert(
      fc.property(fc.nat(10_000), fc.nat(10_000), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (mean, jitter, u) => {
        const ms = jittered(mean, jitter, () => u);
        expect(ms).toBeGreaterThanOrEqual(Math.max(0, mean - jitter));
        expect(ms).toBeLessThanOrEqual(mean + jitter);
      }),
    );
    expect(jittered(6000, 0, () => 0.99)).toBe(6000);
    expect(jittered(6000, 1500, () => 0)).toBe(4500);
    expect(jittered(6000, 1500, () => 0.5)).toBe(6000);
  });
});

const start = emulatorsPerTest();

/** An emulator whose delays are recorded instead of waited out. */
async function recorded(opts: Parameters<typeof start>[0]) {
  const delays: number[] = [];
  const f = await start({ ...opts, sleep: (ms) => (delays.push(ms), Promise.resolve()) });
  return { f, delays };
}

const write = (i: number) => doc(set('add', hostXml({ name: `h${i}`, ip: `198.18.0.${i}` })));
const read = doc(get('IPHostGroup'));

describe('the realistic profile', () => {
  it('writes wait 6 ± 1.5 s and reads 1 ± 0.25 s, through the injected delay; stats sum them', async () => {
    const { f, delays } = await recorded({ profile: 'realistic' });
    for (let i = 1; i <= 40; i++) expect(parse((await f.send(write(i))).body).entities[0]?.status?.code).toBe(200);
    const writes = delays.splice(0);
    for (let i = 0; i < 20; i++) await f.send(read);
    const reads = delays.splice(0);
    expect(writes).toHaveLength(40);
    expect(reads).toHaveLength(20);
    for (const ms of writes) expect(ms >= 4500 && ms <= 7500).toBe(true);
    for (const ms of reads) expect(ms >= 750 && ms <= 1250).toBe(true);
    // jitter, not a constant
    expect(new Set(writes).size).toBeGreaterThan(30);
    const mean = writes.reduce((s, x) => s + x, 0) / writes.length;
    expect(Math.abs(mean - 6000)).toBeLessThan(500);
    expect(f.em.stats.writeDelayMs).toBe(writes.reduce((s, x) => s + x, 0));
    expect(f.em.stats.readDelayMs).toBe(reads.reduce((s, x) => s + x, 0));
    expect(f.em.faults.serialize).toBe(true);
  });

  it('is repeatable: the same seed gives the same delays, another seed other ones', async () => {
    const run = async (seed?: number) => {
      const { f, delays } = await recorded({ profile: 'realistic', ...(seed === undefined ? {} : { seed }) });
      for (let i = 1; i <= 10; i++) await f.send(i % 3 === 0 ? read : write(i));
      return delays;
    };
    const a = await run(7);
    expect(await run(7)).toEqual(a);
    expect(await run(8)).not.toEqual(a);
    expect(await run()).toEqual(await run(DEFAULT_SEED));
  });

  it('explicit faults override the profile; the fast profile (default) adds no delay', async () => {
    const { f, delays } = await recorded({ profile: 'realistic', faults: { writeLatencyMs: 100, writeJitterMs: 0 } });
    await f.send(write(1));
    await f.send(read);
    expect(delays[0]).toBe(100);
    expect(delays[1]).toBeGreaterThanOrEqual(750);
    const fast = await recorded({});
    await fast.f.send(write(1));
    await fast.f.send(read);
    expect(fast.delays).toEqual([]);
    expect(PROFILES.fast.writeMs + PROFILES.fast.readMs).toBe(0);
  });

  it('a refused login or a malformed request costs no firewall time', async () => {
    const { f, delays } = await recorded({ profile: 'realistic' });
    await f.send(doc('', '<Login><Username>admin</Username><Password>nope</Password></Login>'));
    await f.send('<Request><Login>');
    expect(delays).toEqual([]);
  });

  it('served one at a time: three writes sent together take three write times (scaled-down profile)', async () => {
    const f = await start({ profile: { writeMs: 80, writeJitterMs: 20, readMs: 0, readJitterMs: 0, serialize: true } });
    await f.call(set('add', groupXml({ name: 'G' })));
    const t0 = performance.now();
    const rs = await Promise.all([1, 2, 3].map((i) => f.send(write(i))));
    const elapsed = performance.now() - t0;
    expect(rs.map((r) => parse(r.body).entities[0]?.status?.code)).toEqual([200, 200, 200]);
    expect(elapsed).toBeGreaterThanOrEqual(3 * 60 - 5);
    expect(f.em.stats.writeDelayMs).toBeGreaterThanOrEqual(4 * 60);
  });

  it('inFlight counts requests received and not yet answered', async () => {
    const f = await start({ profile: { writeMs: 300, writeJitterMs: 0, readMs: 0, readJitterMs: 0, serialize: true } });
    expect(f.em.stats.inFlight).toBe(0);
    const pending = Promise.all([f.send(write(1)), f.send(write(2))]);
    await new Promise((r) => setTimeout(r, 150));
    expect(f.em.stats.inFlight).toBe(2);
    await pending;
    expect(f.em.stats.inFlight).toBe(0);
  });
});
