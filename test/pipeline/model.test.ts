import { describe, expect, it } from 'vitest';
import { DEFAULT_SUSPEND, DesiredModel, deserializeModel, serializeModel, type ModelOptions } from '../../src/pipeline/model.js';
import type { F2bEvent } from '../../src/parser/types.js';
import { makeNeverBlock } from '../../src/core/network.js';
import { makeFloor } from '../../src/pipeline/floor.js';
import type { GroupMapping } from '../../src/pipeline/routing.js';
import { ban, ev, jailStart, jailStop, restore, serverStart, serverStop, serverStopping, unban } from './events.js';

const GROUPS: GroupMapping[] = [
  { firewall: 'fw1', name: 'f2b-v4', ipv6Name: 'f2b-v6', jails: ['sshd', 'web-*'] },
  { firewall: 'fw1', name: 'mail', jails: ['postfix*'] },
];
const W = DEFAULT_SUSPEND.stopUnbanWindowMs;
const G = DEFAULT_SUSPEND.restoreGraceMs;

function model(extra: Partial<ModelOptions> = {}): DesiredModel {
  return new DesiredModel({
    groups: GROUPS,
    neverBlock: makeNeverBlock(['10.0.0.0/8', '2001:db8:ffff::/48']),
    suspend: DEFAULT_SUSPEND,
    ...extra,
  });
}

/** Plays [time, event] steps the way the sidecar does (due timers first), returns all group changes. */
function play(m: DesiredModel, steps: Array<[number, F2bEvent]>, until?: number): string[] {
  const out: string[] = [];
  const record = (fx: { changes: Array<{ key: string; address: string; op: string }> }): void => {
    for (const c of fx.changes) out.push(`${c.op} ${c.key} ${c.address}`);
  };
  for (const [t, e] of steps) {
    record(m.expire(t));
    record(m.apply(e, t));
  }
  if (until !== undefined) record(m.expire(until));
  return out;
}

const v4 = (m: DesiredModel): string[] => [...(m.desired.get('fw1/f2b-v4') ?? [])].sort();

describe('model: suspended count per group', () => {
  it('counts addresses kept only by suspended entries, per group', () => {
    const m = model();
    play(m, [
      [0, ban('sshd', '192.0.2.1')],
      [0, ban('sshd', '192.0.2.2')],
      [0, ban('web-auth', '192.0.2.2')],
      [0, ban('postfix', '192.0.2.3')],
      [0, ban('sshd', '2001:db8::1')],
      [100, serverStopping()],
      [110, unban('sshd', '192.0.2.1')],
      [110, unban('sshd', '192.0.2.2')],
      [110, unban('sshd', '2001:db8::1')],
      [120, jailStop('sshd')],
    ]);
    // 192.0.2.2 is still held active by web-auth, which feeds the same group.
    expect(m.suspendedIn('fw1/f2b-v4')).toBe(1);
    expect(m.suspendedIn('fw1/f2b-v6')).toBe(1);
    expect(m.suspendedIn('fw1/mail')).toBe(0);
    play(m, [[200, ban('sshd', '192.0.2.1')]]);
    expect(m.suspendedIn('fw1/f2b-v4')).toBe(0);
    expect(m.suspendedIn('nope/none')).toBe(0);
  });
});

