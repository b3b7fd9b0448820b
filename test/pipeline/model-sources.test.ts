/**
 * The model across many sources (issue 13 item 3): one desired state, reference counts per source
 * and jail, every fail2ban-server matter (stop sequence, crash, restores, line clock) per source.
 * Steps carry their source; times are scheduler ms.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SUSPEND, DesiredModel, deserializeModel, serializeModel, type ModelOptions, type Note } from '../../src/pipeline/model.js';
import type { F2bEvent } from '../../src/parser/types.js';
import type { GroupMapping } from '../../src/pipeline/routing.js';
import { ban, jailStart, jailStop, restore, serverStart, serverStop, serverStopping, unban } from './events.js';

const GROUPS: GroupMapping[] = [{ firewall: 'fw1', name: 'f2b-v4', ipv6Name: 'f2b-v6', jails: ['*'] }];
const V4 = 'fw1/f2b-v4';
const W = DEFAULT_SUSPEND.stopUnbanWindowMs;
const G = DEFAULT_SUSPEND.restoreGraceMs;

function model(extra: Partial<ModelOptions> = {}): DesiredModel {
  return new DesiredModel({ groups: GROUPS, neverBlock: (a) => a === '10.0.0.1', suspend: DEFAULT_SUSPEND, ...extra });
}

type Step = [number, string, F2bEvent];

/** Plays [time, source, event] steps as the sidecar does (due timers first); returns changes and notes. */
function play(m: DesiredModel, steps: Step[], until?: number): { changes: string[]; notes: Note[] } {
  const changes: string[] = [];
  const notes: Note[] = [];
  const record = (fx: { changes: Array<{ key: string; address: string; op: string }>; notes: Note[] }): void => {
    for (const c of fx.changes) changes.push(`${c.op} ${c.address}`);
    notes.push(...fx.notes);
  };
  for (const [t, source, e] of steps) {
    record(m.expire(t));
    record(m.apply(e, t, source));
  }
  if (until !== undefined) record(m.expire(until));
  return { changes, notes };
}

const v4 = (m: DesiredModel): string[] => [...(m.desired.get(V4) ?? [])].sort();
const state = (m: DesiredModel, address: string, source: string, jail = 'sshd'): string | undefined =>
  m.entry(address, jail, source)?.state;

describe('model sources: reference counts per source and jail', () => {
  it('an address banned by web1 and web2 is one entry, and stays until both lifted it', () => {
    const m = model();
    const first = play(
      m,
      [
        [0, 'web1', ban('sshd', '192.0.2.1')],
        [10, 'web2', ban('sshd', '192.0.2.1')],
        [1000, 'web1', unban('sshd', '192.0.2.1')],
      ],
      1000 + W,
    );
    // One add for both holds; web1's unban (held, then real) changes nothing.
    expect(first.changes).toEqual(['add 192.0.2.1']);
    expect(v4(m)).toEqual(['192.0.2.1']);
    expect(state(m, '192.0.2.1', 'web1')).toBeUndefined();
    expect(state(m, '192.0.2.1', 'web2')).toBe('active');
    const second = play(m, [[20_000, 'web2', unban('sshd', '192.0.2.1')]], 20_000 + W - 1);
    expect(second.changes).toEqual(['hold 192.0.2.1']);
    expect(m.expire(20_000 + W).changes).toEqual([{ key: V4, address: '192.0.2.1', op: 'remove' }]);
    expect(m.size).toBe(0);
  });

  it('an Unban from a source that never banned the address is unknown there, whoever else holds it', () => {
    const m = model();
    const r = play(
      m,
      [
        [0, 'web1', ban('sshd', '192.0.2.1')],
        [10, 'web2', unban('sshd', '192.0.2.1')],
      ],
      10 + W,
    );
    expect(r.notes.map((n) => n.kind)).toEqual(['unknown-unban']);
    expect(state(m, '192.0.2.1', 'web1')).toBe('active');
  });

  it('list() and sources() name the source of every hold; the counts follow the slots', () => {
    const m = model();
    play(m, [
      [0, 'web1', serverStart(100)],
      [0, 'web1', ban('sshd', '192.0.2.1', 100)],
      [0, 'web1', ban('nginx', '192.0.2.1', 100)],
      [0, 'web2', ban('sshd', '192.0.2.1', 7)],
      [0, 'web2', ban('sshd', '192.0.2.2', 7)],
      [5, 'web2', unban('sshd', '192.0.2.2', 7)],
      [6, '', ban('sshd', '198.51.100.1', 55)],
    ]);
    expect([...m.list()].map((e) => `${e.source || "''"} ${e.jail} ${e.address} ${e.entry.state}`).sort()).toEqual([
      "'' sshd 198.51.100.1 active",
      'web1 nginx 192.0.2.1 active',
      'web1 sshd 192.0.2.1 active',
      'web2 sshd 192.0.2.1 active',
      'web2 sshd 192.0.2.2 unbanning',
    ]);
    expect(m.sources()).toEqual([
      { source: '', slots: 1, waiting: 0, pid: 55, stopping: false, events: 1, lastEventAt: 6 },
      { source: 'web1', slots: 2, waiting: 0, pid: 100, stopping: false, events: 3, lastEventAt: 0 },
      { source: 'web2', slots: 2, waiting: 1, pid: 7, stopping: false, events: 3, lastEventAt: 5 },
    ]);
    m.expire(5 + W);
    expect(m.sources().find((s) => s.source === 'web2')).toMatchObject({ slots: 1, waiting: 0 });
    // The single-log accessors read source ''.
    expect(m.pid).toBe(55);
  });

  it('neverBlock applies to every source', () => {
    const m = model();
    const r = play(m, [
      [0, 'web1', ban('sshd', '10.0.0.1')],
      [0, 'web2', ban('sshd', '10.0.0.1')],
    ]);
    expect(r.changes).toEqual([]);
    expect(m.counters.neverBlocked).toBe(2);
  });
});

