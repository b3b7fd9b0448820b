/**
 * Membership decisions against a fake HostStore that answers like the XG (502 name exists, 503
 * address held, 500/501 for a missing group, 510 referenced, 528 missing): what is created,
 * updated and deleted, and which answers are tolerated as our own earlier attempt.
 */
import { describe, expect, it } from 'vitest';
import { addressOfHost } from '../../src/xg/address.js';
import {
  XgConflictError,
  XgNotFoundError,
  XgOperationError,
  XgTimeoutError,
  XgValidationError,
  errorForStatus,
} from '../../src/xg/errors.js';
import { HostMembership, MANAGED_DESCRIPTION, combine, wantedHosts, type HostStore } from '../../src/xg/membership.js';
import type { GroupRef } from '../../src/xg/port.js';
import type { HostFields } from '../../src/xg/request-xml.js';
import type { WriteResult } from '../../src/xg/transport.js';
import type { RawGroup, RawHost } from '../../src/xg/xml.js';
import { captureLog, rejection } from './helpers.js';

const G: GroupRef = { name: 'blk', family: 'IPv4' };
const OTHER: GroupRef = { name: 'other', family: 'IPv4' };

const ok = (name: string): WriteResult => ({ name, status: { code: 200, text: 'Configuration applied successfully.' } });
const fail = (name: string, code: number, op: string): WriteResult => {
  const status = { code, text: `status ${code}` };
  return { name, status, error: errorForStatus(code, status.text, { op, entity: 'IPHost', name }) };
};

/** Hosts and groups as the firewall keeps them, and every call made, in order. */
class FakeStore implements HostStore {
  readonly hosts = new Map<string, RawHost>();
  readonly groups = new Map<string, RawGroup>();
  readonly referenced = new Set<string>();
  readonly calls: string[] = [];
  /** Runs before each write, to stage what happens between a read and a write. */
  beforeWrite: (kind: string) => void = () => undefined;

  constructor(private readonly prefix = 'f2b_') {}

  async ownedHosts(only?: ReadonlySet<string>): Promise<Map<string, RawHost>> {
    this.calls.push('read');
    const out = new Map<string, RawHost>();
    for (const h of this.hosts.values()) {
      if (h.name.startsWith(this.prefix) && (!only || only.has(h.name))) out.set(h.name, structuredClone(h));
    }
    return out;
  }

  async group(name: string): Promise<RawGroup | undefined> {
    this.calls.push('group');
    return this.groups.get(name);
  }

  async createHosts(hosts: readonly HostFields[]): Promise<WriteResult[]> {
    return this.writes(
      'create',
      hosts.map((h) => h.name),
      (i) => {
        const h = hosts[i] as HostFields;
        if (h.groups.some((g) => !this.groups.has(g))) return fail(h.name, 501, 'add');
        if (this.hosts.has(h.name)) return fail(h.name, 502, 'add');
        if ([...this.hosts.values()].some((o) => addressOfHost(o) === addressOfHost(h))) return fail(h.name, 503, 'add');
        this.hosts.set(h.name, structuredClone(h));
        return ok(h.name);
      },
    );
  }

  async updateHosts(hosts: readonly HostFields[]): Promise<WriteResult[]> {
    return this.writes(
      'update',
      hosts.map((h) => h.name),
      (i) => {
        const h = hosts[i] as HostFields;
        if (!this.hosts.has(h.name)) return fail(h.name, 500, 'update');
        if (h.groups.some((g) => !this.groups.has(g))) return fail(h.name, 500, 'update');
        this.hosts.set(h.name, structuredClone(h));
        return ok(h.name);
      },
    );
  }

  async removeHosts(names: readonly string[]): Promise<WriteResult[]> {
    return this.writes('remove', names, (i) => {
      const name = names[i] as string;
      const h = this.hosts.get(name);
      if (!h) return fail(name, 528, 'remove');
      if (this.referenced.has(name) || h.groups.length > 0) return fail(name, 510, 'remove');
      this.hosts.delete(name);
      return ok(name);
    });
  }

  private writes(kind: string, names: readonly string[], one: (i: number) => WriteResult): WriteResult[] {
    if (names.length === 0) return [];
    this.beforeWrite(kind);
    this.calls.push(`${kind} ${names.length}`);
    return names.map((_, i) => one(i));
  }

  host(name: string, address: string, groups: string[], extra: Partial<HostFields> = {}): void {
    this.hosts.set(name, { name, family: 'IPv4', hostType: 'IP', ipAddress: address, groups, ...extra });
  }
}