describe('model: bans and reference counts', () => {
  it('adds a ban to every group its jail feeds, once', () => {
    const m = model();
    expect(
      play(m, [
        [0, ban('sshd', '192.0.2.1')],
        [1, ban('sshd', '192.0.2.1')],
      ]),
    ).toEqual(['add fw1/f2b-v4 192.0.2.1']);
  });

  it('keeps an address banned by two jails until both unban it', () => {
    const m = model();
    const changes = play(
      m,
      [
        [0, ban('sshd', '192.0.2.1')],
        [10, ban('web-auth', '192.0.2.1')],
        [20, unban('sshd', '192.0.2.1')],
      ],
      20 + W,
    );
    expect(changes).toEqual(['add fw1/f2b-v4 192.0.2.1']);
    expect(v4(m)).toEqual(['192.0.2.1']);
    expect(play(m, [[30_000, unban('web-auth', '192.0.2.1')]], 30_000 + W)).toEqual([
      'hold fw1/f2b-v4 192.0.2.1',
      'remove fw1/f2b-v4 192.0.2.1',
    ]);
    expect(m.size).toBe(0);
  });

  it('already-banned heals a missed Ban', () => {
    const m = model();
    expect(play(m, [[0, ev('already-banned', 'sshd', '192.0.2.7')]])).toEqual(['add fw1/f2b-v4 192.0.2.7']);
  });

  it('routes IPv6 to ipv6Name and skips (counts) it where there is none', () => {
    const m = model();
    expect(
      play(m, [
        [0, ban('sshd', '2001:db8::10')],
        [1, ban('postfix-sasl', '2001:db8::11')],
        [2, ban('postfix-sasl', '198.51.100.1')],
      ]),
    ).toEqual(['add fw1/f2b-v6 2001:db8::10', 'add fw1/mail 198.51.100.1']);
    expect(m.counters.skippedIpv6).toBe(1);
  });

  it('never blocks an address or a network overlapping neverBlock, and counts it', () => {
    const m = model();
    expect(
      play(m, [
        [0, ban('sshd', '10.1.2.3')],
        [1, ban('sshd', '0.0.0.0/0')],
        [2, ban('sshd', '2001:db8:ffff:1::/64')],
        [3, ban('sshd', '11.0.0.0/8')],
      ]),
    ).toEqual(['add fw1/f2b-v4 11.0.0.0/8']);
    expect(m.counters.neverBlocked).toBe(3);
  });

  it('ignores jails no group takes (counted) and unbans of unknown addresses', () => {
    const m = model();
    expect(
      play(
        m,
        [
          [0, ban('recidive', '192.0.2.1')],
          [1, unban('sshd', '192.0.2.99')],
        ],
        1 + W,
      ),
    ).toEqual([]);
    expect(m.counters.unrouted).toBe(1);
  });
});