describe('model sources: a restart of one host holds only its own unbans', () => {
  it('web1 stop sequence: its stop-Unbans are suspensions; web2 lifting a ban at the same time is a real unban', () => {
    const m = model();
    const r = play(
      m,
      [
        [0, 'web1', serverStart(100)],
        [0, 'web2', serverStart(100)],
        [10, 'web1', ban('sshd', '192.0.2.1', 100)], // only web1
        [10, 'web1', ban('sshd', '192.0.2.2', 100)], // both
        [10, 'web2', ban('sshd', '192.0.2.2', 100)],
        [10, 'web2', ban('sshd', '192.0.2.3', 100)], // only web2
        [1000, 'web1', serverStopping(100)],
        [1010, 'web1', unban('sshd', '192.0.2.1', 100)],
        [1010, 'web1', unban('sshd', '192.0.2.2', 100)],
        [1020, 'web2', unban('sshd', '192.0.2.3', 100)],
        [1000 + 3 * W, 'web1', jailStop('sshd', 100)],
        [1000 + 3 * W, 'web1', serverStop(100)],
      ],
      30_000,
    );
    // web2's own unban went after its window; web1's stop cost nothing.
    expect(r.changes).toEqual(['add 192.0.2.1', 'add 192.0.2.2', 'add 192.0.2.3', 'hold 192.0.2.3', 'remove 192.0.2.3']);
    expect(state(m, '192.0.2.1', 'web1')).toBe('suspended');
    expect(state(m, '192.0.2.2', 'web1')).toBe('suspended');
    expect(state(m, '192.0.2.2', 'web2')).toBe('active');
    expect(m.sources().map((s) => [s.source, s.stopping])).toEqual([
      ['web1', false],
      ['web2', false],
    ]);
    // web1 comes back and restores only .1: .2 stays for web2, .1 for web1.
    const back = play(
      m,
      [
        [40_000, 'web1', serverStart(200)],
        [40_100, 'web1', jailStart('sshd', 200)],
        [40_101, 'web1', restore('sshd', '192.0.2.1', 200)],
      ],
      40_101 + G,
    );
    expect(back.changes).toEqual([]);
    expect(v4(m)).toEqual(['192.0.2.1', '192.0.2.2']);
    expect(state(m, '192.0.2.2', 'web1')).toBeUndefined();
    expect(state(m, '192.0.2.2', 'web2')).toBe('active');
  });

  it("a server-stopping of web1 does not turn web2's held unban into a suspension", () => {
    const m = model();
    play(m, [
      [0, 'web2', ban('sshd', '192.0.2.3')],
      [100, 'web1', serverStopping(100)],
      [110, 'web2', unban('sshd', '192.0.2.3')],
      [120, 'web1', jailStop('sshd', 100)],
    ]);
    expect(state(m, '192.0.2.3', 'web2')).toBe('unbanning');
    expect(m.expire(110 + W).changes).toEqual([{ key: V4, address: '192.0.2.3', op: 'remove' }]);
  });

  it("web1's Jail stopped suspends web1's held unbans of that jail, never web2's", () => {
    const m = model();
    const r = play(
      m,
      [
        [0, 'web1', ban('sshd', '192.0.2.1')],
        [0, 'web2', ban('sshd', '192.0.2.2')],
        [1000, 'web1', unban('sshd', '192.0.2.1')],
        [1000, 'web2', unban('sshd', '192.0.2.2')],
        [1500, 'web1', jailStop('sshd')],
      ],
      1000 + W,
    );
    expect(r.changes).toEqual(['add 192.0.2.1', 'add 192.0.2.2', 'hold 192.0.2.1', 'hold 192.0.2.2', 'add 192.0.2.1', 'remove 192.0.2.2']);
  });
});

