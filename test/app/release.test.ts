import { mkdtemp, readdir, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pollReleases, RELEASE_DIR, requestRelease } from '../../src/app/release.js';
import { RemovalBreaker } from '../../src/pipeline/breaker.js';

const addrs = (n: number): string[] => Array.from({ length: n }, (_, i) => `192.0.2.${i + 1}`);
const log = () => {
  const lines: string[] = [];
  return {
    lines,
    info: (_o: object, m: string) => void lines.push(`info ${m}`),
    warn: (_o: object, m: string) => void lines.push(`warn ${m}`),
  };
};

describe('release requests', () => {
  it('a request file releases exactly the named hold and is removed; an unknown one waits, then expires', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'f2b-release-'));
    const breaker = new RemovalBreaker();
    const d = breaker.decide('fw1/g', { owned: 30, unbans: [], orphans: addrs(30) }, 0);
    expect(d.held).toHaveLength(30);
    const token = d.hold!.token;

    // Written before the hold exists in this process (no sidecar running, or just started): kept.
    const early = new RemovalBreaker();
    await requestRelease(dir, token);
    const l = log();
    expect(await pollReleases({ stateDir: dir, breaker: early, log: l })).toBe(0);
    expect(await readdir(join(dir, RELEASE_DIR))).toHaveLength(1);

    let kicked = 0;
    expect(await pollReleases({ stateDir: dir, breaker, log: l, onReleased: () => kicked++ })).toBe(30);
    expect(kicked).toBe(1);
    expect(await readdir(join(dir, RELEASE_DIR))).toEqual([]);
    expect(breaker.holds()).toEqual([]);
    expect(breaker.decide('fw1/g', { owned: 30, unbans: [], orphans: addrs(30) }, 1).allowed).toHaveLength(30);

    // A stale token (the held set changed) is dropped after an hour, with a warning.
    const file = await requestRelease(dir, 'fw1/g#3-000000000000');
    const old = new Date(Date.now() - 2 * 3_600_000);
    await utimes(file, old, old);
    await pollReleases({ stateDir: dir, breaker, log: l });
    expect(await readdir(join(dir, RELEASE_DIR))).toEqual([]);
    expect(l.lines.filter((x) => x.startsWith('warn'))).toHaveLength(1);
  });
});