describe('model: held unbans and suspensions', () => {
  it('holds an Unban for the window (neither desired nor to be removed), then removes it', () => {
    const m = model();
    expect(
      play(
        m,
        [
          [0, ban('sshd', '192.0.2.1')],
          [1000, unban('sshd', '192.0.2.1')],
        ],
        1000 + W - 1,
      ),
    ).toEqual(['add fw1/f2b-v4 192.0.2.1', 'hold fw1/f2b-v4 192.0.2.1']);
    expect(v4(m)).toEqual([]);
    expect([...m.held.get('fw1/f2b-v4')!]).toEqual(['192.0.2.1']);
    expect(m.expire(1000 + W).changes).toEqual([{ key: 'fw1/f2b-v4', address: '192.0.2.1', op: 'remove' }]);
    expect(m.held.get('fw1/f2b-v4')!.size).toBe(0);
  });

  it('an address held for one group stays desired where another jail still holds it active', () => {
    const m = model({ groups: [...GROUPS, { firewall: 'fw1', name: 'mail', jails: ['sshd'] }] });
    expect(
      play(m, [
        [0, ban('sshd', '192.0.2.1')],
        [0, ban('web-x', '192.0.2.1')],
        [10, unban('sshd', '192.0.2.1')],
      ]),
    ).toEqual(['add fw1/f2b-v4 192.0.2.1', 'add fw1/mail 192.0.2.1', 'hold fw1/mail 192.0.2.1']);
    expect(v4(m)).toEqual(['192.0.2.1']);
  });

  it('a Ban during the hold makes the entry active again', () => {
    const m = model();
    play(m, [
      [0, ban('sshd', '192.0.2.1')],
      [1000, unban('sshd', '192.0.2.1')],
      [2000, ban('sshd', '192.0.2.1')],
    ]);
    expect(m.expire(1e9).changes).toEqual([]);
    expect(v4(m)).toEqual(['192.0.2.1']);
  });

  it('Jail stopped within the window turns held unbans of that jail (only) into suspensions', () => {
    const m = model();
    const changes = play(
      m,
      [
        [0, ban('sshd', '192.0.2.1')],
        [0, ban('web-auth', '192.0.2.2')],
        [1000, unban('sshd', '192.0.2.1')],
        [1000, unban('web-auth', '192.0.2.2')],
        [1500, jailStop('sshd')],
      ],
      1000 + W,
    );
    expect(changes).toEqual([
      'add fw1/f2b-v4 192.0.2.1',
      'add fw1/f2b-v4 192.0.2.2',
      'hold fw1/f2b-v4 192.0.2.1',
      'hold fw1/f2b-v4 192.0.2.2',
      'add fw1/f2b-v4 192.0.2.1', // suspended: desired again (it never left the firewall)
      'remove fw1/f2b-v4 192.0.2.2',
    ]);
    expect(m.entry('192.0.2.1', 'sshd')?.state).toBe('suspended');
  });

  it('Jail stopped after the window is too late: the unban was real', () => {
    const m = model();
    expect(
      play(m, [
        [0, ban('sshd', '192.0.2.1')],
        [1000, unban('sshd', '192.0.2.1')],
        [1000 + W + 1, jailStop('sshd')],
      ]),
    ).toContain('remove fw1/f2b-v4 192.0.2.1');
  });

  it('restored within the grace after Jail started: kept; not restored: removed after the grace', () => {
    const m = model();
    const changes = play(
      m,
      [
        [0, ban('sshd', '192.0.2.1')],
        [0, ban('sshd', '192.0.2.2')],
        [1000, unban('sshd', '192.0.2.1')],
        [1000, unban('sshd', '192.0.2.2')],
        [1100, jailStop('sshd')],
        [3000, jailStart('sshd')],
        [3005, restore('sshd', '192.0.2.1')],
      ],
      3000 + G - 1,
    );
    expect(changes).toEqual([
      'add fw1/f2b-v4 192.0.2.1',
      'add fw1/f2b-v4 192.0.2.2',
      'hold fw1/f2b-v4 192.0.2.1',
      'hold fw1/f2b-v4 192.0.2.2',
      'add fw1/f2b-v4 192.0.2.1',
      'add fw1/f2b-v4 192.0.2.2',
    ]);
    // The grace runs from the jail's latest Restore Ban (3005), not from its start.
    expect(m.expire(3005 + G - 1).changes).toEqual([]);
    expect(m.expire(3005 + G).changes).toEqual([{ key: 'fw1/f2b-v4', address: '192.0.2.2', op: 'remove' }]);
    expect(v4(m)).toEqual(['192.0.2.1']);
  });

  it('a restore longer than the grace (issue 11 item 4): no removal while its Restore Ban lines keep coming', () => {
    const m = model();
    // 600 tickets (play() runs expire() before every step, a full scan of the waiting entries).
    const n = 600;
    const ips = Array.from({ length: n }, (_, i) => `198.51.${100 + Math.floor(i / 250)}.${i % 250}`);
    const steps: Array<[number, F2bEvent]> = ips.map((ip) => [0, ban('sshd', ip)]);
    steps.push([10, ban('web-x', '203.0.113.9')]);
    for (const ip of ips) steps.push([1000, unban('sshd', ip)]);
    steps.push([1100, jailStop('sshd')], [2000, jailStart('sshd')]);
    // One Restore Ban every G/10: the whole restore takes 60 graces, each line well within one.
    const step = G / 10;
    ips.forEach((ip, i) => steps.push([2000 + (i + 1) * step, restore('sshd', ip)]));
    const end = 2000 + n * step;
    const changes = play(m, steps, end + G - 1);
    expect(changes.filter((c) => !c.startsWith('add ') && !c.startsWith('hold '))).toEqual([]);
    expect(v4(m)).toHaveLength(n + 1);
    expect(m.waitingCount).toBe(0);
  });

  it('a restore that stalls: the unrestored rest goes one grace after the last Restore Ban; other jails keep their own grace', () => {
    const m = model();
    const changes = play(
      m,
      [
        [0, ban('sshd', '192.0.2.1')],
        [0, ban('sshd', '192.0.2.2')],
        [0, ban('sshd', '192.0.2.3')],
        [0, ban('web-a', '203.0.113.1')],
        [500, serverStopping()],
        [600, unban('sshd', '192.0.2.1')],
        [600, unban('sshd', '192.0.2.2')],
        [600, unban('sshd', '192.0.2.3')],
        [600, unban('web-a', '203.0.113.1')],
        [700, serverStop()],
        [1000, serverStart(300)],
        [2000, jailStart('web-a')],
        [2000, jailStart('sshd')],
        [2000 + G - 10, restore('sshd', '192.0.2.1', 300)],
        [2000 + 2 * G - 20, restore('sshd', '192.0.2.2', 300)],
      ],
      2000 + G,
    );
    // web-a restored nothing: its grace ran from its own start; sshd's restore was still coming.
    expect(changes.filter((c) => c.startsWith('remove'))).toEqual(['remove fw1/f2b-v4 203.0.113.1']);
    expect(m.expire(2000 + 3 * G - 21).changes).toEqual([]);
    expect(m.expire(2000 + 3 * G - 20).changes).toEqual([{ key: 'fw1/f2b-v4', address: '192.0.2.3', op: 'remove' }]);
  });

  it('the restore extension stays bounded by maxSuspendMs', () => {
    const suspend = { ...DEFAULT_SUSPEND, maxSuspendMs: 3 * G };
    const m = model({ suspend });
    const steps: Array<[number, F2bEvent]> = [
      [0, ban('sshd', '192.0.2.1')],
      [0, ban('sshd', '192.0.2.2')],
      [0, unban('sshd', '192.0.2.1')],
      [0, unban('sshd', '192.0.2.2')],
      [10, jailStop('sshd')],
      [20, jailStart('sshd')],
    ];
    // A restore that never ends (a Restore Ban of another address every half grace).
    for (let t = 20 + G / 2, i = 0; t < 6 * G; t += G / 2, i++) steps.push([t, restore('sshd', `198.51.100.${i % 250}`)]);
    // Up to the maxSuspendMs bound (suspended at 10): still blocked; at it: removed.
    expect(
      play(
        m,
        steps.filter(([t]) => t < 10 + 3 * G),
        10 + 3 * G - 1,
      ).filter((c) => c.startsWith('remove')),
    ).toEqual([]);
    const m2 = model({ suspend });
    const changes = play(m2, steps);
    expect(changes.filter((c) => c.includes('192.0.2.'))).toEqual([
      'add fw1/f2b-v4 192.0.2.1',
      'add fw1/f2b-v4 192.0.2.2',
      'hold fw1/f2b-v4 192.0.2.1',
      'hold fw1/f2b-v4 192.0.2.2',
      'add fw1/f2b-v4 192.0.2.1',
      'add fw1/f2b-v4 192.0.2.2',
      'remove fw1/f2b-v4 192.0.2.1',
      'remove fw1/f2b-v4 192.0.2.2',
    ]);
  });

  it('server shutdown sequence: every Unban is a suspension, restart with a new pid restores', () => {
    const m = model();
    const changes = play(
      m,
      [
        [0, serverStart(100)],
        [10, ban('sshd', '192.0.2.1', 100)],
        [10, ban('sshd', '2001:db8::1', 100)],
        [20_000, serverStopping(100)],
        // Stop-unbans after the window of nothing: still suspensions, the jail stop comes late.
        [20_050, unban('sshd', '192.0.2.1', 100)],
        [20_050, unban('sshd', '2001:db8::1', 100)],
        [20_050 + 2 * W, jailStop('sshd', 100)],
        [20_060 + 2 * W, serverStop(100)],
        [40_000, serverStart(200)],
        [40_100, jailStart('sshd', 200)],
        [40_101, restore('sshd', '192.0.2.1', 200)],
      ],
      // One grace after the jail's last Restore Ban.
      40_101 + G,
    );
    expect(changes).toEqual(['add fw1/f2b-v4 192.0.2.1', 'add fw1/f2b-v6 2001:db8::1', 'remove fw1/f2b-v6 2001:db8::1']);
    expect(m.waitingCount).toBe(0);
  });

  it('an Unban held when the shutdown begins was a real one: removed, not suspended by the stop that follows', () => {
    const m = model();
    const changes = play(m, [
      [0, ban('sshd', '192.0.2.1', 100)],
      [0, ban('sshd', '192.0.2.2', 100)],
      [1000, unban('sshd', '192.0.2.1', 100)],
      [2000, serverStopping(100)],
      [2100, unban('sshd', '192.0.2.2', 100)],
      [2200, jailStop('sshd', 100)],
    ]);
    expect(changes).toEqual([
      'add fw1/f2b-v4 192.0.2.1',
      'add fw1/f2b-v4 192.0.2.2',
      'hold fw1/f2b-v4 192.0.2.1',
      'remove fw1/f2b-v4 192.0.2.1',
    ]);
    expect(v4(m)).toEqual(['192.0.2.2']);
  });

  it('Repeal Ban (1.1.1+) is a suspension', () => {
    const m = model();
    play(
      m,
      [
        [0, ban('sshd', '192.0.2.1')],
        [10, ev('repeal-ban', 'sshd', '192.0.2.1')],
      ],
      10 + W + 1,
    );
    expect(m.entry('192.0.2.1', 'sshd')?.state).toBe('suspended');
    expect(v4(m)).toEqual(['192.0.2.1']);
  });

  it('a suspension whose jail never comes back ends after maxSuspendMs', () => {
    const m = model({ suspend: { ...DEFAULT_SUSPEND, maxSuspendMs: 3_600_000 } });
    play(m, [
      [0, ban('sshd', '192.0.2.1')],
      [10, ev('repeal-ban', 'sshd', '192.0.2.1')],
    ]);
    expect(m.expire(10 + 3_600_000 - 1).changes).toEqual([]);
    expect(m.nextDeadline()).toBe(10 + 3_600_000);
    expect(m.expire(10 + 3_600_000).changes).toEqual([{ key: 'fw1/f2b-v4', address: '192.0.2.1', op: 'remove' }]);
  });

  it('a new pid without a stop sequence (crash) changes nothing at once; unrestored bans go after the grace', () => {
    const m = model();
    const changes = play(
      m,
      [
        [0, serverStart(100)],
        [10, ban('sshd', '192.0.2.1', 100)],
        [10, ban('sshd', '192.0.2.2', 100)],
        [50_000, serverStart(300)],
        [50_010, jailStart('sshd', 300)],
        [50_011, restore('sshd', '192.0.2.2', 300)],
      ],
      50_011 + G - 1,
    );
    expect(changes).toEqual(['add fw1/f2b-v4 192.0.2.1', 'add fw1/f2b-v4 192.0.2.2']);
    expect(m.expire(50_011 + G).changes).toEqual([{ key: 'fw1/f2b-v4', address: '192.0.2.1', op: 'remove' }]);
  });

  it('a clean stop then start of a new pid is not mistaken for a crash', () => {
    const m = model();
    play(m, [
      [0, serverStart(100)],
      [10, ban('sshd', '192.0.2.1', 100)],
      [20, serverStopping(100)],
      [30, serverStop(100)],
      [40, serverStart(200)],
    ]);
    expect(m.entry('192.0.2.1', 'sshd')?.state).toBe('active');
  });
});

