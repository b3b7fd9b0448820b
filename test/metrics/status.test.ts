import { describe, expect, it } from 'vitest';
import { parseTime, publicStatus, type StatusSnapshot } from '../../src/metrics/status.js';
import { T0, healthySnapshot, iso } from './snapshot.js';

describe('publicStatus', () => {
  it('keeps the declared fields and values', () => {
    const s = healthySnapshot();
    expect(JSON.parse(JSON.stringify(publicStatus(s)))).toEqual(JSON.parse(JSON.stringify(s)));
  });

  it('keeps the objects report (issue 12) and only its declared fields', () => {
    const s = healthySnapshot();
    s.groups[0]!.objects = { mode: 'lists', lists: 3, hosts: 0, maxPerList: 1000, meanPerList: 667, names: ['f2b_x.list1'] } as never;
    expect(publicStatus(s).groups[0]!.objects).toEqual({ mode: 'lists', lists: 3, hosts: 0, maxPerList: 1000, meanPerList: 667 });
  });

  it('drops fields outside the snapshot shape (a richer object must not leak)', () => {
    const s = healthySnapshot();
    const rich = {
      ...s,
      password: 'hunter2',
      firewalls: s.firewalls.map((f) => ({ ...f, url: 'https://admin:hunter2@fw:4444', password: 'hunter2' })),
      groups: s.groups.map((g) => ({ ...g, members: ['203.0.113.9'] })),
      log: { ...s.log, fd: 7 },
    } as StatusSnapshot;
    const text = JSON.stringify(publicStatus(rich));
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('203.0.113.9');
    expect(text).not.toContain('"fd"');
  });

  it('masks URL credentials inside error messages, keeps codes and stamps', () => {
    const s = healthySnapshot();
    s.firewalls[0] = {
      name: 'edge',
      reachable: false,
      consecutiveFailures: 2,
      permanentError: { message: 'connect to https://api:s3cret@fw.example:4444/webconsole failed', code: 'XG_TRANSPORT', since: iso(T0) },
    };
    s.groups[0] = { ...(s.groups[0] as StatusSnapshot['groups'][number]), lastError: { message: 'see ftp://u:p@h/x', at: iso(T0) } };
    const out = publicStatus(s);
    expect(out.firewalls[0]?.permanentError).toEqual({
      message: 'connect to https://***@fw.example:4444/webconsole failed',
      code: 'XG_TRANSPORT',
      since: iso(T0),
    });
    expect(out.groups[0]?.lastError).toEqual({ message: 'see ftp://***@h/x', at: iso(T0) });
  });
});

describe('parseTime', () => {
  it('parses ISO times and rejects the rest', () => {
    expect(parseTime(iso(T0))).toBe(T0);
    expect(parseTime(undefined)).toBeUndefined();
    expect(parseTime('yesterday')).toBeUndefined();
  });
});
