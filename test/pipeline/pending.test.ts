import { describe, expect, it } from 'vitest';
import { PendingChanges } from '../../src/pipeline/pending.js';
import type { GroupChange } from '../../src/pipeline/model.js';

const V4 = 'fw1/f2b-v4';
const V6 = 'fw1/f2b-v6';
const ch = (key: string, address: string, op: GroupChange['op']): GroupChange => ({ key, address, op });

/** The unshipped set as plain arrays, for readable expectations. */
function unshipped(p: PendingChanges): Record<string, [string, string][]> {
  return Object.fromEntries([...p.takeUnshipped()].map(([k, m]) => [k, [...m]]));
}

describe('PendingChanges', () => {
  it('counts the net difference per group and address: a change undone cancels out', () => {
    const p = new PendingChanges();
    p.record(ch(V4, '192.0.2.1', 'add'));
    p.record(ch(V4, '192.0.2.2', 'add'));
    p.record(ch(V6, '2001:db8::1', 'add'));
    expect([p.size, p.groups]).toEqual([3, 2]);
    p.record(ch(V4, '192.0.2.1', 'remove'));
    expect(p.size).toBe(2);
    // The same direction twice is one change.
    p.record(ch(V4, '192.0.2.2', 'add'));
    expect(p.size).toBe(2);
  });

  it('a hold counts as leaving: a ban held before its first write cancels out; after a flush it is a change of its own', () => {
    const p = new PendingChanges();
    p.record(ch(V4, '192.0.2.1', 'add'));
    p.record(ch(V4, '192.0.2.1', 'hold'));
    expect(p.size).toBe(0);
    p.record(ch(V4, '192.0.2.3', 'add'));
    p.flushed();
    p.record(ch(V4, '192.0.2.3', 'hold'));
    expect(p.size).toBe(1);
  });

  it('keeps the latest class of each address until a snapshot takes them, across flushes', () => {
    const p = new PendingChanges();
    p.record(ch(V4, '192.0.2.1', 'add'));
    p.record(ch(V4, '192.0.2.2', 'add'));
    p.flushed();
    p.record(ch(V4, '192.0.2.2', 'hold'));
    p.record(ch(V6, '2001:db8::1', 'add'));
    p.record(ch(V6, '2001:db8::1', 'remove'));
    expect(unshipped(p)).toEqual({
      [V4]: [
        ['192.0.2.1', 'desired'],
        ['192.0.2.2', 'held'],
      ],
      // Added and removed before any snapshot: the reconciler must still hear it is absent.
      [V6]: [['2001:db8::1', 'absent']],
    });
    expect(unshipped(p)).toEqual({});
    // Taking the snapshot's changes does not touch the batching count.
    expect(p.size).toBe(1);
  });

  it('dirty: set by touch (a change or a checkpoint), cleared by a flush', () => {
    const p = new PendingChanges();
    expect(p.dirty).toBe(false);
    p.touch();
    expect(p.dirty).toBe(true);
    p.record(ch(V4, '192.0.2.1', 'add'));
    p.flushed();
    expect([p.dirty, p.size]).toEqual([false, 0]);
    // A flush forgets the difference but not what the firewalls still have to hear.
    expect(unshipped(p)).toEqual({ [V4]: [['192.0.2.1', 'desired']] });
  });
});