describe('model: serialisation', () => {
  it('round-trips active, held and suspended entries with their times', () => {
    const m = model();
    play(m, [
      [0, serverStart(100)],
      [5, ban('sshd', '192.0.2.1', 100)],
      [5, ban('web-auth', '192.0.2.1', 100)],
      [6, ban('sshd', '2001:db8::1', 100)],
      [7, ban('postfix', '198.51.100.0/24', 100)],
      [100, unban('web-auth', '192.0.2.1', 100)],
      [200, ev('repeal-ban', 'sshd', '2001:db8::1', 100)],
      [300, jailStart('sshd', 100)],
    ]);
    const json = JSON.parse(JSON.stringify(serializeModel(m))) as ReturnType<typeof serializeModel>;
    expect(json.entries['2001:db8::1']).toEqual({ sshd: { state: 'suspended', at: 200, restoreBy: 300 + G } });
    const back = deserializeModel(json, m.opts, 100);
    expect(serializeModel(back)).toEqual(json);
    expect([...back.desired.entries()].map(([k, s]) => [k, [...s].sort()])).toEqual(
      [...m.desired.entries()].map(([k, s]) => [k, [...s].sort()]),
    );
    expect(back.pid).toBe(100);
    expect(back.nextDeadline()).toBe(m.nextDeadline());
  });

  it('restarts the window of held unbans at load time (the deciding lines are replayed only now)', () => {
    const m = model();
    play(m, [
      [0, ban('sshd', '192.0.2.1')],
      [100, unban('sshd', '192.0.2.1')],
    ]);
    const back = deserializeModel(serializeModel(m), m.opts, 1_000_000);
    expect(back.expire(1_000_000 + W - 1).changes).toEqual([]);
    back.apply(jailStop('sshd'), 1_000_000 + 10);
    expect(back.entry('192.0.2.1', 'sshd')?.state).toBe('suspended');
  });

  it('drops on load what the config no longer routes or now never blocks', () => {
    const m = model();
    play(m, [
      [0, ban('sshd', '192.0.2.1')],
      [0, ban('sshd', '192.0.2.2')],
      [0, ban('postfix', '198.51.100.1')],
    ]);
    const opts: ModelOptions = { ...m.opts, groups: [GROUPS[0]!], neverBlock: makeNeverBlock(['192.0.2.2']) };
    const back = deserializeModel(serializeModel(m), opts, 0);
    expect(serializeModel(back).entries).toEqual({ '192.0.2.1': { sshd: { state: 'active', at: 0 } } });
  });

  it('refuses an unknown version', () => {
    expect(() => deserializeModel({ version: 99, stopping: false, entries: {} }, model().opts, 0)).toThrow(/version 99/);
  });
});

