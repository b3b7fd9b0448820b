import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { IPLIST_MAX_ADDRESSES, listNamer } from '../../src/core/list-name.js';
import { desiredAfter, planLists, planSteps, type ListPlan, type ListStep, type PackInput } from '../../src/pipeline/packing.js';

// ---- a firewall that applies list steps the way the XG would ----------------------------------

interface FwList {
  addresses: string[];
  inGroup: boolean;
}

const sameSet = (a: readonly string[], b: readonly string[]) => {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((v) => y.has(v));
};

/** Applies one step; throws where the XG would refuse it (502, 503, 501 over the cap or empty, 510). */
function apply(fw: Map<string, FwList>, step: ListStep, listSize: number): void {
  const checkContent = (name: string, addresses: string[]) => {
    if (addresses.length === 0 || addresses.length > listSize) throw new Error(`501: ${name} holds ${addresses.length}`);
    if (addresses.some((a) => a.includes('/'))) throw new Error(`501: ${name} holds a network`);
    if (new Set(addresses).size !== addresses.length) throw new Error(`${name}: duplicate addresses written`);
    for (const [other, l] of fw) if (other !== name && sameSet(l.addresses, addresses)) throw new Error(`503: ${name} = ${other}`);
  };
  const l = fw.get(step.name);
  switch (step.op) {
    case 'create':
      if (l) throw new Error(`502: ${step.name} exists`);
      checkContent(step.name, step.addresses);
      fw.set(step.name, { addresses: [...step.addresses], inGroup: true });
      return;
    case 'update':
      if (!l) throw new Error(`500: ${step.name} missing`);
      checkContent(step.name, step.addresses);
      l.addresses = [...step.addresses];
      return;
    case 'leave':
      if (!l) throw new Error(`500: ${step.name} missing`);
      expect(step.addresses).toEqual(l.addresses);
      l.inGroup = false;
      return;
    case 'delete':
      if (!l || l.inGroup) throw new Error(`510/528: ${step.name}`);
      fw.delete(step.name);
  }
}

function firewall(current: ReadonlyMap<string, readonly string[]>): Map<string, FwList> {
  return new Map([...current].map(([n, a]) => [n, { addresses: [...a], inGroup: true }]));
}

function blocked(fw: Map<string, FwList>): Set<string> {
  const out = new Set<string>();
  for (const l of fw.values()) if (l.inGroup) for (const a of l.addresses) out.add(a);
  return out;
}

// ---- generators ----------------------------------------------------------------------------------

const namer = listNamer('f2b_', 'blocked');
const universe = Array.from({ length: 40 }, (_, i) => `198.51.100.${i}`);
const addr = fc.constantFrom(...universe);

/** Lists drawn from `pool`: a small pool makes overlapping lists and equal contents (503) common. */
const packInputOver = (pool: fc.Arbitrary<string>): fc.Arbitrary<PackInput> =>
  fc
    .record({
      listSize: fc.integer({ min: 1, max: 8 }),
      shards: fc.uniqueArray(fc.integer({ min: 1, max: 12 }), { maxLength: 7 }),
      contents: fc.array(fc.array(pool, { minLength: 1, maxLength: 12 }), { minLength: 7, maxLength: 7 }),
      desired: fc.uniqueArray(pool, { maxLength: 40 }),
      compact: fc.constantFrom('auto', 'never', 'full') as fc.Arbitrary<'auto' | 'never' | 'full'>,
    })
    .map(({ listSize, shards, contents, desired, compact }) => ({
      current: new Map(shards.map((s, i) => [namer.name(s), contents[i] as string[]])),
      desired: new Set(desired),
      listSize,
      namer,
      compact,
    }));

const packInput = packInputOver(addr);
/** 6 addresses over 7 lists: hand-made duplicates everywhere (the 40-address pool found seed 151921049 once). */
const denseInput = packInputOver(fc.constantFrom(...universe.slice(0, 6)));
const anyInput = fc.oneof(packInput, denseInput);
/** Networks among the addresses, as the parser and the floor let them through (canonical text). */
const networks = ['198.51.100.0/24', '198.51.100.0/30', '2001:db8::/64'];
const withNetworks = packInputOver(fc.constantFrom(...universe.slice(0, 6), ...networks));