function setup(): { store: FakeStore; m: HostMembership; log: ReturnType<typeof captureLog> } {
  const store = new FakeStore();
  store.groups.set(G.name, { name: G.name, description: '', family: 'IPv4', members: [] });
  store.groups.set(OTHER.name, { name: OTHER.name, description: '', family: 'IPv4', members: [] });
  const log = captureLog();
  return { store, m: new HostMembership(store, 'f2b_', log), log };
}

describe('wantedHosts', () => {
  it('one host name per distinct address, in the canonical spelling', () => {
    const w = wantedHosts('f2b_', { name: 'g6', family: 'IPv6' }, ['2001:DB8::1', '2001:db8:0::1', '2001:db8::/48']);
    expect([...w.values()]).toEqual(['2001:db8::1', '2001:db8::/48']);
    expect([...w.keys()]).toEqual(['f2b_2001-db8--1', 'f2b_2001-db8--_48']);
  });

  it('refuses a non-address or an address of the other family', () => {
    expect(() => wantedHosts('f2b_', G, ['203.0.113.7', 'nope'])).toThrow(expect.objectContaining({ code: 'XG_BAD_ADDRESS' }) as Error);
    expect(() => wantedHosts('f2b_', G, ['2001:db8::1'])).toThrow(expect.objectContaining({ code: 'XG_FAMILY_MISMATCH' }) as Error);
  });
});

describe('HostMembership.add', () => {
  it('creates one managed host per new address, in the group, without reading first', async () => {
    const { store, m } = setup();
    await m.add(G, ['203.0.113.7', '198.51.100.0/24', '203.0.113.7']);
    expect(store.calls).toEqual(['create 2']);
    expect(store.hosts.get('f2b_198.51.100.0_24')).toEqual({
      name: 'f2b_198.51.100.0_24',
      family: 'IPv4',
      hostType: 'Network',
      ipAddress: '198.51.100.0',
      subnet: '255.255.255.0',
      description: MANAGED_DESCRIPTION,
      groups: [G.name],
    });
  });

  it('writes nothing for an invalid batch', async () => {
    const { store, m } = setup();
    const err = await rejection(m.add(G, ['203.0.113.7', '2001:db8::1']));
    expect(err).toBeInstanceOf(XgValidationError);
    expect(store.calls).toEqual([]);
  });

  it('a host that exists already (502) is re-read and joins the group, keeping its fields and other groups', async () => {
    const { store, m } = setup();
    store.host('f2b_203.0.113.7', '203.0.113.7', [OTHER.name], { description: 'kept' });
    await m.add(G, ['203.0.113.7', '203.0.113.8']);
    expect(store.calls).toEqual(['create 2', 'read', 'update 1']);
    expect(store.hosts.get('f2b_203.0.113.7')).toMatchObject({ description: 'kept', groups: [OTHER.name, G.name] });
    // Already a member: nothing more to write.
    store.calls.length = 0;
    await m.add(G, ['203.0.113.7']);
    expect(store.calls).toEqual(['create 1', 'read']);
  });

  it('a host under our name holding another address is reported and left untouched', async () => {
    const { store, m } = setup();
    store.host('f2b_203.0.113.7', '203.0.113.99', []);
    const err = await rejection(m.add(G, ['203.0.113.7']));
    expect(err).toBeInstanceOf(XgConflictError);
    expect(err.code).toBe('XG_HOST_MISMATCH');
    expect(store.hosts.get('f2b_203.0.113.7')?.groups).toEqual([]);
  });

  it('a name taken by an object that does not read back as ours is a conflict', async () => {
    const { store, m } = setup();
    store.beforeWrite = (kind) => {
      // Created between the create and the re-read under a name the read does not return.
      if (kind === 'create') store.host('f2b_203.0.113.7', '203.0.113.7', []);
    };
    const read = store.ownedHosts.bind(store);
    store.ownedHosts = async () => (await read(), new Map());
    const err = await rejection(m.add(G, ['203.0.113.7']));
    expect(err.code).toBe('XG_NAME_EXISTS');
  });

  it('503: an address held by a foreign host is reported with what the admin must do; the rest goes through', async () => {
    const { store, m } = setup();
    store.host('admin_web', '203.0.113.7', []);
    const err = await rejection(m.add(G, ['203.0.113.7', '203.0.113.8']));
    expect(err.code).toBe('XG_FOREIGN_HOLDER');
    expect(err.xgStatus).toBe(503);
    expect(err.message).toMatch(/203\.0\.113\.7 is NOT blocked through blk/);
    expect(store.hosts.get('f2b_203.0.113.8')?.groups).toEqual([G.name]);
    expect(store.hosts.get('admin_web')?.groups).toEqual([]);
  });

  it('a refused write to a missing group is reported as the missing group, with the refusal as cause', async () => {
    const { store, m } = setup();
    const err = await rejection(m.add({ name: 'gone', family: 'IPv4' }, ['203.0.113.7']));
    expect(err).toBeInstanceOf(XgNotFoundError);
    expect(err.code).toBe('XG_GROUP_MISSING');
    expect((err.cause as { xgStatus?: number }).xgStatus).toBe(501);
    expect(store.calls).toEqual(['create 1', 'group']);
  });

  it('a refused write to a group of the other family is reported as that', async () => {
    const { store, m } = setup();
    store.groups.set('g6', { name: 'g6', description: '', family: 'IPv6', members: [] });
    store.updateHosts = async (hosts) => hosts.map((h) => fail(h.name, 501, 'update'));
    store.createHosts = async (hosts) => hosts.map((h) => fail(h.name, 501, 'add'));
    const err = await rejection(m.add({ name: 'g6', family: 'IPv4' }, ['203.0.113.7']));
    expect(err.code).toBe('XG_GROUP_FAMILY_MISMATCH');
  });
});