describe('model: the floor (issue 11 item 7)', () => {
  it('keeps every refused target out of the desired state, with its reason and the groups it would have fed', () => {
    const m = model({ neverBlock: makeFloor({ neverBlock: ['10.1.2.3'] }) });
    const targets = [
      '0.0.0.0',
      '255.255.255.255',
      '::',
      '224.0.0.0/3',
      '1.0.0.0/8',
      '100.64.0.1',
      '64:ff9b::a01:203',
      '2002:a01:203::',
      '10.1.2.3',
    ];
    const notes = targets.flatMap((ip) => m.apply(ban('sshd', ip), 0).notes);
    expect(notes.map((n) => ('reason' in n ? `${n.kind} ${n.reason}` : n.kind))).toEqual([
      'refused unspecified',
      'refused broadcast',
      'refused unspecified',
      'refused multicast',
      'refused too-wide',
      'refused shared-address-space',
      'never-block never-block-embedded',
      'never-block never-block-embedded',
      'never-block never-block',
    ]);
    expect(notes[0]).toMatchObject({ jail: 'sshd', address: '0.0.0.0', groups: ['fw1/f2b-v4'] });
    expect(m.size).toBe(0);
    expect([...m.desired.values()].every((s) => s.size === 0)).toBe(true);
    expect(m.counters.neverBlocked).toBe(3);
    // What is allowed still goes through.
    expect(m.apply(ban('sshd', '198.51.100.0/24'), 0).changes).toEqual([{ key: 'fw1/f2b-v4', address: '198.51.100.0/24', op: 'add' }]);
  });

  it('a loaded state drops what the floor now refuses', () => {
    const m = model({ neverBlock: () => false });
    play(m, [
      [0, ban('sshd', '100.64.0.1')],
      [0, ban('sshd', '192.0.2.1')],
    ]);
    const again = deserializeModel(
      serializeModel(m),
      { groups: GROUPS, neverBlock: makeFloor({ neverBlock: [] }), suspend: DEFAULT_SUSPEND },
      10,
    );
    expect(v4(again)).toEqual(['192.0.2.1']);
  });
});