/** Current lists as the packer itself would leave them: no duplicates, within the cap. */
const tidyInput: fc.Arbitrary<PackInput> = packInput.map((p) => {
  const seen = new Set<string>();
  const current = new Map<string, string[]>();
  for (const [n, list] of p.current) {
    const mine = [...new Set(list)].filter((a) => !seen.has(a)).slice(0, p.listSize);
    mine.forEach((a) => seen.add(a));
    if (mine.length > 0) current.set(n, mine);
  }
  return { ...p, current };
});

function run(p: PackInput, plan: ListPlan = planLists(p)): Map<string, FwList> {
  const fw = firewall(p.current);
  for (const s of planSteps(plan)) apply(fw, s, p.listSize);
  return fw;
}

// ---- properties ----------------------------------------------------------------------------------

describe('planLists: properties', () => {
  it('afterwards every desired address is in exactly one list, nothing else is, every list is in the group and within the cap', () => {
    fc.assert(
      fc.property(anyInput, (p) => {
        const plan = planLists(p);
        const fw = run(p, plan);
        const seen = new Map<string, number>();
        for (const l of fw.values()) {
          expect(l.inGroup).toBe(true);
          expect(l.addresses.length).toBeGreaterThan(0);
          expect(l.addresses.length).toBeLessThanOrEqual(p.listSize);
          for (const a of l.addresses) seen.set(a, (seen.get(a) ?? 0) + 1);
        }
        expect([...seen.keys()].sort()).toEqual([...p.desired].sort());
        for (const n of seen.values()) expect(n).toBe(1);
        expect(new Map([...fw].map(([n, l]) => [n, l.addresses]))).toEqual(plan.lists);
      }),
      { numRuns: 500 },
    );
  });

  it('no desired address that was blocked is unblocked at any step, even when only some steps of a stage get through', () => {
    fc.assert(
      fc.property(anyInput, fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }), (p, mask) => {
        const plan = planLists(p);
        const before = blocked(firewall(p.current));
        const mustStay = [...p.desired].filter((a) => before.has(a));
        const fw = firewall(p.current);
        let k = 0;
        for (const stage of [plan.gain, plan.group, plan.lose]) {
          // Any subset of the stage may fail (the XG treats entities independently) …
          const partial = new Map([...fw].map(([n, l]) => [n, { ...l, addresses: [...l.addresses] }]));
          for (const s of stage) {
            if (!mask[k++ % mask.length]) continue;
            if (s.op === 'delete' && partial.get(s.name)?.inGroup) continue; // its leave failed: 510
            try {
              apply(partial, s, p.listSize);
            } catch (err) {
              // a step ordered after one that failed may meet the content it was to wait for: 503, nothing changes
              if (!String(err).includes('503')) throw err;
            }
            const now = blocked(partial);
            for (const a of mustStay) expect(now.has(a), `${a} after ${s.op} ${s.name}`).toBe(true);
          }
          // … and the next stage only starts once the whole stage went through.
          for (const s of stage) apply(fw, s, p.listSize);
          for (const a of mustStay) expect(blocked(fw).has(a)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('with no moves, the stages are independent: any subset of all steps, in order, leaves the blocked desired addresses blocked', () => {
    fc.assert(
      fc.property(anyInput, fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }), (p, mask) => {
        const plan = planLists(p);
        fc.pre(plan.moved === 0);
        const fw = firewall(p.current);
        const mustStay = [...p.desired].filter((a) => blocked(fw).has(a));
        planSteps(plan).forEach((s, i) => {
          if (!mask[i % mask.length] || (s.op === 'delete' && fw.get(s.name)?.inGroup)) return;
          try {
            apply(fw, s, p.listSize);
          } catch (err) {
            if (!String(err).includes('503')) throw err;
          }
          for (const a of mustStay) expect(blocked(fw).has(a)).toBe(true);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('networks are never put in a list: they come back as unlisted, the single addresses are packed as usual', () => {
    fc.assert(
      fc.property(withNetworks, (p) => {
        const plan = planLists(p);
        const singles = [...p.desired].filter((a) => !a.includes('/'));
        expect(plan.unlisted).toEqual([...p.desired].filter((a) => a.includes('/')).sort());
        const before = blocked(firewall(p.current));
        const fw = firewall(p.current);
        for (const s of planSteps(plan)) {
          apply(fw, s, p.listSize); // refuses a network like the XG
          for (const a of singles) if (before.has(a)) expect(blocked(fw).has(a)).toBe(true);
        }
        expect([...blocked(fw)].sort()).toEqual(singles.sort());
      }),
      { numRuns: 300 },
    );
  });

  it('lists after the plan: at most ⌈N / listSize⌉ + 1 (auto), ⌈N / listSize⌉ (full)', () => {
    fc.assert(
      fc.property(anyInput, (p) => {
        const plan = planLists(p);
        const need = Math.ceil(p.desired.size / p.listSize);
        if (p.compact === 'auto') expect(plan.lists.size).toBeLessThanOrEqual(need + 1);
        if (p.compact === 'full') expect(plan.lists.size).toBe(need);
      }),
      { numRuns: 500 },
    );
  });

  it('writes touch only lists that change; lists left alone keep their content', () => {
    fc.assert(
      fc.property(anyInput, (p) => {
        const plan = planLists(p);
        const written = new Set(planSteps(plan).map((s) => s.name));
        for (const s of planSteps(plan)) {
          const before = p.current.get(s.name);
          if (s.op === 'create') expect(before).toBeUndefined();
          if (s.op === 'update') expect(s.addresses).not.toEqual(before);
          if (s.op === 'leave' || s.op === 'delete') expect(plan.lists.has(s.name)).toBe(false);
        }
        for (const [n, a] of p.current) if (!written.has(n)) expect(plan.lists.get(n)).toEqual(a);
      }),
      { numRuns: 500 },
    );
  });

  it('with tidy lists and compaction off, nothing moves: a removal leaves room, an addition goes into room', () => {
    fc.assert(
      fc.property(tidyInput, (p) => {
        const plan = planLists({ ...p, compact: 'never' });
        expect(plan.moved).toBe(0);
        for (const [n, a] of plan.lists) {
          const before = p.current.get(n) ?? [];
          // kept addresses stay where they were, in their order
          expect(a.filter((x) => before.includes(x))).toEqual(before.filter((x) => p.desired.has(x)));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('new addresses touch the fewest lists: as many as the roomiest lists need (tidy lists, additions only)', () => {
    fc.assert(
      fc.property(tidyInput, fc.uniqueArray(addr, { maxLength: 40 }), (p, adds) => {
        const held = new Set([...p.current.values()].flat());
        const fresh = adds.filter((a) => !held.has(a));
        const plan = planLists({ ...p, desired: new Set([...held, ...fresh]), compact: 'never' });
        const rooms = [...p.current.values()]
          .map((l) => p.listSize - l.length)
          .filter((r) => r > 0)
          .sort((a, b) => b - a);
        let need = 0;
        let left = fresh.length;
        for (const r of rooms) {
          if (left <= 0) break;
          need++;
          left -= r;
        }
        if (left > 0) need += Math.ceil(left / p.listSize);
        expect(planSteps(plan)).toHaveLength(need);
      }),
      { numRuns: 300 },
    );
  });

  it('deterministic: the same lists in another order and the desired set in another order give the same plan', () => {
    fc.assert(
      fc.property(anyInput, fc.integer(), (p, seed) => {
        const a = planLists(p);
        const shuffle = <T>(xs: T[]) =>
          xs
            .map((x, i) => [x, (i * 7919 + seed) % 101] as const)
            .sort((x, y) => x[1] - y[1])
            .map((x) => x[0]);
        const b = planLists({ ...p, current: new Map(shuffle([...p.current])), desired: new Set(shuffle([...p.desired])) });
        expect(b).toEqual(a);
        expect(planLists(p)).toEqual(a);
      }),
      { numRuns: 300 },
    );
  });
});

// ---- examples ------------------------------------------------------------------------------------

const ips = (n: number, base = 0) =>
  Array.from({ length: n }, (_, i) => `11.${(base + i) >> 16}.${((base + i) >> 8) & 255}.${(base + i) & 255}`);

describe('planLists: examples', () => {
  it('10,000 addresses from nothing: 10 lists of 1000, created in one stage', () => {
    const plan = planLists({ current: new Map(), desired: new Set(ips(10_000)), listSize: 1000, namer });
    expect(plan.gain.map((s) => s.op)).toEqual(Array(10).fill('create'));
    expect(plan.gain.map((s) => s.name)).toEqual(Array.from({ length: 10 }, (_, i) => namer.name(i + 1)));
    expect(plan.gain.every((s) => s.op === 'create' && s.addresses.length === 1000)).toBe(true);
    expect(plan.group).toEqual([]);
    expect(plan.lose).toEqual([]);
  });

  it('100,000 addresses fit in 100 lists; one more ban is one write into the list with room', () => {
    const all = ips(100_000);
    const first = planLists({ current: new Map(), desired: new Set(all.slice(0, 99_990)), listSize: 1000, namer });
    expect(first.lists.size).toBe(100);
    const plan = planLists({ current: first.lists, desired: new Set(all.slice(0, 99_991)), listSize: 1000, namer });
    expect(planSteps(plan)).toEqual([
      { op: 'update', name: namer.name(100), addresses: [...(first.lists.get(namer.name(100)) ?? []), all[99_990]] },
    ]);
  });

  it('a lone ban with no list yet is one create', () => {
    const plan = planLists({ current: new Map(), desired: new Set(['203.0.113.7']), listSize: 1000, namer });
    expect(planSteps(plan)).toEqual([{ op: 'create', name: namer.name(1), addresses: ['203.0.113.7'] }]);
  });

  it('unbans rewrite only the lists that held them; a list emptied leaves the group, then is deleted', () => {
    const current = new Map([
      [namer.name(1), ['a', 'b', 'c']],
      [namer.name(2), ['d', 'e']],
      [namer.name(3), ['f']],
    ]);
    const plan = planLists({ current, desired: desiredAfter(current, [], ['b', 'f']), listSize: 3, namer });
    expect(plan.gain).toEqual([]);
    expect(plan.group).toEqual([{ op: 'leave', name: namer.name(3), addresses: ['f'] }]);
    expect(plan.lose).toEqual([
      { op: 'delete', name: namer.name(3) },
      { op: 'update', name: namer.name(1), addresses: ['a', 'c'] },
    ]);
    expect(plan.moved).toBe(0);
  });

  it('new bans go to lists rewritten anyway for unbans (an emptied one is reused, not deleted); untouched lists stay untouched', () => {
    const current = new Map([
      [namer.name(1), ['a', 'b']],
      [namer.name(2), ['c']],
      [namer.name(3), ['d', 'e']],
    ]);
    const plan = planLists({ current, desired: desiredAfter(current, ['x', 'y'], ['b', 'c']), listSize: 3, namer, compact: 'never' });
    expect(planSteps(plan)).toEqual([
      { op: 'update', name: namer.name(2), addresses: ['x', 'y'] },
      { op: 'update', name: namer.name(1), addresses: ['a'] },
    ]);
    expect(plan.moved).toBe(0);
  });

  it('compaction: too many thin lists are merged, the moved addresses written in before their list goes', () => {
    const current = new Map(Array.from({ length: 5 }, (_, i) => [namer.name(i + 1), [`a${i}`]] as [string, string[]]));
    const plan = planLists({ current, desired: desiredAfter(current, [], []), listSize: 4, namer });
    // 5 addresses, 4 per list: at most ⌈5/4⌉ + 1 = 3 lists; the two highest shards go
    expect([...plan.lists.keys()]).toEqual([namer.name(1), namer.name(2), namer.name(3)]);
    expect(plan.moved).toBe(2);
    expect(plan.gain.every((s) => s.op === 'update')).toBe(true);
    expect(plan.group).toEqual([
      { op: 'leave', name: namer.name(4), addresses: ['a3'] },
      { op: 'leave', name: namer.name(5), addresses: ['a4'] },
    ]);
    expect(plan.lose.map((s) => s.op)).toEqual(['delete', 'delete']);
    const full = planLists({ current, desired: desiredAfter(current, [], []), listSize: 4, namer, compact: 'full' });
    expect(full.lists.size).toBe(2);
  });

  it('a list over the cap (listSize lowered, or a hand edit) gives its excess to another list first, then is cut down', () => {
    const current = new Map([[namer.name(1), ['a', 'b', 'c', 'd', 'e']]]);
    const plan = planLists({ current, desired: desiredAfter(current, [], []), listSize: 3, namer });
    expect(plan.gain).toEqual([{ op: 'create', name: namer.name(2), addresses: ['d', 'e'] }]);
    expect(plan.lose).toEqual([{ op: 'update', name: namer.name(1), addresses: ['a', 'b', 'c'] }]);
    expect(plan.moved).toBe(2);
  });

  it('an address held twice (hand edit) stays in the lower shard only; duplicates inside a list are written out', () => {
    const current = new Map([
      [namer.name(2), ['a', 'b']],
      [namer.name(1), ['a', 'c', 'c']],
    ]);
    const plan = planLists({ current, desired: desiredAfter(current, [], []), listSize: 5, namer, compact: 'never' });
    expect(plan.lists).toEqual(
      new Map([
        [namer.name(1), ['a', 'c']],
        [namer.name(2), ['b']],
      ]),
    );
  });

  it('regression (seed 151921049): a written list never equals, as a set, a list emptied later (503); that list is kept instead', () => {
    // list2 = {7, 0} duplicates list1's 0; compaction used to empty list2 into list1, writing
    // list1 = [0, 7] during `gain` while list2 still stood with the same set: 503.
    const current = new Map([
      [namer.name(3), ['198.51.100.7', '198.51.100.39']],
      [namer.name(1), ['198.51.100.0']],
      [namer.name(2), ['198.51.100.7', '198.51.100.0']],
    ]);
    const p: PackInput = {
      current,
      desired: new Set(['198.51.100.0', '198.51.100.5', '198.51.100.13', '198.51.100.7']),
      listSize: 4,
      namer,
      compact: 'auto',
    };
    const plan = planLists(p);
    const fw = run(p, plan); // throws on 503
    expect(blocked(fw)).toEqual(p.desired);
    expect(plan.lists).toEqual(
      new Map([
        [namer.name(2), ['198.51.100.7', '198.51.100.0']],
        [namer.name(3), ['198.51.100.13', '198.51.100.5']],
      ]),
    );
    expect(planSteps(plan).some((s) => s.name === namer.name(2))).toBe(false);
    expect(plan.moved).toBe(0);
  });

  it('regression: an address held twice whose lower-shard list is over the cap stays in the other list, which is not rewritten', () => {
    // list1 is over the cap and gives 0 up; 0 used to be "moved" into list2, which already held
    // it: an update of list2 with the content it already had (a wasted write).
    const current = new Map([
      [namer.name(2), ['1', '0']],
      [namer.name(1), ['3', '4', '0']],
    ]);
    const p: PackInput = { current, desired: new Set(['0', '1', '3', '4']), listSize: 2, namer, compact: 'auto' };
    const plan = planLists(p);
    expect(planSteps(plan)).toEqual([{ op: 'update', name: namer.name(1), addresses: ['3', '4'] }]);
    expect(blocked(run(p, plan))).toEqual(p.desired);
  });

  it('a network ban is not put in a list (the XG would refuse the write, every pass); it is reported as unlisted', () => {
    const current = new Map([[namer.name(1), ['192.0.2.1']]]);
    const desired = new Set(['192.0.2.1', '192.0.2.2', '198.51.100.0/24', '2001:db8::/64']);
    const plan = planLists({ current, desired, listSize: 1000, namer });
    expect(planSteps(plan)).toEqual([{ op: 'update', name: namer.name(1), addresses: ['192.0.2.1', '192.0.2.2'] }]);
    expect(plan.unlisted).toEqual(['198.51.100.0/24', '2001:db8::/64']);
    expect(planLists({ current, desired: new Set(['192.0.2.1']), listSize: 1000, namer }).unlisted).toEqual([]);
  });

  it('nothing to do is no step', () => {
    const current = new Map([[namer.name(1), ['a', 'b']]]);
    expect(planSteps(planLists({ current, desired: new Set(['b', 'a']), listSize: 2, namer }))).toEqual([]);
  });

  it('refuses a listSize outside 1..1000', () => {
    for (const listSize of [0, 1.5, IPLIST_MAX_ADDRESSES + 1]) {
      expect(() => planLists({ current: new Map(), desired: new Set(), listSize, namer })).toThrow(RangeError);
    }
  });
});
