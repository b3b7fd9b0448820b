/**
 * The XG emulator (src/emulator) over real HTTPS, plus what the tests need around it: a pinned
 * transport, clients for two sidecars, and an "admin" who seeds foreign objects and inspects
 * groups through the same public XML API. The emulator's model is reached directly only to stage
 * what no API call can (a rule referencing a host, a change made between two requests).
 */
import { afterEach } from 'vitest';
import { request, type Agent } from 'undici';
import { startEmulator, type Emulator, type EmulatorModel, type EmulatorOptions } from '../../src/emulator/index.js';
import { addressFields, addressOfHost, familyOf } from '../../src/xg/address.js';
import { isSuccessStatus } from '../../src/xg/errors.js';
import { XgClient, type XgClientOptions } from '../../src/xg/client.js';
import { buildDispatcher } from '../../src/xg/tls.js';
import { blockedBy } from '../helpers/blocked.js';
import { buildRequest, getXml, ipHostGroupXml, ipHostXml, type Operation } from '../../src/xg/request-xml.js';
import { checkEnvelope, decodeGroup, decodeHost, parseResponse, type RawHost, type XgResponse } from '../../src/xg/xml.js';
import type { AddressFamily } from '../../src/core/address.js';
import type { PortFixture } from './contract.js';

export type { Emulator, EmulatorOptions };

export const ADMIN = { username: 'admin', password: 'admin' };

export interface FirewallFixture extends PortFixture {
  em: Emulator;
  dispatcher: Agent;
  /** A client of this emulator (prefix `f2b_` unless overridden); closed by teardown. */
  client(opts?: Partial<XgClientOptions>): XgClient;
  /** Send operations as the admin; throws unless every entity status is a success. */
  admin(ops: Operation[]): Promise<XgResponse>;
  /** Send a raw reqxml document; returns the body. */
  raw(reqxml: string): Promise<string>;
  /** Every non-system host as the API reads it back. */
  hosts(): Promise<RawHost[]>;
}

export async function startFirewall(opts?: EmulatorOptions): Promise<FirewallFixture> {
  const em = await startEmulator(opts);
  const dispatcher = buildDispatcher({ fingerprint256: em.fingerprint256 });
  const clients: XgClient[] = [];
  const client = (o: Partial<XgClientOptions> = {}): XgClient => {
    const c = new XgClient({ url: em.url, ...ADMIN, hostPrefix: 'f2b_', dispatcher, ...o });
    clients.push(c);
    return c;
  };
  const raw = async (reqxml: string): Promise<string> => {
    const res = await request(em.url, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ reqxml }).toString(),
    });
    return res.body.text();
  };
  const admin = async (operations: Operation[]): Promise<XgResponse> => {
    const resp = parseResponse(await raw(buildRequest({ ...ADMIN, apiVersion: '1905.1', operations })));
    checkEnvelope(resp);
    for (const e of resp.entities) {
      if (e.status && e.status.code !== undefined && !isSuccessStatus(e.status.code)) {
        throw new Error(`admin request failed: ${e.tag} ${e.status.code} ${e.status.text}`);
      }
    }
    return resp;
  };
  const hosts = async (): Promise<RawHost[]> => {
    const resp = await admin([{ kind: 'get', entities: [getXml('IPHost')] }]);
    return resp.entities
      .filter((e) => !e.status)
      .flatMap((e) => decodeHost(e.fields) ?? [])
      .filter((h) => h.hostType !== 'System Host');
  };
  let closed = false;
  return {
    em,
    dispatcher,
    client,
    admin,
    raw,
    hosts,
    port: client(),
    otherPort: client({ hostPrefix: 'other_f2b_' }),
    async seedGroup(name: string, family: AddressFamily) {
      await admin([{ kind: 'set', operation: 'add', entities: [ipHostGroupXml({ name, description: 'admin', family })] }]);
    },
    async seedForeign({ name, address, groups = [] }) {
      if (!familyOf(address)) throw new Error(`bad seed address ${address}`);
      await admin([{ kind: 'set', operation: 'add', entities: [ipHostXml({ name, ...addressFields(address), groups })] }]);
    },
    async members(group: string) {
      const resp = await admin([{ kind: 'get', entities: [getXml('IPHostGroup')] }]);
      const g = resp.entities.map((e) => decodeGroup(e.fields)).find((x) => x?.name === group);
      if (!g) return [];
      const byName = new Map((await hosts()).map((h) => [h.name, h]));
      return g.members
        .map((m) => {
          const h = byName.get(m);
          return (h && addressOfHost(h)) ?? `?${m}`;
        })
        .sort();
    },
    async hostNames() {
      return (await hosts()).map((h) => h.name).sort();
    },
    async seedList({ name, entries, family, groups = [] }) {
      const cap = em.model.quirks.maxIpListAddresses;
      em.model.quirks.maxIpListAddresses = Math.max(cap, entries.length);
      try {
        const operation = em.model.hostByName(name) ? 'update' : 'add';
        const node = ipHostXml({ name, family, hostType: 'IPList', listOfIps: entries.join(','), groups, description: 'admin' });
        await admin([{ kind: 'set', operation, entities: [node] }]);
      } finally {
        em.model.quirks.maxIpListAddresses = cap;
      }
    },
    blockedNow: (group) => blockedNow(em, group),
    onWrite(fn) {
      watchWrites(em, fn);
    },
    // Emulator first, so held requests are cut off; closing the pool would wait for them.
    async teardown() {
      if (closed) return;
      closed = true;
      await em.close();
      for (const c of clients) await c.close();
      await dispatcher.destroy().catch(() => undefined);
    },
  };
}

/** What a group blocks, from the emulator's model: IP/Network hosts' addresses and IPLists' entries. */
export function blockedNow(em: Emulator, group: string): string[] {
  return blockedBy(em.model, group);
}

/** Calls `fn` after every host or group the emulator writes (each entity of a request on its own). */
export function watchWrites(em: Emulator, fn: () => void): void {
  const model = em.model;
  for (const method of ['setHost', 'removeHost', 'setGroup', 'removeGroup'] as const) {
    const original = model[method].bind(model) as (...args: unknown[]) => ReturnType<EmulatorModel['setHost']>;
    (model as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      const r = original(...args);
      fn();
      return r;
    };
  }
}

/**
 * One emulator per test: `start(opts)` replaces the previous one, and it is torn down after each
 * test. Call at the top level of a test file.
 */
export function emulatorPerTest(): (opts?: EmulatorOptions) => Promise<FirewallFixture> {
  let fx: FirewallFixture | undefined;
  afterEach(async () => {
    await fx?.teardown();
    fx = undefined;
  });
  return async (opts) => {
    await fx?.teardown();
    fx = await startFirewall(opts);
    return fx;
  };
}