describe('HostMembership.remove', () => {
  it('a host in this group only leaves it and is deleted; one in two groups only leaves', async () => {
    const { store, m } = setup();
    store.host('f2b_203.0.113.7', '203.0.113.7', [G.name]);
    store.host('f2b_203.0.113.8', '203.0.113.8', [G.name, OTHER.name]);
    await m.remove(G, ['203.0.113.7', '203.0.113.8', '192.0.2.1']);
    expect(store.calls).toEqual(['read', 'update 2', 'remove 1']);
    expect(store.hosts.has('f2b_203.0.113.7')).toBe(false);
    expect(store.hosts.get('f2b_203.0.113.8')?.groups).toEqual([OTHER.name]);
  });

  it('a host under our name holding another address is left alone with a warning', async () => {
    const { store, m, log } = setup();
    store.host('f2b_203.0.113.7', '203.0.113.99', [G.name]);
    await m.remove(G, ['203.0.113.7']);
    expect(store.calls).toEqual(['read']);
    expect(store.hosts.get('f2b_203.0.113.7')?.groups).toEqual([G.name]);
    expect(log.lines).toEqual([{ level: 'warn', msg: expect.stringContaining('does not hold 203.0.113.7') as unknown }]);
  });

  it('an update refused because the host went away meanwhile is no failure', async () => {
    const { store, m } = setup();
    store.host('f2b_203.0.113.7', '203.0.113.7', [G.name]);
    store.beforeWrite = (kind) => {
      if (kind === 'update') store.hosts.delete('f2b_203.0.113.7');
    };
    await m.remove(G, ['203.0.113.7']);
    expect(store.calls).toEqual(['read', 'update 1', 'read', 'remove 1', 'read']);
  });

  it('an update refused while the host is still a member fails, and that host is not deleted', async () => {
    const { store, m } = setup();
    store.host('f2b_203.0.113.7', '203.0.113.7', [G.name]);
    store.updateHosts = async (hosts) => hosts.map((h) => fail(h.name, 500, 'update'));
    const err = await rejection(m.remove(G, ['203.0.113.7']));
    expect(err).toBeInstanceOf(XgOperationError);
    expect(store.calls).toEqual(['read', 'read']);
    expect(store.hosts.has('f2b_203.0.113.7')).toBe(true);
  });

  it('a delete refused because a rule still uses the host leaves it with a warning, not an error', async () => {
    const { store, m, log } = setup();
    store.host('f2b_203.0.113.7', '203.0.113.7', [G.name]);
    store.referenced.add('f2b_203.0.113.7');
    await m.remove(G, ['203.0.113.7']);
    expect(store.hosts.get('f2b_203.0.113.7')?.groups).toEqual([]);
    expect(log.lines.map((l) => l.level)).toEqual(['warn']);
    expect(log.lines[0]?.msg).toMatch(/XG 510/);
  });

  it('a delete refused for another reason is an error', async () => {
    const { store, m } = setup();
    store.host('f2b_203.0.113.7', '203.0.113.7', [G.name]);
    store.removeHosts = async (names) => names.map((n) => fail(n, 500, 'remove'));
    const err = await rejection(m.remove(G, ['203.0.113.7']));
    expect(err.xgStatus).toBe(500);
  });
});

describe('combine', () => {
  it('puts a failure that retrying cannot fix first and names the others', () => {
    const retryable = new XgTimeoutError('slow', { name: 'a' });
    const final = new XgConflictError('taken', { name: 'b', xgStatus: 502 });
    const err = combine([retryable, final]);
    expect(err).toBe(final);
    expect(err?.message).toMatch(/and 1 more failure\(s\): XG_TIMEOUT on a/);
    expect(combine([])).toBeUndefined();
  });
});
