/**
 * The FirewallPort contract, run against every adapter that talks to a firewall model: the
 * in-memory fake (memory.test.ts) and the XML API client against the HTTPS emulator
 * (client.test.ts). If the fake and the client disagree on any of these, one of them is wrong.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AddressFamily } from '../../src/core/address.js';
import type { FirewallPort, GroupRef } from '../../src/xg/port.js';
import { XgConflictError, XgNotFoundError, XgValidationError } from '../../src/xg/errors.js';
import { hostName } from '../../src/xg/naming.js';
import { runListContract } from './list-contract.js';

export interface PortFixture {
  /** This sidecar (prefix `f2b_`). */
  port: FirewallPort;
  /** A second sidecar whose prefix contains the first one as a substring (`other_f2b_`). */
  otherPort: FirewallPort;
  /** An admin's group. */
  seedGroup(name: string, family: AddressFamily): Promise<void>;
  /** An admin's host (no sidecar prefix), optionally member of groups that exist. */
  seedForeign(host: { name: string; address: string; groups?: string[] }): Promise<void>;
  /** Addresses of all members of a group, owned or not, sorted. */
  members(group: string): Promise<string[]>;
  /** Names of all hosts on the firewall, sorted (system hosts excluded). */
  hostNames(): Promise<string[]>;
  /** An IPList host as an admin, an earlier version or a hand edit leaves it (created or rewritten whole; the cap not enforced). */
  seedList(list: { name: string; entries: string[]; family: AddressFamily; groups?: string[] }): Promise<void>;
  /** Every address the group blocks now (its IP hosts' and IPLists' entries), sorted, read from the model directly. */
  blockedNow(group: string): string[];
  /** `fn` runs after every object the firewall writes (to sample what is blocked between writes). */
  onWrite(fn: () => void): void;
  teardown(): Promise<void>;
}

const V4: GroupRef = { name: 'f2b_blockings', family: 'IPv4' };
const V6: GroupRef = { name: 'f2b_blockings6', family: 'IPv6' };
const OTHER: GroupRef = { name: 'f2b_other', family: 'IPv4' };

const sorted = (s: Iterable<string>): string[] => [...s].sort();

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