describe('model sources: a crash-restart of one host', () => {
  it('server start with a new PID on web1: only web1 entries suspended; its unrestored bans go after the grace, web2 keeps its own', () => {
    const m = model();
    const r = play(
      m,
      [
        [0, 'web1', serverStart(100)],
        // Another host may well have the same PID: it is no restart of web1.
        [0, 'web2', serverStart(100)],
        [10, 'web1', ban('sshd', '192.0.2.1', 100)], // web1 only, restored
        [10, 'web1', ban('sshd', '192.0.2.2', 100)], // web1 only, not restored
        [10, 'web1', ban('sshd', '192.0.2.3', 100)], // both, not restored by web1
        [10, 'web2', ban('sshd', '192.0.2.3', 100)],
        [10, 'web2', ban('sshd', '192.0.2.4', 100)], // web2 only
        [50_000, 'web1', serverStart(300)],
        [50_001, 'web2', ban('sshd', '192.0.2.5', 100)],
        [50_010, 'web1', jailStart('sshd', 300)],
        [50_011, 'web1', restore('sshd', '192.0.2.1', 300)],
      ],
      50_011 + G - 1,
    );
    expect(r.notes.filter((n) => n.kind === 'crash-restart')).toEqual([{ kind: 'crash-restart', pid: 300, suspended: 3, source: 'web1' }]);
    expect(r.changes.filter((c) => !c.startsWith('add'))).toEqual([]);
    expect(state(m, '192.0.2.3', 'web2')).toBe('active');
    expect(state(m, '192.0.2.4', 'web2')).toBe('active');
    expect(m.expire(50_011 + G).changes).toEqual([{ key: V4, address: '192.0.2.2', op: 'remove' }]);
    expect(v4(m)).toEqual(['192.0.2.1', '192.0.2.3', '192.0.2.4', '192.0.2.5']);
    expect(state(m, '192.0.2.3', 'web1')).toBeUndefined();
    expect(m.waitingCount).toBe(0);
  });

  it("a jail start on web1 with no stop since its last start (same PID, no server line) is web1's restart of that jail", () => {
    const m = model();
    const r = play(
      m,
      [
        [0, 'web1', jailStart('sshd', 7)],
        [0, 'web1', jailStart('nginx', 7)],
        [0, 'web2', jailStart('sshd', 7)],
        [10, 'web1', ban('sshd', '192.0.2.1', 7)], // restored
        [10, 'web1', ban('sshd', '192.0.2.2', 7)], // not restored
        [10, 'web1', ban('nginx', '192.0.2.3', 7)], // other jail: untouched
        [10, 'web2', ban('sshd', '192.0.2.2', 7)], // web2 holds .2 too
        [10, 'web2', ban('sshd', '192.0.2.4', 7)],
        [90_000, 'web1', jailStart('sshd', 7)],
        [90_001, 'web1', restore('sshd', '192.0.2.1', 7)],
        // web2's sshd starting for the first time since we follow it is no restart.
        [90_002, 'web2', jailStart('nginx', 7)],
      ],
      90_001 + G - 1,
    );
    expect(r.notes.filter((n) => n.kind === 'jail-restart')).toEqual([
      { kind: 'jail-restart', source: 'web1', jail: 'sshd', suspended: 2 },
    ]);
    expect(state(m, '192.0.2.2', 'web1')).toBe('suspended');
    expect(state(m, '192.0.2.3', 'web1', 'nginx')).toBe('active');
    expect(state(m, '192.0.2.2', 'web2')).toBe('active');
    expect(state(m, '192.0.2.4', 'web2')).toBe('active');
    expect(r.changes.filter((c) => !c.startsWith('add'))).toEqual([]);
    // web1's .2 lifted after the grace (from its latest Restore Ban); web2 still holds .2.
    const fx = m.expire(90_001 + G);
    expect(fx.notes).toEqual([{ kind: 'not-restored', jail: 'sshd', address: '192.0.2.2' }]);
    expect(fx.changes).toEqual([]);
    expect(v4(m)).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4']);
    expect(state(m, '192.0.2.2', 'web1')).toBeUndefined();
  });

  it('a jail restart with its stop line (restart, reload of one jail) is no crash: its stop-Unbans and Restore Bans decide', () => {
    const m = model();
    const r = play(m, [
      [0, 'web1', jailStart('sshd')],
      [10, 'web1', ban('sshd', '192.0.2.1')],
      [1000, 'web1', jailStop('sshd')],
      [1001, 'web1', jailStart('sshd')],
      [2000, 'web1', jailStart('nginx')],
    ]);
    expect(r.notes.map((n) => n.kind)).toEqual([]);
    expect(state(m, '192.0.2.1', 'web1')).toBe('active');
  });

  it('a crash found by the new PID is reported once, not again by the jail starts that follow', () => {
    const m = model();
    const r = play(m, [
      [0, 'web1', serverStart(100)],
      [1, 'web1', jailStart('sshd', 100)],
      [10, 'web1', ban('sshd', '192.0.2.1', 100)],
      [50_000, 'web1', serverStart(300)],
      [50_010, 'web1', jailStart('sshd', 300)],
    ]);
    expect(r.notes.map((n) => n.kind)).toEqual(['crash-restart', 'restore-grace']);
    expect(m.entry('192.0.2.1', 'sshd', 'web1')).toEqual({ state: 'suspended', at: 50_000, restoreBy: 50_010 + G });
  });

  it('the single log (source "") gets the same jail-start check', () => {
    const m = model();
    const r = play(
      m,
      [
        [0, '', jailStart('sshd')],
        [10, '', ban('sshd', '192.0.2.1')],
        [100, '', jailStart('sshd')],
      ],
      100 + G,
    );
    expect(r.notes.map((n) => n.kind)).toContain('jail-restart');
    expect(r.changes).toEqual(['add 192.0.2.1', 'remove 192.0.2.1']);
  });
});

