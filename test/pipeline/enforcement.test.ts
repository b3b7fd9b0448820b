import { describe, expect, it } from 'vitest';
import { describeEnforcement, groupEnforcement } from '../../src/pipeline/enforcement.js';
import type { FirewallRuleView } from '../../src/xg/port.js';

const rule = (r: Partial<FirewallRuleView> & { name: string }): FirewallRuleView => ({
  enabled: true,
  action: 'Drop',
  sourceNetworks: [],
  destinationNetworks: [],
  ...r,
});

describe('groupEnforcement', () => {
  it('an enabled Drop rule with the group as a source enforces it', () => {
    const e = groupEnforcement([rule({ name: 'drop', sourceNetworks: ['lan', 'f2b'] })], 'f2b');
    expect(e).toEqual({ group: 'f2b', enforced: true, rules: ['drop'], ignored: [] });
    expect(describeEnforcement(e)).toBe('enforced by "drop"');
  });

  it('Reject counts like Drop, whatever the case the firewall writes it in', () => {
    expect(groupEnforcement([rule({ name: 'r', action: 'reject', sourceNetworks: ['f2b'] })], 'f2b').rules).toEqual(['r']);
  });

  it('a disabled rule does not', () => {
    const e = groupEnforcement([rule({ name: 'off', enabled: false, sourceNetworks: ['f2b'] })], 'f2b');
    expect(e.enforced).toBe(false);
    expect(e.ignored).toEqual([{ rule: 'off', why: 'rule is disabled' }]);
    expect(describeEnforcement(e)).toMatch(/^NOT ENFORCED: .*"off": rule is disabled/);
  });

  it('an Accept rule does not', () => {
    const e = groupEnforcement([rule({ name: 'allow', action: 'Accept', sourceNetworks: ['f2b'] })], 'f2b');
    expect(e.enforced).toBe(false);
    expect(e.ignored).toEqual([{ rule: 'allow', why: 'action Accept' }]);
  });

  it('the group as a destination only does not', () => {
    const e = groupEnforcement([rule({ name: 'to', destinationNetworks: ['f2b'] })], 'f2b');
    expect(e.enforced).toBe(false);
    expect(e.ignored).toEqual([{ rule: 'to', why: 'group is a destination only' }]);
  });

  it('a Drop rule with source Any does not (it drops everyone, not the group)', () => {
    const e = groupEnforcement([rule({ name: 'any', sourceNetworks: [] })], 'f2b');
    expect(e).toEqual({ group: 'f2b', enforced: false, rules: [], ignored: [] });
    expect(describeEnforcement(e)).toBe('NOT ENFORCED: no enabled Drop/Reject rule uses it as a source network');
  });

  it('another group with a similar name does not; several enforcing rules are all named in order', () => {
    const rules = [
      rule({ name: 'a', sourceNetworks: ['f2b_x'] }),
      rule({ name: 'b', sourceNetworks: ['f2b'] }),
      rule({ name: 'c', action: 'Accept', sourceNetworks: ['f2b'] }),
      rule({ name: 'd', action: 'Reject', sourceNetworks: ['f2b'] }),
    ];
    expect(groupEnforcement(rules, 'f2b').rules).toEqual(['b', 'd']);
    expect(groupEnforcement(rules, 'f2b_y').enforced).toBe(false);
  });
});