export function runPortContract(name: string, setup: () => Promise<PortFixture>): void {
  describe(`FirewallPort contract: ${name}`, () => {
    let fx: PortFixture;
    beforeEach(async () => {
      fx = await setup();
    });
    afterEach(async () => {
      await fx.teardown();
    });

    runListContract(() => fx);

    it('checkLogin succeeds with good credentials', async () => {
      await expect(fx.port.checkLogin()).resolves.toBeUndefined();
    });

    it('ensureGroup creates the group once and is idempotent', async () => {
      expect((await fx.port.readGroup(V4)).exists).toBe(false);
      await fx.port.ensureGroup(V4);
      await fx.port.ensureGroup(V4);
      const s = await fx.port.readGroup(V4);
      expect(s).toEqual({ exists: true, owned: new Set(), foreign: 0 });
    });

    it('ensureGroup refuses a group that exists with the other family, leaving it alone', async () => {
      await fx.seedGroup('mixed', 'IPv6');
      await fx.seedForeign({ name: 'admin6', address: '2001:db8::99', groups: ['mixed'] });
      const err = await rejection(fx.port.ensureGroup({ name: 'mixed', family: 'IPv4' }));
      expect(err).toBeInstanceOf(XgValidationError);
      expect((err as XgValidationError).code).toBe('XG_GROUP_FAMILY_MISMATCH');
      expect(String((err as Error).message)).toContain('mixed');
      expect(await fx.members('mixed')).toEqual(['2001:db8::99']);
    });

    it('adds and removes idempotently', async () => {
      await fx.port.ensureGroup(V4);
      await fx.port.addToGroup(V4, ['203.0.113.7', '203.0.113.9']);
      await fx.port.addToGroup(V4, ['203.0.113.9', '203.0.113.7', '203.0.113.7']);
      expect(sorted((await fx.port.readGroup(V4)).owned)).toEqual(['203.0.113.7', '203.0.113.9']);
      expect(await fx.members(V4.name)).toEqual(['203.0.113.7', '203.0.113.9']);

      await fx.port.removeFromGroup(V4, ['203.0.113.7']);
      await fx.port.removeFromGroup(V4, ['203.0.113.7', '192.0.2.200']);
      expect(sorted((await fx.port.readGroup(V4)).owned)).toEqual(['203.0.113.9']);
      expect((await fx.port.listOwnedHosts()).map((h) => h.address)).toEqual(['203.0.113.9']);
      await fx.port.addToGroup(V4, []);
      await fx.port.removeFromGroup(V4, []);
      expect(await fx.members(V4.name)).toEqual(['203.0.113.9']);
    });

    it('handles IPv6 addresses and CIDR networks of both families', async () => {
      await fx.port.ensureGroup(V4);
      await fx.port.ensureGroup(V6);
      await fx.port.addToGroup(V6, ['2001:db8::1', '2001:db8:1::/64']);
      await fx.port.addToGroup(V4, ['198.51.100.0/24', '203.0.113.7']);
      expect(sorted((await fx.port.readGroup(V6)).owned)).toEqual(['2001:db8:1::/64', '2001:db8::1']);
      expect(sorted((await fx.port.readGroup(V4)).owned)).toEqual(['198.51.100.0/24', '203.0.113.7']);
      const hosts = await fx.port.listOwnedHosts();
      const v6net = hosts.find((h) => h.address === '2001:db8:1::/64');
      expect(v6net).toMatchObject({ family: 'IPv6', groups: [V6.name] });
      expect(v6net?.name.startsWith('f2b_')).toBe(true);
      await fx.port.removeFromGroup(V6, ['2001:db8:1::/64', '2001:db8::1']);
      await fx.port.removeFromGroup(V4, ['198.51.100.0/24']);
      expect(sorted((await fx.port.listOwnedHosts()).map((h) => h.address))).toEqual(['203.0.113.7']);
    });

    it('refuses an address of the other family without writing anything', async () => {
      await fx.port.ensureGroup(V4);
      const err = await rejection(fx.port.addToGroup(V4, ['203.0.113.7', '2001:db8::1']));
      expect(err).toBeInstanceOf(XgValidationError);
      expect((await fx.port.readGroup(V4)).owned.size).toBe(0);
    });

    it('refuses what is not an address, writing nothing', async () => {
      await fx.port.ensureGroup(V4);
      for (const bad of ['203.0.113.300', 'example.org', '203.0.113.0/33', '']) {
        const err = await rejection(fx.port.addToGroup(V4, ['203.0.113.7', bad]));
        expect(err).toBeInstanceOf(XgValidationError);
        expect((err as XgValidationError).code).toBe('XG_BAD_ADDRESS');
      }
      expect(await fx.hostNames()).toEqual([]);
    });

    it('adding to a missing group fails as such and creates no host', async () => {
      const err = await rejection(fx.port.addToGroup(V4, ['203.0.113.7']));
      expect(err).toBeInstanceOf(XgNotFoundError);
      expect((err as XgNotFoundError).code).toBe('XG_GROUP_MISSING');
      expect(await fx.hostNames()).toEqual([]);
      expect((await fx.port.readGroup(V4)).exists).toBe(false);
    });

    it('treats spellings of one address as that address', async () => {
      await fx.port.ensureGroup(V6);
      await fx.port.addToGroup(V6, ['2001:DB8:0:0::7', '2001:db8::7']);
      expect(sorted((await fx.port.readGroup(V6)).owned)).toEqual(['2001:db8::7']);
      expect(await fx.hostNames()).toEqual([hostName('f2b_', '2001:db8::7')]);
      await fx.port.removeFromGroup(V6, ['2001:0db8::0007']);
      expect(await fx.hostNames()).toEqual([]);
    });

    it('leaves alone a host that carries the prefix but holds another address', async () => {
      await fx.port.ensureGroup(V4);
      const squatter = hostName('f2b_', '203.0.113.7');
      await fx.seedForeign({ name: squatter, address: '203.0.113.8', groups: [V4.name] });
      const err = await rejection(fx.port.addToGroup(V4, ['203.0.113.7']));
      expect(err).toBeInstanceOf(XgConflictError);
      expect((err as Error).message).toContain(squatter);
      await fx.port.removeFromGroup(V4, ['203.0.113.7']);
      expect(await fx.members(V4.name)).toEqual(['203.0.113.8']);
      expect(await fx.hostNames()).toEqual([squatter]);
    });

    it('keeps a host that is in two groups until it leaves both', async () => {
      await fx.port.ensureGroup(V4);
      await fx.port.ensureGroup(OTHER);
      await fx.port.addToGroup(V4, ['203.0.113.7']);
      await fx.port.addToGroup(OTHER, ['203.0.113.7']);
      let [h] = await fx.port.listOwnedHosts();
      expect(sorted(h?.groups ?? [])).toEqual(sorted([OTHER.name, V4.name]));

      await fx.port.removeFromGroup(V4, ['203.0.113.7']);
      expect((await fx.port.readGroup(V4)).owned.size).toBe(0);
      expect(sorted((await fx.port.readGroup(OTHER)).owned)).toEqual(['203.0.113.7']);
      [h] = await fx.port.listOwnedHosts();
      expect(h?.groups).toEqual([OTHER.name]);

      await fx.port.removeFromGroup(OTHER, ['203.0.113.7']);
      expect(await fx.port.listOwnedHosts()).toEqual([]);
    });

    it('removing from a missing group changes nothing and keeps hosts other groups still hold', async () => {
      await fx.port.ensureGroup(OTHER);
      await fx.port.addToGroup(OTHER, ['203.0.113.7']);
      await fx.port.removeFromGroup(V4, ['203.0.113.7', '203.0.113.8']);
      expect((await fx.port.readGroup(V4)).exists).toBe(false);
      expect(await fx.members(OTHER.name)).toEqual(['203.0.113.7']);
      expect((await fx.port.listOwnedHosts()).map((h) => h.groups)).toEqual([[OTHER.name]]);
    });

    it('never touches foreign members of the group', async () => {
      await fx.port.ensureGroup(V4);
      await fx.seedForeign({ name: 'admin_server', address: '192.0.2.50', groups: [V4.name] });
      await fx.port.addToGroup(V4, ['203.0.113.7', '203.0.113.8']);
      const s = await fx.port.readGroup(V4);
      expect(s.foreign).toBe(1);
      expect(sorted(s.owned)).toEqual(['203.0.113.7', '203.0.113.8']);
      await fx.port.removeFromGroup(V4, ['203.0.113.7', '203.0.113.8', '192.0.2.50']);
      expect(await fx.members(V4.name)).toEqual(['192.0.2.50']);
      expect(await fx.port.readGroup(V4)).toEqual({ exists: true, owned: new Set(), foreign: 1 });
      expect(await fx.hostNames()).toContain('admin_server');
    });

    it('reports an address held by a foreign host and leaves that host alone', async () => {
      await fx.port.ensureGroup(V4);
      await fx.seedGroup('admin_group', 'IPv4');
      await fx.seedForeign({ name: 'admin_same', address: '203.0.113.7', groups: ['admin_group'] });
      const err = await rejection(fx.port.addToGroup(V4, ['203.0.113.7', '203.0.113.9']));
      expect(err).toBeInstanceOf(XgConflictError);
      expect((err as Error).message).toContain('203.0.113.7');
      // The rest of the batch went through; the foreign host kept its name and its groups.
      expect(await fx.members(V4.name)).toEqual(['203.0.113.9']);
      expect(await fx.members('admin_group')).toEqual(['203.0.113.7']);
      await fx.port.removeFromGroup(V4, ['203.0.113.7', '203.0.113.9']);
      expect(await fx.members('admin_group')).toEqual(['203.0.113.7']);
      expect(await fx.hostNames()).toEqual(['admin_same']);
    });

    it("leaves another sidecar's hosts alone, and vice versa", async () => {
      await fx.port.ensureGroup(V4);
      await fx.otherPort.ensureGroup(V4);
      await fx.port.addToGroup(V4, ['203.0.113.1', '203.0.113.2']);
      await fx.otherPort.addToGroup(V4, ['198.51.100.1']);
      expect(await fx.port.readGroup(V4)).toEqual({ exists: true, owned: new Set(['203.0.113.1', '203.0.113.2']), foreign: 1 });
      expect(await fx.otherPort.readGroup(V4)).toEqual({ exists: true, owned: new Set(['198.51.100.1']), foreign: 2 });
      expect(sorted((await fx.port.listOwnedHosts()).map((h) => h.address))).toEqual(['203.0.113.1', '203.0.113.2']);
      expect((await fx.otherPort.listOwnedHosts()).map((h) => h.address)).toEqual(['198.51.100.1']);

      await fx.port.removeFromGroup(V4, ['198.51.100.1', '203.0.113.1']);
      await fx.otherPort.removeFromGroup(V4, ['203.0.113.2']);
      expect(await fx.members(V4.name)).toEqual(['198.51.100.1', '203.0.113.2']);
      await fx.otherPort.removeFromGroup(V4, ['198.51.100.1']);
      expect(await fx.members(V4.name)).toEqual(['203.0.113.2']);
      expect(await fx.otherPort.listOwnedHosts()).toEqual([]);
    });

    it('listOwnedHosts reports name, address, family and every group', async () => {
      await fx.port.ensureGroup(V4);
      await fx.port.ensureGroup(V6);
      await fx.seedGroup('admin_group', 'IPv4');
      await fx.seedForeign({ name: 'admin_server', address: '192.0.2.50', groups: ['admin_group'] });
      await fx.port.addToGroup(V4, ['203.0.113.7']);
      await fx.port.addToGroup(V6, ['2001:db8::7']);
      const hosts = (await fx.port.listOwnedHosts()).sort((a, b) => a.address.localeCompare(b.address));
      expect(hosts).toEqual([
        { name: expect.stringMatching(/^f2b_/) as unknown, address: '2001:db8::7', family: 'IPv6', groups: [V6.name] },
        { name: expect.stringMatching(/^f2b_/) as unknown, address: '203.0.113.7', family: 'IPv4', groups: [V4.name] },
      ]);
    });
  });
}