describe('model sources: the line clock is per source', () => {
  const at = (e: F2bEvent, iso: string): F2bEvent => ({ ...e, isoTime: iso });

  it('web2 in a time zone 25 h behind web1 is news; its own old lines are still stale', () => {
    const m = model();
    // Same instant: 12:00 at UTC+14 (web1) is 09:00 the day before at UTC-11 (web2).
    const r = play(m, [
      [0, 'web1', at(ban('sshd', '192.0.2.1'), '2026-12-04T12:00:00.000')],
      [1, 'web2', at(ban('sshd', '192.0.2.2'), '2026-12-03T11:00:00.000')],
      [2, 'web2', at(unban('sshd', '192.0.2.2'), '2026-12-03T11:00:01.000')],
      // A year-old line in web2's own log: history.
      [3, 'web2', at(ban('sshd', '192.0.2.3'), '2025-12-03T11:00:00.000')],
    ]);
    expect(r.changes).toEqual(['add 192.0.2.1', 'add 192.0.2.2', 'hold 192.0.2.2']);
    expect(r.notes.filter((n) => n.kind === 'stale-log')).toEqual([
      { kind: 'stale-log', time: '2025-12-03T11:00:00.000', newest: '2026-12-03T11:00:01.000', source: 'web2' },
    ]);
    // One stale line on web2 does not put web1 in a stale run.
    expect(m.apply(at(ban('sshd', '192.0.2.4'), '2026-12-04T12:00:05.000'), 4, 'web1').changes).toHaveLength(1);
    expect(m.sources().map((s) => [s.source, s.newestLine])).toEqual([
      ['web1', '2026-12-04T12:00:05.000'],
      ['web2', '2026-12-03T11:00:01.000'],
    ]);
  });
});

