/**
 * XgClient against the emulator under every reading of the points reference §11 leaves open
 * (src/emulator/quirks.ts): the client must work whichever one a real firmware turns out to have.
 */
import { describe, expect, it } from 'vitest';
import type { Quirks } from '../../src/emulator/index.js';
import { XgConflictError, XgError, XgNotFoundError } from '../../src/xg/errors.js';
import { hostName } from '../../src/xg/naming.js';
import type { GroupRef } from '../../src/xg/port.js';
import { emulatorPerTest, type FirewallFixture } from './emulator-fixture.js';
import { captureLog, observeRequests, rejection, type SentRequest } from './helpers.js';

const G: GroupRef = { name: 'f2b_blockings', family: 'IPv4' };
const G6: GroupRef = { name: 'f2b_blockings6', family: 'IPv6' };

const start = emulatorPerTest();

describe('firmware variants (reference §11, emulator quirks)', () => {
  /** One full life cycle: both families, a foreign member, long IPv6 names, flush. */
  async function lifeCycle(f: FirewallFixture, prefix = 'sidecar_f2b_'): Promise<void> {
    const c = f.client({ hostPrefix: prefix, batchSize: 3 });
    await c.checkLogin();
    await c.ensureGroup(G);
    await c.ensureGroup(G6);
    await c.ensureGroup(G);
    await f.seedForeign({ name: 'admin_server', address: '192.0.2.50', groups: [G.name] });
    const v4s = ['203.0.113.7', '203.0.113.8', '198.51.100.0/24', '203.0.113.9'];
    // 'sidecar_f2b_' + this address is 51 characters: the name falls back to a hash.
    const v6s = ['2001:db8:1234:5678:9abc:def0:1234:5678', '2001:db8::1', '2001:db8:1::/64'];
    await c.addToGroup(G, v4s);
    await c.addToGroup(G6, v6s);
    await c.addToGroup(G, v4s);
    expect([...(await c.readGroup(G)).owned].sort()).toEqual([...v4s].sort());
    expect(await c.readGroup(G6)).toEqual({ exists: true, owned: new Set(v6s), foreign: 0 });
    expect((await c.listOwnedHosts()).length).toBe(7);
    for (const h of f.em.dump().hosts) expect(h.name.length).toBeLessThanOrEqual(50);
    for (const g of [G, G6]) await c.removeFromGroup(g, [...(await c.readGroup(g)).owned]);
    expect(await c.listOwnedHosts()).toEqual([]);
    expect(await f.members(G.name)).toEqual(['192.0.2.50']);
    expect(await f.members(G6.name)).toEqual([]);
    expect(f.em.model.corrupted).toEqual([]);
  }

  const variants: Array<[string, Partial<Quirks>]> = [
    ['defaults', {}],
    ['§11.3 "Number of records Zero."', { zeroRecordsText: 'Number of records Zero.' }],
    ['§11.4 case-insensitive names', { caseSensitiveNames: false }],
    ['§11.4 names limited to 50', { maxNameLength: 50 }],
    ['§11.4 no colon in names', { colonInNames: false }],
    ['§11.6 Set without operation is add', { setWithoutOperation: 'add' }],
    ['§11.7 APIVersion required', { requireApiVersion: true }],
    ['§11.8 referenced host 504', { removeReferencedHostCode: 504 }],
    ['§11.9 remove of a missing host 526', { removeMissingHostCode: 526 }],
    ['§11.10 update with a missing member 501', { updateMissingMemberCode: 501 }],
    ['§11.13 junk before the XML', { leadingJunk: true }],
    [
      'every non-default reading at once',
      {
        zeroRecordsText: 'Number of records Zero.',
        caseSensitiveNames: false,
        maxNameLength: 50,
        colonInNames: false,
        setWithoutOperation: 'add',
        requireApiVersion: true,
        removeReferencedHostCode: 509,
        removeMissingHostCode: 526,
        updateMissingCode: 526,
        updateMissingMemberCode: 501,
        leadingJunk: true,
      },
    ],
  ];
  for (const [label, quirks] of variants) {
    it(`full life cycle under ${label}`, async () => {
      await lifeCycle(await start({ quirks }));
    });
  }

  for (const code of [504, 509, 510] as const) {
    it(`a host still referenced (Remove answers ${code}) is left in place with a warning`, async () => {
      const f = await start({ quirks: { removeReferencedHostCode: code } });
      const log = captureLog();
      const c = f.client({ log });
      await c.ensureGroup(G);
      await c.addToGroup(G, ['203.0.113.7']);
      f.em.model.referenceHost('f2b_203.0.113.7');
      await c.removeFromGroup(G, ['203.0.113.7']);
      expect((await c.readGroup(G)).owned.size).toBe(0);
      expect(await f.hostNames()).toEqual(['f2b_203.0.113.7']);
      expect(log.lines.some((l) => l.level === 'warn' && l.msg.includes('f2b_203.0.113.7') && l.msg.includes(String(code)))).toBe(true);
    });
  }

  for (const text of ['No. of records Zero.', 'Number of records Zero.'] as const) {
    it(`reads "${text}" as an empty result`, async () => {
      const f = await start({ quirks: { zeroRecordsText: text } });
      expect(await f.port.readGroup(G)).toEqual({ exists: false, owned: new Set(), foreign: 0 });
      expect(await f.port.listOwnedHosts()).toEqual([]);
    });
  }

  for (const code of [500, 501] as const) {
    it(`an update naming a missing group (answered ${code}) is reported as a missing group`, async () => {
      const f = await start({ quirks: { updateMissingMemberCode: code } });
      await f.port.ensureGroup(G);
      await f.port.addToGroup(G, ['203.0.113.7']);
      const err = await rejection(f.port.addToGroup({ name: 'nope', family: 'IPv4' }, ['203.0.113.7']));
      expect(err).toBeInstanceOf(XgNotFoundError);
      expect(err.code).toBe('XG_GROUP_MISSING');
      // The optimistic create names the missing group first: the emulator validates it (501)
      // before it finds the name taken; either answer must read as "group missing".
      expect([code, 501]).toContain((err.cause as XgError).xgStatus);
      expect(await f.members(G.name)).toEqual(['203.0.113.7']);
    });
  }

  for (const updateMissingCode of [500, 526] as const) {
    for (const removeMissingHostCode of [528, 526] as const) {
      it(`a host deleted meanwhile (update ${updateMissingCode}, remove ${removeMissingHostCode}) is no failure`, async () => {
        const f = await start({ quirks: { updateMissingCode, removeMissingHostCode } });
        const log = captureLog();
        await f.port.ensureGroup(G);
        await f.port.addToGroup(G, ['203.0.113.7']);
        const name = hostName('f2b_', '203.0.113.7');
        const seen: SentRequest[] = [];
        const c = f.client({
          log,
          dispatcher: observeRequests(f.dispatcher, (r) => {
            seen.push(r);
            if (seen.length !== 2) return;
            // Someone (our own earlier, timed-out attempt) took it out and deleted it after our read.
            f.em.model.setHost({ name, family: 'IPv4', hostType: 'IP', ipAddress: '203.0.113.7' }, 'update');
            expect(f.em.model.removeHost(name).code).toBe(200);
          }),
        });
        await c.removeFromGroup(G, ['203.0.113.7']);
        expect(seen.map((s) => s.op)).toEqual(['get', 'update', 'get', 'remove', 'get']);
        expect(f.em.model.hostByName(name)).toBeUndefined();
        expect(log.lines.filter((l) => l.level === 'warn')).toEqual([]);
      });
    }
  }

  for (const caseSensitiveNames of [true, false]) {
    it(`an admin host F2B_<address> is never claimed (case-sensitive names: ${caseSensitiveNames})`, async () => {
      const f = await start({ quirks: { caseSensitiveNames } });
      await f.port.ensureGroup(G);
      await f.seedForeign({ name: 'F2B_203.0.113.9', address: '203.0.113.9' });
      const err = await rejection(f.port.addToGroup(G, ['203.0.113.9']));
      expect(err).toBeInstanceOf(XgConflictError);
      // Same name when case is ignored (502, re-read: not ours); same address otherwise (503).
      expect(err.code).toBe(caseSensitiveNames ? 'XG_FOREIGN_HOLDER' : 'XG_NAME_EXISTS');
      expect(f.em.model.hostByName('F2B_203.0.113.9')).toMatchObject({ name: 'F2B_203.0.113.9', groups: [] });
      expect(await f.port.listOwnedHosts()).toEqual([]);
    });
  }
});
