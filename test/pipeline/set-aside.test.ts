import { describe, expect, it } from 'vitest';
import { SetAside } from '../../src/pipeline/set-aside.js';

const info = { code: 'XG_FOREIGN_HOLDER', message: 'held by a foreign host', at: '1970-01-01T00:00:00.000Z' };

describe('SetAside', () => {
  it('records once, keeps the first time, is due after retryMs', () => {
    const s = new SetAside(3_600_000);
    expect(s.add('fw/g', 'add', '192.0.2.1', info, 0)).toBe(true);
    expect(s.add('fw/g', 'add', '192.0.2.1', info, 10)).toBe(false);
    expect(s.has('fw/g', 'add', '192.0.2.1')).toBe(true);
    expect(s.has('fw/g', 'remove', '192.0.2.1')).toBe(false);
    expect(s.entries()[0]).toMatchObject({ since: 0, retryAt: 3_600_010, code: 'XG_FOREIGN_HOLDER' });
    expect(s.nextDue()).toBe(3_600_010);
    const desired = new Set(['192.0.2.1']);
    s.prune('fw/g', 3_600_009, desired);
    expect(s.count('fw/g')).toBe(1);
    s.prune('fw/g', 3_600_010, desired);
    expect(s.count('fw/g')).toBe(0);
  });

  it('forgets what the desired state no longer asks for', () => {
    const s = new SetAside();
    s.add('k', 'add', '192.0.2.1', info, 0);
    s.add('k', 'remove', '192.0.2.2', info, 0);
    s.prune('k', 1, new Set(['192.0.2.2']));
    // The add is unbanned meanwhile; the remove was banned again.
    expect(s.count('k')).toBe(0);
    s.add('k', 'add', '192.0.2.1', info, 0);
    s.clear();
    expect(s.entries()).toEqual([]);
    expect(s.nextDue()).toBeUndefined();
  });
});