describe('model sources: forget', () => {
  it('drops every hold of the source; lifts only what no other source holds; others stay as they were', () => {
    const m = model();
    play(m, [
      [0, 'web1', serverStart(100)],
      [0, 'web1', ban('sshd', '192.0.2.1', 100)], // web1 only → removed
      [0, 'web1', ban('sshd', '192.0.2.2', 100)], // web2 active too → stays
      [0, 'web1', ban('sshd', '192.0.2.3', 100)], // web2 holds only a held unban → held
      [0, 'web1', ban('nginx', '192.0.2.4', 100)], // web1 held unban only → removed
      [0, 'web1', ban('sshd', '2001:db8::1', 100)], // web1 only, v6
      [0, 'web2', ban('sshd', '192.0.2.2')],
      [0, 'web2', ban('sshd', '192.0.2.3')],
      [0, 'web2', ban('sshd', '192.0.2.5')],
      [10, 'web2', unban('sshd', '192.0.2.3')],
      [10, 'web1', unban('nginx', '192.0.2.4', 100)],
    ]);
    const fx = m.forget('web1', 20);
    expect(fx.changes).toEqual(
      expect.arrayContaining([
        { key: V4, address: '192.0.2.1', op: 'remove' },
        { key: V4, address: '192.0.2.3', op: 'hold' },
        { key: V4, address: '192.0.2.4', op: 'remove' },
        { key: 'fw1/f2b-v6', address: '2001:db8::1', op: 'remove' },
      ]),
    );
    expect(fx.changes).toHaveLength(4);
    expect(fx.notes).toEqual([{ kind: 'forgot', source: 'web1', slots: 5, removed: 3 }]);
    expect(v4(m)).toEqual(['192.0.2.2', '192.0.2.5']);
    expect([...m.list()].every((e) => e.source === 'web2')).toBe(true);
    expect(m.sources().map((s) => s.source)).toEqual(['web2']);
    expect(m.waitingCount).toBe(1);
    // web2's held unban resolves on its own.
    expect(m.expire(10 + W).changes).toEqual([{ key: V4, address: '192.0.2.3', op: 'remove' }]);
    // A forgotten host that logs again starts from nothing: its new PID is no crash.
    const again = play(m, [[30, 'web1', serverStart(400)]]);
    expect(again.notes).toEqual([]);
  });

  it('an unknown source: no change, a note with 0 slots', () => {
    const m = model();
    m.apply(ban('sshd', '192.0.2.1'), 0, 'web2');
    expect(m.forget('web9', 1)).toEqual({ changes: [], notes: [{ kind: 'forgot', source: 'web9', slots: 0, removed: 0 }], slots: 0 });
    expect(v4(m)).toEqual(['192.0.2.1']);
  });
});

