import { describe, expect, it } from 'vitest';
import { DEFAULT_BREAKER, RemovalBreaker } from '../../src/pipeline/breaker.js';

const G = 'xg/f2b-sshd';
const MIN = 60_000;

function addrs(n: number, from = 0, net = '198.51'): string[] {
  return Array.from({ length: n }, (_, i) => `${net}.${Math.floor((from + i) / 256)}.${(from + i) % 256}`);
}

describe('RemovalBreaker', () => {
  it('defaults: hold above 5 orphans and above 20 % of the group or 1,000, counted over 10 minutes', () => {
    expect(DEFAULT_BREAKER).toEqual({ minCount: 5, maxShare: 0.2, maxCount: 1000, windowMs: 600_000 });
  });

  it('lifts 2,000 expiring bans at once: Unban removals are never held', () => {
    const b = new RemovalBreaker();
    const unbans = addrs(2000);
    const d = b.decide(G, { owned: 2000, unbans, orphans: [] }, 0);
    expect(d.allowed).toEqual(unbans);
    expect(d.held).toEqual([]);
    expect(b.holds()).toEqual([]);
  });

  it('Unban removals pass while orphans of the same group are held', () => {
    const b = new RemovalBreaker();
    const unbans = addrs(2000);
    const orphans = addrs(600, 0, '203.0');
    const d = b.decide(G, { owned: 2600, unbans, orphans }, 0);
    expect(d.allowed).toEqual(unbans);
    expect(d.held).toEqual(orphans);
  });

  it.each([
    // [owned, orphans, held?] on both sides of each limit
    [100, 20, false], // 20 % is not more than 20 %
    [100, 21, true],
    [10, 5, false], // 50 % but not more than minCount
    [10, 6, true],
    [6, 6, true], // a whole small group (a lost state, issue 11 item 5)
    [100_000, 1000, false], // 1 %, not more than maxCount
    [100_000, 1001, true],
  ])('group of %i, %i orphans: held %s', (owned, n, held) => {
    const b = new RemovalBreaker();
    const orphans = addrs(n);
    const d = b.decide(G, { owned, unbans: [], orphans }, 0);
    expect(d.held.length).toBe(held ? n : 0);
    expect(d.allowed.length).toBe(held ? 0 : n);
    expect(b.holds().length).toBe(held ? 1 : 0);
  });

  it('a group cannot be drained in slices that each stay under the share; the window ends', () => {
    const b = new RemovalBreaker();
    expect(b.decide(G, { owned: 100, unbans: [], orphans: addrs(15) }, 0).held).toEqual([]);
    // The 15 are gone: 85 left, 10 more would make 25 of the 100 the group had.
    const second = addrs(10, 100);
    expect(b.decide(G, { owned: 85, unbans: [], orphans: second }, 1 * MIN).held).toEqual(second);
    expect(b.holds()[0]).toMatchObject({ count: 10, recent: 15, since: MIN });
    // Ten minutes after the first slice it no longer counts: 10 of 85 pass.
    expect(b.decide(G, { owned: 85, unbans: [], orphans: second }, 10 * MIN).allowed).toEqual(second);
    expect(b.holds()).toEqual([]);
  });

  it('a retried orphan (its write failed) is not counted twice', () => {
    const b = new RemovalBreaker();
    const orphans = addrs(15);
    b.decide(G, { owned: 100, unbans: [], orphans }, 0);
    const again = b.decide(G, { owned: 100, unbans: [], orphans }, MIN);
    expect(again.allowed).toEqual(orphans);
    expect(again.held).toEqual([]);
  });

  it('groups are judged apart', () => {
    const b = new RemovalBreaker();
    expect(b.decide('xg/a', { owned: 100, unbans: [], orphans: addrs(50) }, 0).held.length).toBe(50);
    expect(b.decide('xg/b', { owned: 1000, unbans: [], orphans: addrs(50) }, 0).held.length).toBe(0);
    expect(b.holds().map((h) => h.group)).toEqual(['xg/a']);
  });

  it('shows why it holds, and releases exactly the held set with its token', () => {
    const b = new RemovalBreaker();
    const orphans = addrs(30);
    const d = b.decide(G, { owned: 40, unbans: [], orphans }, 5);
    const hold = d.hold;
    expect(hold).toMatchObject({ group: G, count: 30, owned: 40, recent: 0, since: 5 });
    expect(hold?.reason).toBe(
      '30 removals no Unban asked for (30 pending, 0 in the last 10 min) would take 75 % of 40 hosts; limits: 20 % or 1000, above 5',
    );
    expect(b.holds()).toEqual([hold]);
    expect(b.release('xg/f2b-sshd#30-000000000000')).toEqual({ ok: false, reason: 'unknown-token' });
    expect(b.release(hold?.token ?? '')).toEqual({ ok: true, group: G, released: 30 });
    expect(b.holds()).toEqual([]);
    const after = b.decide(G, { owned: 40, unbans: [], orphans }, 10);
    expect(after.allowed).toEqual(orphans);
    expect(after.held).toEqual([]);
    // A token is good once.
    expect(b.release(hold?.token ?? '')).toEqual({ ok: false, reason: 'unknown-token' });
  });

  it('a released set does not let newcomers through: they are judged on their own', () => {
    const b = new RemovalBreaker();
    const first = addrs(30);
    const token = b.decide(G, { owned: 40, unbans: [], orphans: first }, 0).hold?.token ?? '';
    b.release(token);
    const more = addrs(30, 500);
    const d = b.decide(G, { owned: 70, unbans: [], orphans: [...first, ...more] }, 1);
    expect(d.allowed).toEqual(first);
    expect(d.held).toEqual(more);
  });

  it('the token changes when the held set changes, so an old token releases nothing', () => {
    const b = new RemovalBreaker();
    const t1 = b.decide(G, { owned: 40, unbans: [], orphans: addrs(30) }, 0).hold?.token;
    const same = b.decide(G, { owned: 40, unbans: [], orphans: addrs(30) }, 1).hold;
    expect(same?.token).toBe(t1);
    const grown = b.decide(G, { owned: 41, unbans: [], orphans: addrs(31) }, 2).hold;
    expect(grown?.token).not.toBe(t1);
    expect(grown?.since).toBe(0);
    expect(b.release(t1 ?? '')).toEqual({ ok: false, reason: 'unknown-token' });
    // The same set has the same token in a fresh breaker (after a restart).
    expect(new RemovalBreaker().decide(G, { owned: 41, unbans: [], orphans: addrs(31) }, 9).hold?.token).toBe(grown?.token);
  });

  it('a config change that makes the removals unnecessary ends the hold', () => {
    const b = new RemovalBreaker();
    b.decide(G, { owned: 40, unbans: [], orphans: addrs(30) }, 0);
    expect(b.holds().length).toBe(1);
    expect(b.decide(G, { owned: 40, unbans: [], orphans: [] }, 1)).toEqual({ allowed: [], held: [] });
    expect(b.holds()).toEqual([]);
  });

  it('limits are configurable and validated', () => {
    const b = new RemovalBreaker({ minCount: 0, maxShare: 0, maxCount: 0 });
    expect(b.decide(G, { owned: 100, unbans: [], orphans: addrs(1) }, 0).held.length).toBe(1);
    expect(() => new RemovalBreaker({ maxShare: 1.5 })).toThrow(RangeError);
    expect(() => new RemovalBreaker({ maxCount: -1 })).toThrow(RangeError);
  });
});
