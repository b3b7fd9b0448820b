import { describe, expect, it } from 'vitest';
import { LatencyTracker, type AppliedNotice } from '../../src/pipeline/latency-tracker.js';
import { FUTURE_TOLERANCE_MS } from '../../src/pipeline/latency.js';
import type { Effects } from '../../src/pipeline/model.js';
import type { AppliedChange } from '../../src/pipeline/reconciler.js';
import type { F2bEvent } from '../../src/parser/types.js';
import { ban, restore, unban } from './events.js';
import { recordingLogger } from './harness.js';

const START = 1_000_000;
const KEY = 'fw1/f2b-v4';

/** Events carry their log time in isoTime as a number string; logTime reads it back. */
const at = (e: F2bEvent, ms: number): F2bEvent => ({ ...e, isoTime: String(ms) });
const logTime = (e: F2bEvent): number | undefined => (e.isoTime === undefined ? undefined : Number(e.isoTime));
const added = (address: string): Effects => ({ changes: [{ key: KEY, address, op: 'add' }], notes: [] });
const ack = (op: 'add' | 'remove', addresses: string[], atMs: number): AppliedChange => ({
  key: KEY,
  firewall: 'fw1',
  group: 'f2b-v4',
  family: 'IPv4',
  op,
  addresses,
  at: atMs,
});

function rig(onApplied?: (n: AppliedNotice) => void) {
  const log = recordingLogger();
  const notices: AppliedNotice[] = [];
  const t = new LatencyTracker({ liveSince: START, logTime, log, onApplied: onApplied ?? ((n) => notices.push(n)) });
  return { t, log, notices };
}

describe('LatencyTracker', () => {
  it('a live Ban that adds an address is measured from its log time to the acknowledgement', () => {
    const r = rig();
    r.t.observe(at(ban('sshd', '192.0.2.1'), START + 100), added('192.0.2.1'), START + 150);
    expect(r.t.size).toBe(1);
    r.t.applied(ack('add', ['192.0.2.1', '192.0.2.9'], START + 2100));
    expect(r.notices).toEqual([{ ...ack('add', ['192.0.2.1', '192.0.2.9'], START + 2100), banToBlockSeconds: [2] }]);
    expect(r.t.size).toBe(0);
  });

  it('not measured: a Ban without an add, a Restore Ban, a line from before the start, a line without time', () => {
    const r = rig();
    r.t.observe(at(ban('sshd', '192.0.2.1'), START + 10), { changes: [], notes: [] }, START + 20);
    r.t.observe(at(restore('sshd', '192.0.2.2'), START + 10), added('192.0.2.2'), START + 20);
    r.t.observe(at(ban('sshd', '192.0.2.3'), START - 1), added('192.0.2.3'), START + 20);
    r.t.observe(ban('sshd', '192.0.2.4'), added('192.0.2.4'), START + 20);
    expect(r.t.size).toBe(0);
  });

  it('a log time ahead of the host is not measured and warned about once', () => {
    const r = rig();
    const now = START + 1000;
    r.t.observe(at(ban('sshd', '192.0.2.1'), now + FUTURE_TOLERANCE_MS + 1), added('192.0.2.1'), now);
    r.t.observe(at(ban('sshd', '192.0.2.2'), now + FUTURE_TOLERANCE_MS + 1), added('192.0.2.2'), now);
    expect(r.t.size).toBe(0);
    expect(r.log.at('warn').map((e) => e.msg)).toEqual([
      'fail2ban log time is ahead of this host: different time zones? ban-to-block latency not measured',
    ]);
  });

  it('a cancelled ban is forgotten; removals are notified without latency', () => {
    const r = rig();
    r.t.observe(at(ban('sshd', '192.0.2.1'), START + 10), added('192.0.2.1'), START + 20);
    r.t.cancelled(KEY, '192.0.2.1');
    r.t.applied(ack('add', ['192.0.2.1'], START + 500));
    r.t.applied(ack('remove', ['192.0.2.1'], START + 600));
    expect(r.notices.map((n) => [n.op, n.banToBlockSeconds])).toEqual([
      ['add', []],
      ['remove', []],
    ]);
  });

  it('prune forgets bans no write acknowledged within the TTL (a day)', () => {
    const r = rig();
    r.t.observe(at(ban('sshd', '192.0.2.1'), START + 10), added('192.0.2.1'), START + 20);
    r.t.prune(START + 10 + 86_400_000);
    expect(r.t.size).toBe(1);
    r.t.prune(START + 11 + 86_400_000);
    expect(r.t.size).toBe(0);
  });

  it('a throwing hook is logged as a warning and does not propagate', () => {
    const r = rig(() => {
      throw new Error('metrics broke');
    });
    expect(() => r.t.applied(ack('add', ['192.0.2.1'], START))).not.toThrow();
    expect(r.log.at('warn')).toEqual([{ level: 'warn', obj: { err: 'metrics broke' }, msg: 'onApplied hook failed' }]);
  });

  it('unban events never start a measurement', () => {
    const r = rig();
    r.t.observe(at(unban('sshd', '192.0.2.1'), START + 10), added('192.0.2.1'), START + 20);
    expect(r.t.size).toBe(0);
  });
});