describe('model sources: serialisation', () => {
  const JSONcopy = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

  it('version 2 round-trips every source with its PID, stop sequence, clock, started jails and entries', () => {
    const m = model();
    const odd = "web-a/b c:'x'\u00e9"; // a jail name with '/', spaces and quotes
    play(m, [
      [0, '', serverStart(5)],
      [0, '', ban('sshd', '198.51.100.1', 5)],
      [0, 'web1', serverStart(100)],
      [1, 'web1', jailStart(odd, 100)],
      [2, 'web1', { ...ban(odd, '192.0.2.1', 100), isoTime: '2026-12-04T12:00:00.000' }],
      [2, 'web2', ban('sshd', '192.0.2.1', 7)],
      [3, 'web2', serverStopping(7)],
      [4, 'web2', unban('sshd', '192.0.2.1', 7)],
      [5, 'idle', serverStart(9)],
    ]);
    const json = JSONcopy(serializeModel(m));
    expect(json).toEqual({
      version: 2,
      pid: 5,
      stopping: false,
      lastEventAt: 0,
      entries: { '198.51.100.1': { sshd: { state: 'active', at: 0 } } },
      sources: {
        web1: {
          pid: 100,
          stopping: false,
          newestLine: Date.parse('2026-12-04T12:00:00.000Z'),
          started: [odd],
          lastEventAt: 2,
          entries: { '192.0.2.1': { [odd]: { state: 'active', at: 2 } } },
        },
        web2: { pid: 7, stopping: true, lastEventAt: 4, entries: { '192.0.2.1': { sshd: { state: 'suspended', at: 4 } } } },
        idle: { pid: 9, stopping: false, lastEventAt: 5, entries: {} },
      },
    });
    const back = deserializeModel(json, m.opts, 10);
    expect(serializeModel(back)).toEqual(json);
    expect(back.sources().map((s) => [s.source, s.slots, s.waiting, s.pid, s.stopping, s.lastEventAt, s.events])).toEqual([
      ['', 1, 0, 5, false, 0, 0],
      ['idle', 0, 0, 9, false, 5, 0],
      ['web1', 1, 0, 100, false, 2, 0],
      ['web2', 1, 1, 7, true, 4, 0],
    ]);
    // What was per source before the restart still is: web2's stop sequence, web1's started jail.
    expect(back.apply(unban('sshd', '198.51.100.1', 5), 11).notes.map((n) => n.kind)).toEqual(['held']);
    expect(back.apply(jailStart(odd, 100), 12, 'web1').notes.map((n) => n.kind)).toEqual(['jail-restart', 'restore-grace']);
  });

  it('a version 1 state loads as source "" and is written back as version 1', () => {
    const v1 = {
      version: 1,
      pid: 42,
      stopping: false,
      newestLine: 1_000,
      entries: {
        '192.0.2.1': { sshd: { state: 'active' as const, at: 5 } },
        '192.0.2.2': { sshd: { state: 'suspended' as const, at: 6 } },
      },
    };
    const m = deserializeModel(v1, model().opts, 10);
    expect([...m.list()].map((e) => [e.source, e.jail, e.address])).toEqual([
      ['', 'sshd', '192.0.2.1'],
      ['', 'sshd', '192.0.2.2'],
    ]);
    expect(m.sources()).toEqual([
      { source: '', slots: 2, waiting: 1, pid: 42, stopping: false, newestLine: '1970-01-01T00:00:01.000', events: 0 },
    ]);
    expect(serializeModel(m)).toEqual(v1);
    // A version 1 state carries no sources even if a key says so.
    const withSources = {
      ...v1,
      sources: { web1: { stopping: false, entries: { '192.0.2.9': { sshd: { state: 'active' as const, at: 1 } } } } },
    };
    expect(deserializeModel(withSources, model().opts, 10).size).toBe(2);
  });

  it('an empty model and a model of the single log only are version 1; a named source makes it version 2', () => {
    const m = model();
    expect(serializeModel(m)).toEqual({ version: 1, stopping: false, entries: {} });
    m.apply(ban('sshd', '192.0.2.1'), 0);
    expect(serializeModel(m).version).toBe(1);
    m.apply(ban('sshd', '192.0.2.1'), 0, 'web1');
    expect(serializeModel(m).version).toBe(2);
    m.forget('web1', 1);
    expect(serializeModel(m).version).toBe(1);
  });

  it('on load, source names that are not names ("/", whitespace, "") are skipped', () => {
    const entries = { '192.0.2.1': { sshd: { state: 'active' as const, at: 1 } } };
    const m = deserializeModel(
      {
        version: 2,
        stopping: false,
        entries: {},
        sources: {
          'a/b': { stopping: false, entries },
          'a b': { stopping: false, entries },
          '': { stopping: false, entries },
          ok: { stopping: false, entries },
        },
      },
      model().opts,
      0,
    );
    expect(m.sources().map((s) => s.source)).toEqual(['ok']);
  });

  it('refuses an unknown version', () => {
    expect(() => deserializeModel({ version: 3, stopping: false, entries: {} }, model().opts, 0)).toThrow(/version 3/);
  });
});
