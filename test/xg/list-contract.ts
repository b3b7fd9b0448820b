/**
 * Lists mode of the FirewallPort contract (issue 12): readLists / writeLists, run by contract.ts
 * against the in-memory fake and the XML API client over the HTTPS emulator.
 */
import { describe, expect, it } from 'vitest';
import { listNamer } from '../../src/core/list-name.js';
import type { GroupRef, ListWrite } from '../../src/xg/port.js';
import { XgConflictError, XgValidationError } from '../../src/xg/errors.js';
import type { PortFixture } from './contract.js';

const V4: GroupRef = { name: 'f2b_blockings', family: 'IPv4' };
const V6: GroupRef = { name: 'f2b_blockings6', family: 'IPv6' };
const OTHER: GroupRef = { name: 'f2b_other', family: 'IPv4' };
const n4 = listNamer('f2b_', V4.name);
const n6 = listNamer('f2b_', V6.name);

const ips = (from: number, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `10.1.${((from + i) >> 8) & 255}.${(from + i) & 255}`);

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

export function runListContract(fixture: () => PortFixture): void {
  describe('lists mode', () => {
    it('writes and reads lists of both families: create, full-replace update, leave, delete', async () => {
      const fx = fixture();
      await fx.port.ensureGroup(V4);
      await fx.port.ensureGroup(V6);
      await fx.port.writeLists(V4, [
        { op: 'create', name: n4.name(1), addresses: ['203.0.113.1', '203.0.113.2'] },
        { op: 'create', name: n4.name(2), addresses: ['198.51.100.7'] },
      ]);
      await fx.port.writeLists(V6, [{ op: 'create', name: n6.name(1), addresses: ['2001:db8::1', '2001:db8:1::7'] }]);
      expect(await fx.port.readLists(V4)).toEqual([
        { name: n4.name(1), shard: 1, addresses: ['203.0.113.1', '203.0.113.2'], member: true },
        { name: n4.name(2), shard: 2, addresses: ['198.51.100.7'], member: true },
      ]);
      expect(await fx.port.readLists(V6)).toEqual([
        { name: n6.name(1), shard: 1, addresses: ['2001:db8::1', '2001:db8:1::7'], member: true },
      ]);
      expect(fx.blockedNow(V6.name)).toEqual(['2001:db8:1::7', '2001:db8::1']);
      // An IPList holds single addresses only (networks stay per-address Network hosts).
      const net = await rejection(fx.port.writeLists(V4, [{ op: 'create', name: n4.name(3), addresses: ['192.0.2.0/24'] }]));
      expect(net).toBeInstanceOf(XgValidationError);

      // An update is the whole new content: what it does not name is gone.
      await fx.port.writeLists(V4, [{ op: 'update', name: n4.name(1), addresses: ['203.0.113.3'] }]);
      expect(fx.blockedNow(V4.name)).toEqual(['198.51.100.7', '203.0.113.3']);
      await fx.port.writeLists(V4, [
        { op: 'leave', name: n4.name(2), addresses: ['198.51.100.7'] },
        { op: 'delete', name: n4.name(2) },
      ]);
      expect(await fx.port.readLists(V4)).toEqual([{ name: n4.name(1), shard: 1, addresses: ['203.0.113.3'], member: true }]);
      await fx.port.writeLists(V4, [{ op: 'leave', name: n4.name(1), addresses: ['203.0.113.3'] }]);
      expect((await fx.port.readLists(V4))[0]?.member).toBe(false);
      expect(fx.blockedNow(V4.name)).toEqual([]);
      // Lists are ours, not foreign members; per-address state is not mixed with them.
      expect(await fx.port.readGroup(V6)).toEqual({ exists: true, owned: new Set(), foreign: 0 });
      expect(await fx.port.listOwnedHosts()).toEqual([]);
    });

    it('enforces the cap of 1000 addresses and reports the step that failed', async () => {
      const fx = fixture();
      await fx.port.ensureGroup(V4);
      await fx.port.writeLists(V4, [{ op: 'create', name: n4.name(1), addresses: ips(0, 1000) }]);
      const err = await rejection(fx.port.writeLists(V4, [{ op: 'update', name: n4.name(1), addresses: ips(0, 1001) }]));
      expect(err).toBeInstanceOf(XgValidationError);
      expect((err as XgValidationError).xgStatus).toBe(501);
      expect((err as Error).message).toContain(n4.name(1));
      // A refused update leaves the list as it was.
      expect((await fx.port.readLists(V4))[0]?.addresses).toHaveLength(1000);
      const err2 = await rejection(fx.port.writeLists(V4, [{ op: 'create', name: n4.name(2), addresses: [] }]));
      expect(err2).toBeInstanceOf(XgValidationError);
    });

    it('refuses a list whose content equals another (503) and names of lists it does not own, writing nothing of those', async () => {
      const fx = fixture();
      await fx.port.ensureGroup(V4);
      await fx.port.writeLists(V4, [
        { op: 'create', name: n4.name(1), addresses: ['203.0.113.1', '203.0.113.2'] },
        { op: 'create', name: n4.name(2), addresses: ['203.0.113.3'] },
      ]);
      const err = await rejection(fx.port.writeLists(V4, [{ op: 'update', name: n4.name(2), addresses: ['203.0.113.2', '203.0.113.1'] }]));
      expect(err).toBeInstanceOf(XgConflictError);
      expect((err as XgConflictError).xgStatus).toBe(503);
      for (const name of ['admin_list', listNamer('f2b_', OTHER.name).name(1), listNamer('other_f2b_', V4.name).name(1)]) {
        const steps: ListWrite[] = [
          { op: 'update', name: n4.name(2), addresses: ['203.0.113.9'] },
          { op: 'delete', name },
        ];
        const e = await rejection(fx.port.writeLists(V4, steps));
        expect((e as XgValidationError).code).toBe('XG_NOT_OWNED');
      }
      expect(fx.blockedNow(V4.name)).toEqual(['203.0.113.1', '203.0.113.2', '203.0.113.3']);
    });

    it("sees a hand edit inside an owned list, and never returns nor touches other people's lists and hosts", async () => {
      const fx = fixture();
      await fx.port.ensureGroup(V4);
      await fx.port.ensureGroup(OTHER);
      await fx.otherPort.ensureGroup(V4);
      await fx.port.writeLists(V4, [{ op: 'create', name: n4.name(1), addresses: ['203.0.113.1', '203.0.113.2'] }]);
      await fx.port.writeLists(OTHER, [{ op: 'create', name: listNamer('f2b_', OTHER.name).name(1), addresses: ['192.0.2.1'] }]);
      await fx.otherPort.writeLists(V4, [{ op: 'create', name: listNamer('other_f2b_', V4.name).name(1), addresses: ['192.0.2.2'] }]);
      await fx.seedList({ name: 'admin_list', entries: ['192.0.2.3'], family: 'IPv4', groups: [V4.name] });
      await fx.seedForeign({ name: 'admin_server', address: '192.0.2.50', groups: [V4.name] });
      // The admin edits our list by hand (whole rewrite, as the XG only allows): one address swapped, spelling kept.
      await fx.seedList({ name: n4.name(1), entries: ['203.0.113.1', '192.0.2.99'], family: 'IPv4', groups: [V4.name] });

      expect(await fx.port.readLists(V4)).toEqual([{ name: n4.name(1), shard: 1, addresses: ['203.0.113.1', '192.0.2.99'], member: true }]);
      await fx.port.writeLists(V4, [{ op: 'update', name: n4.name(1), addresses: ['203.0.113.1', '203.0.113.2'] }]);
      await fx.port.writeLists(V4, [
        { op: 'leave', name: n4.name(1), addresses: ['203.0.113.1', '203.0.113.2'] },
        { op: 'delete', name: n4.name(1) },
      ]);
      expect(await fx.port.readLists(V4)).toEqual([]);
      expect(fx.blockedNow(V4.name)).toEqual(['192.0.2.2', '192.0.2.3', '192.0.2.50']);
      expect(fx.blockedNow(OTHER.name)).toEqual(['192.0.2.1']);
      expect((await fx.otherPort.readLists(V4)).map((l) => l.addresses)).toEqual([['192.0.2.2']]);
      expect(await fx.port.readGroup(V4)).toMatchObject({ owned: new Set(), foreign: 3 });
    });

    it('returns a list over the cap or malformed as it stands, and rewrites it when told', async () => {
      const fx = fixture();
      await fx.port.ensureGroup(V4);
      await fx.seedList({ name: n4.name(1), entries: ips(0, 1200), family: 'IPv4', groups: [V4.name] });
      await fx.seedList({ name: n4.name(2), entries: ['203.0.113.1', '203.0.113.1', '203.0.113.2'], family: 'IPv4' });
      const [big, dup] = await fx.port.readLists(V4);
      expect(big?.addresses).toHaveLength(1200);
      expect(dup).toEqual({ name: n4.name(2), shard: 2, addresses: ['203.0.113.1', '203.0.113.1', '203.0.113.2'], member: false });
      await fx.port.writeLists(V4, [
        { op: 'update', name: n4.name(2), addresses: [...ips(1000, 200), '203.0.113.1'] },
        { op: 'update', name: n4.name(1), addresses: ips(0, 1000) },
      ]);
      const after = await fx.port.readLists(V4);
      expect(after.map((l) => [l.addresses.length, l.member])).toEqual([
        [1000, true],
        [201, true],
      ]);
      expect(fx.blockedNow(V4.name)).toHaveLength(1201);
    });

    it('migrates hosts → lists and back with the port alone, never unblocking a desired address between writes', async () => {
      const fx = fixture();
      await fx.port.ensureGroup(V4);
      const desired = ips(0, 120);
      await fx.port.addToGroup(V4, desired);
      const missing: string[] = [];
      fx.onWrite(() => {
        const now = new Set(fx.blockedNow(V4.name));
        for (const a of desired) if (!now.has(a)) missing.push(a);
      });
      // hosts → lists: the lists first, in the group, then the per-address hosts go.
      await fx.port.writeLists(V4, [
        { op: 'create', name: n4.name(1), addresses: desired.slice(0, 100) },
        { op: 'create', name: n4.name(2), addresses: desired.slice(100) },
      ]);
      expect((await fx.port.readGroup(V4)).owned.size).toBe(120);
      await fx.port.removeFromGroup(V4, desired);
      expect(await fx.port.listOwnedHosts()).toEqual([]);
      expect(fx.blockedNow(V4.name)).toEqual([...desired].sort());
      // lists → hosts: per-address hosts first, then the lists leave and go.
      await fx.port.addToGroup(V4, desired);
      await fx.port.writeLists(V4, [
        { op: 'leave', name: n4.name(1), addresses: desired.slice(0, 100) },
        { op: 'leave', name: n4.name(2), addresses: desired.slice(100) },
        { op: 'delete', name: n4.name(1) },
        { op: 'delete', name: n4.name(2) },
      ]);
      expect(await fx.port.readLists(V4)).toEqual([]);
      expect((await fx.port.readGroup(V4)).owned.size).toBe(120);
      expect(missing).toEqual([]);
    });

    it('a move between lists is never unblocked, even when the list that gains it is refused', async () => {
      const fx = fixture();
      await fx.port.ensureGroup(V4);
      await fx.port.writeLists(V4, [
        { op: 'create', name: n4.name(1), addresses: ['203.0.113.1', '203.0.113.2'] },
        { op: 'create', name: n4.name(2), addresses: ['203.0.113.3'] },
        { op: 'create', name: n4.name(3), addresses: ['203.0.113.4', '203.0.113.5'] },
      ]);
      // Move 203.0.113.3 into list 1, which the firewall refuses (over the cap), then empty list 2.
      const steps: ListWrite[] = [
        { op: 'update', name: n4.name(1), addresses: ['203.0.113.1', '203.0.113.2', '203.0.113.3', ...ips(0, 998)] },
        { op: 'leave', name: n4.name(2), addresses: ['203.0.113.3'] },
        { op: 'delete', name: n4.name(2) },
      ];
      const err = await rejection(fx.port.writeLists(V4, steps));
      expect((err as XgValidationError).xgStatus).toBe(501);
      expect(fx.blockedNow(V4.name)).toContain('203.0.113.3');
      expect((await fx.port.readLists(V4)).map((l) => l.name)).toContain(n4.name(2));
    });
  });
}