describe('model: old lines (issue 11 item 9)', () => {
  const at = (e: F2bEvent, iso: string): F2bEvent => ({ ...e, isoTime: iso });
  const DAY = 86_400_000;

  it('a log replaced by a year-old one: its Bans are not live and its Unbans lift nothing; one note', () => {
    const m = model();
    const out = play(m, [
      [0, at(ban('sshd', '192.0.2.1'), '2026-12-04T10:00:00.000')],
      [1, at(ban('sshd', '192.0.2.2'), '2026-12-04T10:00:01.000')],
    ]);
    expect(out).toHaveLength(2);
    const notes: string[] = [];
    const changes: string[] = [];
    for (let i = 0; i < 100; i++) {
      const fx = m.apply(at(ban('sshd', `203.0.113.${i}`), `2025-12-0${1 + (i % 5)}T08:00:00.000`), 100 + i);
      changes.push(...fx.changes.map((c) => c.address));
      notes.push(...fx.notes.map((n) => n.kind));
    }
    const fx = m.apply(at(unban('sshd', '192.0.2.1'), '2025-12-06T08:00:00.000'), 300);
    expect(changes).toEqual([]);
    expect(fx.changes).toEqual([]);
    expect(notes).toEqual(['stale-log']);
    expect(v4(m)).toEqual(['192.0.2.1', '192.0.2.2']);
    // Fresh lines are news again.
    expect(m.apply(at(ban('sshd', '203.0.113.200'), '2026-12-04T11:00:00.000'), 400).changes).toHaveLength(1);
  });

  it('within the bound (a clock step, a DST change) lines are taken; 0 turns the check off; the newest time survives a restart', () => {
    const m = model({ maxLineAgeMs: DAY });
    m.apply(at(ban('sshd', '192.0.2.1'), '2026-12-04T10:00:00.000'), 0);
    expect(m.apply(at(ban('sshd', '192.0.2.2'), '2026-12-03T10:00:00.001'), 1).changes).toHaveLength(1);
    expect(m.apply(at(ban('sshd', '192.0.2.3'), '2026-12-03T09:59:59.999'), 2).changes).toHaveLength(0);
    const again = deserializeModel(
      serializeModel(m),
      { groups: GROUPS, neverBlock: () => false, suspend: DEFAULT_SUSPEND, maxLineAgeMs: DAY },
      10,
    );
    expect(again.apply(at(ban('sshd', '192.0.2.4'), '2025-01-01T00:00:00.000'), 11).changes).toHaveLength(0);
    const off = model({ maxLineAgeMs: 0 });
    off.apply(at(ban('sshd', '192.0.2.1'), '2026-12-04T10:00:00.000'), 0);
    expect(off.apply(at(ban('sshd', '192.0.2.9'), '2020-01-01T00:00:00.000'), 1).changes).toHaveLength(1);
  });
});
