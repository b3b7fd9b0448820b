import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { RequestInfo } from '../../src/xg/client.js';
import { DryRunPort } from '../../src/xg/dry-run.js';
import {
  XgAccessError,
  XgAuthError,
  XgConflictError,
  XgError,
  XgNotFoundError,
  XgRequestError,
  XgTimeoutError,
  XgTransportError,
  XgValidationError,
} from '../../src/xg/errors.js';
import type { GroupRef } from '../../src/xg/port.js';
import { checkEnvelope, parseResponse, xmlEscape } from '../../src/xg/xml.js';
import { runPortContract } from './contract.js';
import { emulatorAvailable, startFirewall, type EmulatorOptions, type FirewallFixture } from './emulator-fixture.js';
import { captureLog } from './helpers.js';

// src/emulator is written in parallel; until it exists these suites are reported as skipped.
if (emulatorAvailable) runPortContract('XML API client against the HTTPS emulator', () => startFirewall());

const G: GroupRef = { name: 'f2b_blockings', family: 'IPv4' };

function v4(n: number): string {
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

async function rejection(p: Promise<unknown>): Promise<XgError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof XgError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe.skipIf(!emulatorAvailable)('XgClient against the emulator', () => {
  let fx: FirewallFixture | undefined;
  const start = async (opts?: EmulatorOptions): Promise<FirewallFixture> => {
    fx = await startFirewall(opts);
    return fx;
  };
  afterEach(async () => {
    await fx?.teardown();
    fx = undefined;
  });

  describe('batching and size', () => {
    it('sends 120 new addresses as one read and three Sets of at most 50', async () => {
      const f = await start();
      const seen: RequestInfo[] = [];
      const c = f.client({ batchSize: 50, onRequest: (i) => seen.push(i) });
      await c.ensureGroup(G);
      seen.length = 0;
      const before = f.em.stats.requests;
      const addresses = Array.from({ length: 120 }, (_, i) => v4(i + 1));
      await c.addToGroup(G, addresses);
      expect(f.em.stats.requests - before).toBe(4);
      expect(seen.map((s) => [s.op, s.entities, s.outcome])).toEqual([
        ['get', 1, 'ok'],
        ['add', 50, 'ok'],
        ['add', 50, 'ok'],
        ['add', 20, 'ok'],
      ]);
      expect((await c.readGroup(G)).owned.size).toBe(120);
      // A no-op is reads only.
      const mid = f.em.stats.requests;
      await c.addToGroup(G, addresses);
      expect(f.em.stats.requests - mid).toBe(1);
      // Remove: updates (3 batches) then Removes (3 batches), after one read.
      seen.length = 0;
      await c.removeFromGroup(G, addresses);
      expect(seen.map((s) => s.op)).toEqual(['get', 'update', 'update', 'update', 'remove', 'remove', 'remove']);
      expect(await c.listOwnedHosts()).toEqual([]);
    });

    it('handles a group with 3,000 members', async () => {
      const f = await start();
      const c = f.client({ batchSize: 250 });
      await c.ensureGroup(G);
      await f.seedForeign({ name: 'admin_server', address: '192.0.2.50', groups: [G.name] });
      const addresses = Array.from({ length: 3000 }, (_, i) => v4(i + 1));
      await c.addToGroup(G, addresses);
      const s = await c.readGroup(G);
      expect(s.owned.size).toBe(3000);
      expect(s.foreign).toBe(1);
      await c.removeFromGroup(G, addresses.slice(0, 2999));
      expect([...(await c.readGroup(G)).owned]).toEqual([v4(3000)]);
      expect(await f.members(G.name)).toEqual(['10.0.11.184', '192.0.2.50']);
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
    });

    it('532 API disabled and 534 source not allowed: XgAccessError', async () => {
      let f = await start({ apiEnabled: false });
      let err = await rejection(f.port.checkLogin());
      expect(err).toBeInstanceOf(XgAccessError);
      expect(err.xgStatus).toBe(532);
      await f.teardown();
      f = await start({ allowList: ['192.0.2.1'] });
      err = await rejection(f.port.readGroup(G));
      expect(err).toBeInstanceOf(XgAccessError);
      expect(err.xgStatus).toBe(534);
      expect(err.retryable).toBe(false);
    });

    it('529 for an unreadable request: XgRequestError', async () => {
      const f = await start();
      const body = await f.raw('<Request><Login><Username>admin</Username><Password>a&b</Password></Login>');
      const err = (() => {
        try {
          checkEnvelope(parseResponse(body));
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(XgRequestError);
      expect((err as XgRequestError).xgStatus).toBe(529);
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
    });

    it('adding to a missing group is reported as such', async () => {
      const f = await start();
      const err = await rejection(f.port.addToGroup(G, ['203.0.113.7']));
      expect(err).toBeInstanceOf(XgNotFoundError);
      expect(err.code).toBe('XG_GROUP_MISSING');
      expect(await f.hostNames()).toEqual([]);
    });

    it('a timed-out write that was applied converges on the next attempt', async () => {
      const f = await start();
      await f.port.ensureGroup(G);
      f.em.faults.resetAfterCommitRate = 1;
      const err = await rejection(f.port.addToGroup(G, ['203.0.113.7']));
      expect(err).toBeInstanceOf(XgTransportError);
      expect(err.retryable).toBe(true);
      f.em.faults.resetAfterCommitRate = 0;
      await f.port.addToGroup(G, ['203.0.113.7']);
      expect(await f.members(G.name)).toEqual(['203.0.113.7']);
    });

    it('a hanging firewall gives XgTimeoutError (retryable)', async () => {
      const f = await start();
      f.em.faults.hangMs = 5_000;
      const c = f.client({ requestTimeoutMs: 300 });
      const err = await rejection(c.readGroup(G));
      expect(err).toBeInstanceOf(XgTimeoutError);
      expect(err.retryable).toBe(true);
    });

    it('connection resets and HTTP 5xx are retryable transport errors', async () => {
      const f = await start();
      f.em.faults.resetRate = 1;
      let err = await rejection(f.port.readGroup(G));
      expect(err).toBeInstanceOf(XgTransportError);
      expect(err.retryable).toBe(true);
      f.em.faults.resetRate = 0;
      f.em.faults.http5xxRate = 1;
      err = await rejection(f.port.readGroup(G));
      expect(err).toBeInstanceOf(XgTransportError);
      expect(err.code).toBe('XG_HTTP_STATUS');
      expect(err.retryable).toBe(true);
      f.em.faults.http5xxRate = 0;
      await expect(f.port.readGroup(G)).resolves.toMatchObject({ exists: false });
    });

    it('a firewall that is down gives a retryable transport error', async () => {
      const f = await start();
      f.em.faults.down = true;
      const err = await rejection(f.port.checkLogin());
      expect(err).toBeInstanceOf(XgTransportError);
      expect(err.retryable).toBe(true);
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

  describe('firmware variants', () => {
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

    for (const text of ['No. of records Zero.', 'Number of records Zero.']) {
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
        expect((err.cause as XgError).xgStatus).toBe(code);
        expect(await f.members(G.name)).toEqual(['203.0.113.7']);
      });
    }
  });

  describe('secrets', () => {
    it('the password appears in no error, log line or dry-run output', async () => {
      const password = 'S3cr&t<pw>';
      const f = await start({ users: { admin: 'admin', api: password } });
      const log = captureLog();
      const printed: string[] = [];
      const collected: string[] = [];
      const keep = (e: unknown): void => {
        if (e instanceof Error) collected.push(String(e), e.message, e.stack ?? '', JSON.stringify(e), inspect(e));
      };
      const good = f.client({ username: 'api', password, log });
      const bad = f.client({ username: 'api', password: `${password}x`, log });
      const dry = new DryRunPort(good, { print: (l) => printed.push(l), hostPrefix: 'f2b_' });
      await good.checkLogin();
      await dry.ensureGroup(G);
      await good.ensureGroup(G);
      await dry.addToGroup(G, ['203.0.113.7']);
      await good.addToGroup(G, ['203.0.113.7']);
      await bad.checkLogin().catch(keep);
      await good.addToGroup(G, ['2001:db8::1']).catch(keep);
      f.em.faults.http5xxRate = 1;
      await good.readGroup(G).catch(keep);
      f.em.faults.http5xxRate = 0;
      await good.removeFromGroup(G, ['203.0.113.7']);
      expect(collected.length).toBeGreaterThan(0);
      expect(printed.length).toBeGreaterThan(0);
      expect(log.lines.filter((l) => l.level === 'debug').length).toBeGreaterThan(0);
      const haystack = [...collected, ...printed, ...log.lines.map((l) => l.msg)].join('\n');
      for (const form of [password, xmlEscape(password), encodeURIComponent(password), new URLSearchParams({ p: password }).toString().slice(2)]) {
        expect(haystack).not.toContain(form);
      }
      expect(haystack).toContain('<Password>********</Password>');
    });
  });
});
