/**
 * XgClient over real HTTPS against the XG emulator: the port contract (shared with the in-memory
 * fake), batching counted by the emulator, every error class, races that make "already exists"
 * a success, objects the sidecar does not own, and the firmware variants of reference §11.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  XgAccessError,
  XgAuthError,
  XgConflictError,
  XgNotFoundError,
  XgReferencedError,
  XgRequestError,
  XgTimeoutError,
  XgTransportError,
  XgValidationError,
  errorForStatus,
} from '../../src/xg/errors.js';
import { hostName } from '../../src/xg/naming.js';
import type { GroupRef } from '../../src/xg/port.js';
import { buildDispatcher } from '../../src/xg/tls.js';
import { buildRequest, removeXml } from '../../src/xg/request-xml.js';
import { checkEnvelope, parseResponse } from '../../src/xg/xml.js';
import { runPortContract } from './contract.js';
import { ADMIN, emulatorPerTest, startFirewall } from './emulator-fixture.js';
import { captureLog, observeRequests, rejection, type SentRequest } from './helpers.js';

runPortContract('XML API client against the HTTPS emulator', () => startFirewall());

const G: GroupRef = { name: 'f2b_blockings', family: 'IPv4' };
const G6: GroupRef = { name: 'f2b_blockings6', family: 'IPv6' };

function v4(n: number): string {
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

const start = emulatorPerTest();

describe('batching, counted by the emulator', () => {
  // N new addresses at batch size B: ceil(N/B) Set requests, no read (creates are optimistic).
  // Again: the same creates, all refused as existing (502), then one read and nothing to update.
  // Removal: one read, ceil(N/B) updates (leave the group), ceil(N/B) Removes.
  it.each([
    [1, 50],
    [50, 50],
    [51, 50],
    [7, 1],
    [120, 50],
    [250, 100],
  ])('%i addresses at batch size %i', async (n, b) => {
    const f = await start();
    const c = f.client({ batchSize: b });
    await c.ensureGroup(G);
    const addresses = Array.from({ length: n }, (_, i) => v4(i + 1));
    const batches = Math.ceil(n / b);

    let before = { ...f.em.stats };
    await c.addToGroup(G, addresses);
    expect(f.em.stats.requests - before.requests).toBe(batches);
    expect(f.em.stats.writes - before.writes).toBe(batches);
    expect(f.em.model.groupMembers(G.name)).toHaveLength(n);

    before = { ...f.em.stats };
    const dump = JSON.stringify(f.em.dump());
    await c.addToGroup(G, addresses);
    expect(f.em.stats.requests - before.requests).toBe(batches + 1);
    expect(JSON.stringify(f.em.dump())).toBe(dump);

    before = { ...f.em.stats };
    await c.removeFromGroup(G, addresses);
    expect(f.em.stats.requests - before.requests).toBe(1 + 2 * batches);
    expect(f.em.stats.writes - before.writes).toBe(2 * batches);
    expect(f.em.model.hostCount).toBe(0);
    expect(f.em.model.groupByName(G.name)).toMatchObject({ members: [] });
  });

  it('joining a second group: the creates are refused as existing, then one read and ceil(N/B) host updates', async () => {
    const f = await start();
    const seen: SentRequest[] = [];
    const c = f.client({ batchSize: 50, dispatcher: observeRequests(f.dispatcher, (r) => seen.push(r)) });
    const other: GroupRef = { name: 'f2b_other', family: 'IPv4' };
    await c.ensureGroup(G);
    await c.ensureGroup(other);
    const addresses = Array.from({ length: 120 }, (_, i) => v4(i + 1));
    await c.addToGroup(G, addresses);
    seen.length = 0;
    await c.addToGroup(other, addresses);
    expect(seen.map((s) => [s.op, s.entities])).toEqual([
      ['add', 50],
      ['add', 50],
      ['add', 20],
      ['get', 120], // one Get, one name query per host: its own hosts, not every owned one
      ['update', 50],
      ['update', 50],
      ['update', 20],
    ]);
    expect(f.em.model.hostCount).toBe(120);
    expect(f.em.model.hostByName(hostName('f2b_', v4(1)))?.groups.sort()).toEqual([G.name, other.name]);
  });

  it('handles a group with 3,000 members', async () => {
    const f = await start();
    const c = f.client({ batchSize: 250 });
    await c.ensureGroup(G);
    await f.seedForeign({ name: 'admin_server', address: '192.0.2.50', groups: [G.name] });
    const addresses = Array.from({ length: 3000 }, (_, i) => v4(i + 1));
    const before = f.em.stats.requests;
    await c.addToGroup(G, addresses);
    expect(f.em.stats.requests - before).toBe(12);
    const s = await c.readGroup(G);
    expect(s.owned.size).toBe(3000);
    expect(s.foreign).toBe(1);
    await c.removeFromGroup(G, addresses.slice(0, 2999));
    expect([...(await c.readGroup(G)).owned]).toEqual([v4(3000)]);
    expect(await f.members(G.name)).toEqual(['10.0.11.184', '192.0.2.50']);
  });
});

describe('port operations beyond the contract', () => {
  it('IPv6 goes to its own group; an IPv6 address never reaches an IPv4 group (no request sent)', async () => {
    const f = await start();
    await f.port.ensureGroup(G);
    await f.port.ensureGroup(G6);
    await f.port.addToGroup(G6, ['2001:db8::1', '2001:db8:1::/48']);
    expect(f.em.model.groupByName(G6.name)?.family).toBe('IPv6');
    const h = f.em.model.hostByName(hostName('f2b_', '2001:db8:1::/48'));
    expect(h).toMatchObject({ family: 'IPv6', hostType: 'Network', ipAddress: '2001:db8:1::', subnet: '48', groups: [G6.name] });
    const before = f.em.stats.requests;
    const err = await rejection(f.port.addToGroup(G, ['2001:db8::2']));
    expect(err).toBeInstanceOf(XgValidationError);
    expect(err.code).toBe('XG_FAMILY_MISMATCH');
    expect(f.em.stats.requests).toBe(before);
  });

  it('close waits for the operation in progress, then refuses new ones', async () => {
    const f = await start();
    const c = f.client();
    await c.ensureGroup(G);
    const adding = c.addToGroup(G, ['203.0.113.7']);
    await c.close();
    await adding;
    expect(f.em.model.groupMembers(G.name)).toEqual([hostName('f2b_', '203.0.113.7')]);
    const err = await rejection(c.readGroup(G));
    expect(err.code).toBe('XG_CLOSED');
    expect(err.retryable).toBe(false);
  });
});

describe('error classes', () => {
  it('Authentication Failure: XgAuthError, not retryable, one request only', async () => {
    const f = await start();
    const c = f.client({ password: 'wrong' });
    const before = f.em.stats.requests;
    const err = await rejection(c.addToGroup(G, ['203.0.113.7']));
    expect(err).toBeInstanceOf(XgAuthError);
    expect(err.retryable).toBe(false);
    expect(f.em.stats.requests - before).toBe(1);
    expect(f.em.stats.authFailures).toBe(1);
  });

  it('532 API disabled and 534 source not allowed: XgAccessError with what the admin must do', async () => {
    let f = await start({ apiEnabled: false });
    let err = await rejection(f.port.checkLogin());
    expect(err).toBeInstanceOf(XgAccessError);
    expect(err.xgStatus).toBe(532);
    expect(err.message).toMatch(/enable the API/);
    f = await start({ allowList: ['192.0.2.1'] });
    err = await rejection(f.port.readGroup(G));
    expect(err).toBeInstanceOf(XgAccessError);
    expect(err.xgStatus).toBe(534);
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/allow-list/);
  });

  it('529 for an unreadable request: XgRequestError', async () => {
    const f = await start();
    const body = await f.raw('<Request><Login><Username>admin</Username><Password>a&b</Password></Login>');
    let err: unknown;
    try {
      checkEnvelope(parseResponse(body));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(XgRequestError);
    expect((err as XgRequestError).xgStatus).toBe(529);
  });

  it('a password full of XML and URL metacharacters is escaped, never a 529', async () => {
    const password = `a&b<c>"d'e %26 + =&amp;`;
    const f = await start({ users: { api: password } });
    await expect(f.client({ username: 'api', password }).checkLogin()).resolves.toBeUndefined();
  });

  it('501 for a value the firewall refuses: XgValidationError naming the object', async () => {
    const f = await start();
    // A prefix this long forces a host name over the firmware's 60-character limit.
    const c = f.client({ hostPrefix: `f2b_${'x'.repeat(56)}_` });
    await c.ensureGroup(G);
    const err = await rejection(c.addToGroup(G, ['203.0.113.7']));
    expect(err).toBeInstanceOf(XgValidationError);
    expect(err.xgStatus).toBe(501);
    expect(err.message).toContain('add IPHost');
    expect(f.em.model.hostCount).toBe(0);
  });

  it('adding to a missing group is reported as such', async () => {
    const f = await start();
    const err = await rejection(f.port.addToGroup(G, ['203.0.113.7']));
    expect(err).toBeInstanceOf(XgNotFoundError);
    expect(err.code).toBe('XG_GROUP_MISSING');
    expect(await f.hostNames()).toEqual([]);
  });

  it('502 on a group created meanwhile is success; the group is not rewritten', async () => {
    const f = await start();
    const seen: string[] = [];
    const c = f.client({
      dispatcher: observeRequests(f.dispatcher, (r) => {
        seen.push(r.op);
        // Between our Get and our Set another sidecar creates the group.
        if (seen.length === 2) f.em.model.seedGroup({ name: G.name, family: 'IPv4', description: 'made by someone else' });
      }),
    });
    await c.ensureGroup(G);
    expect(seen).toEqual(['get', 'add', 'get']);
    expect(f.em.model.groupByName(G.name)?.description).toBe('made by someone else');
  });

  it('502 on a host that exists already (our own timed-out write) is success: it joins the group', async () => {
    const f = await start();
    await f.port.ensureGroup(G);
    const name = hostName('f2b_', '203.0.113.7');
    // Created by an earlier write whose answer was lost, not yet in the group.
    f.em.model.seedHost({ name, family: 'IPv4', hostType: 'IP', ipAddress: '203.0.113.7' });
    const seen: string[] = [];
    const c = f.client({ dispatcher: observeRequests(f.dispatcher, (r) => seen.push(r.op)) });
    await c.addToGroup(G, ['203.0.113.7']);
    expect(seen).toEqual(['add', 'get', 'update']);
    expect(f.em.model.groupMembers(G.name)).toEqual([name]);
    expect(f.em.model.hostCount).toBe(1);
  });

  it('a write applied before the connection dropped converges on the next attempt', async () => {
    const f = await start();
    await f.port.ensureGroup(G);
    f.em.faults.resetAfterCommitRate = 1;
    const err = await rejection(f.port.addToGroup(G, ['203.0.113.7']));
    expect(err).toBeInstanceOf(XgTransportError);
    expect(err.retryable).toBe(true);
    expect(f.em.model.groupMembers(G.name)).toEqual([hostName('f2b_', '203.0.113.7')]);
    f.em.faults.resetAfterCommitRate = 0;
    await f.port.addToGroup(G, ['203.0.113.7']);
    expect(await f.members(G.name)).toEqual(['203.0.113.7']);
  });

  it('a host still used by a firewall rule leaves the group; its Remove is refused (XgReferencedError) and tolerated', async () => {
    const f = await start();
    const log = captureLog();
    const c = f.client({ log });
    await c.ensureGroup(G);
    await c.addToGroup(G, ['203.0.113.7']);
    const name = hostName('f2b_', '203.0.113.7');
    f.em.model.referenceHost(name);
    // What the firewall answers a direct Remove, and the class it maps to.
    const [answer] = parseResponse(
      await f.raw(buildRequest({ ...ADMIN, operations: [{ kind: 'remove', entities: [removeXml('IPHost', name)] }] })),
    ).entities;
    expect(answer?.status?.code).toBe(510);
    expect(errorForStatus(answer?.status?.code, answer?.status?.text)).toBeInstanceOf(XgReferencedError);
    await c.removeFromGroup(G, ['203.0.113.7']);
    expect(f.em.model.groupMembers(G.name)).toEqual([]);
    expect(f.em.model.hostByName(name)).toBeDefined();
    expect(log.lines.some((l) => l.level === 'warn' && l.msg.includes(name))).toBe(true);
  });

  it('a hanging firewall: XgTimeoutError on the whole request (retryable)', async () => {
    const f = await start();
    f.em.faults.hangMs = 60_000;
    const c = f.client({ requestTimeoutMs: 300 });
    const err = await rejection(c.readGroup(G));
    expect(err).toBeInstanceOf(XgTimeoutError);
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/within 300 ms/);
  });

  it('a TLS handshake that never completes: XgTimeoutError on connect (retryable)', async () => {
    // Accepts TCP and says nothing: what a firewall whose admin service hangs looks like.
    const held = new Set<Socket>();
    const server: Server = createServer((s) => held.add(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const f = await start();
    const dispatcher = buildDispatcher({ fingerprint256: f.em.fingerprint256, connectTimeoutMs: 200 });
    const c = f.client({ url: `https://127.0.0.1:${port}`, dispatcher, requestTimeoutMs: 5_000 });
    try {
      const err = await rejection(c.checkLogin());
      expect(err).toBeInstanceOf(XgTimeoutError);
      expect(err.retryable).toBe(true);
      expect((err.cause as { code?: string }).code).toBe('UND_ERR_CONNECT_TIMEOUT');
    } finally {
      await c.close();
      await dispatcher.destroy();
      for (const s of held) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it('connection resets and HTTP 5xx are retryable transport errors', async () => {
    const f = await start();
    f.em.faults.resetRate = 1;
    let err = await rejection(f.port.readGroup(G));
    expect(err).toBeInstanceOf(XgTransportError);
    expect(err.retryable).toBe(true);
    f.em.faults.resetRate = 0;
    for (const status of [502, 503] as const) {
      f.em.faults.http5xxRate = 1;
      f.em.faults.http5xxStatus = status;
      err = await rejection(f.port.readGroup(G));
      expect(err).toBeInstanceOf(XgTransportError);
      expect(err.code).toBe('XG_HTTP_STATUS');
      expect(err.message).toContain(`HTTP ${status}`);
      expect(err.retryable).toBe(true);
    }
    f.em.faults.http5xxRate = 0;
    await expect(f.port.readGroup(G)).resolves.toMatchObject({ exists: false });
  });

  it('a firewall that is down, or a closed port, gives a retryable transport error', async () => {
    const f = await start();
    f.em.faults.down = true;
    let err = await rejection(f.port.checkLogin());
    expect(err).toBeInstanceOf(XgTransportError);
    expect(err.retryable).toBe(true);
    const { port, fingerprint256 } = f.em;
    await f.teardown();
    const dispatcher = buildDispatcher({ fingerprint256 });
    try {
      err = await rejection(f.client({ url: `https://127.0.0.1:${port}`, dispatcher }).checkLogin());
      expect(err).toBeInstanceOf(XgTransportError);
      expect(err.retryable).toBe(true);
      expect(err.message).toMatch(/ECONNREFUSED/);
    } finally {
      await dispatcher.destroy();
    }
  });

  it('503: an admin host with the same address is reported and left untouched', async () => {
    const f = await start();
    await f.port.ensureGroup(G);
    await f.seedForeign({ name: 'admin_same', address: '203.0.113.7' });
    const err = await rejection(f.port.addToGroup(G, ['203.0.113.7']));
    expect(err).toBeInstanceOf(XgConflictError);
    expect(err.code).toBe('XG_FOREIGN_HOLDER');
    expect(err.xgStatus).toBe(503);
    expect(err.message).toMatch(/203\.0\.113\.7.*NOT blocked/);
    expect(await f.hostNames()).toEqual(['admin_same']);
  });
});

describe('objects without the host prefix', () => {
  it('survive a flush and every removal; a flush never deletes the group', async () => {
    const f = await start();
    const other = f.otherPort;
    // An admin's group, filled from the group side (HostList) and from the host side.
    await f.seedForeign({ name: 'web01', address: '192.0.2.10' });
    await f.admin([
      {
        kind: 'set',
        operation: 'add',
        entities: [{ IPHostGroup: { Name: G.name, Description: 'admin made this', HostList: { Host: 'web01' }, IPFamily: 'IPv4' } }],
      },
    ]);
    await f.seedGroup('admin_group', 'IPv4');
    await f.seedForeign({ name: 'F2B_198.51.100.5', address: '198.51.100.5', groups: [G.name] });
    await f.seedForeign({ name: 'xf2b_198.51.100.6', address: '198.51.100.6', groups: [G.name, 'admin_group'] });
    await other.addToGroup(G, ['198.51.100.7']);
    const foreign = () => {
      const d = f.em.dump();
      return {
        hosts: d.hosts.filter((h) => !h.name.startsWith('f2b_')),
        groups: d.groups.map((g) => ({ ...g, members: g.members.filter((m) => !m.startsWith('f2b_')) })),
      };
    };
    const before = foreign();

    await f.port.ensureGroup(G);
    await f.port.addToGroup(G, ['203.0.113.1', '203.0.113.2']);
    expect((await f.port.readGroup(G)).foreign).toBe(4);
    // Removal naming foreign addresses touches nothing of theirs.
    await f.port.removeFromGroup(G, ['192.0.2.10', '198.51.100.5', '198.51.100.6', '198.51.100.7', '203.0.113.1']);
    // Flush, as the seed command and the sidecar do it.
    const state = await f.port.readGroup(G);
    await f.port.removeFromGroup(G, [...state.owned]);

    expect(foreign()).toEqual(before);
    expect(f.em.model.groupByName(G.name)).toMatchObject({ description: 'admin made this' });
    expect(await f.members(G.name)).toEqual(['192.0.2.10', '198.51.100.5', '198.51.100.6', '198.51.100.7']);
    expect(await f.port.listOwnedHosts()).toEqual([]);
    // A flush of a group holding only foreign members is reads only.
    const writes = f.em.stats.writes;
    await f.port.removeFromGroup(G, [...(await f.port.readGroup(G)).owned]);
    expect(f.em.stats.writes).toBe(writes);
  });
});
