/**
 * The XG emulator over real HTTPS, plus what the tests need around it: pinned transports, clients
 * for two sidecars, and an "admin" who seeds foreign objects and inspects groups through the same
 * public XML API (no reach into the emulator's internals).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { request, type Agent } from 'undici';
import { addressFields, addressOfHost, familyOf } from '../../src/xg/address.js';
import { isSuccessStatus } from '../../src/xg/errors.js';
import { XgClient, type XgClientOptions } from '../../src/xg/client.js';
import { buildDispatcher } from '../../src/xg/tls.js';
import {
  buildRequest,
  checkEnvelope,
  decodeGroup,
  decodeHost,
  getXml,
  ipHostGroupXml,
  ipHostXml,
  parseResponse,
  type Operation,
  type XgResponse,
} from '../../src/xg/xml.js';
import type { AddressFamily } from '../../src/parser/types.js';
import type { PortFixture } from './contract.js';

/**
 * The emulator's API as specified to us (src/emulator is built in parallel). It is loaded
 * dynamically so this suite can exist before the module does; `emulatorAvailable` gates it.
 */
export interface EmulatorFaults {
  writeLatencyMs: number;
  http5xxRate: number;
  resetRate: number;
  resetAfterCommitRate: number;
  down: boolean;
  hangMs: number;
}

export interface EmulatorOptions {
  users?: Record<string, string>;
  allowList?: string[];
  apiEnabled?: boolean;
  quirks?: Record<string, unknown>;
  faults?: Partial<EmulatorFaults>;
}

export interface Emulator {
  url: string;
  certPem: string;
  fingerprint256: string;
  faults: EmulatorFaults;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- shape not yet published
  model: any;
  stats: { requests: number };
  dump(): unknown;
  close(): Promise<void>;
}

const EMULATOR_MODULE = new URL('../../src/emulator/index.ts', import.meta.url);
export const emulatorAvailable = existsSync(fileURLToPath(EMULATOR_MODULE));

async function startEmulator(opts?: EmulatorOptions): Promise<Emulator> {
  const spec = '../../src/emulator/index.js';
  const mod = (await import(spec)) as { startEmulator(o?: EmulatorOptions): Promise<Emulator> };
  return mod.startEmulator(opts);
}

export const ADMIN = { username: 'admin', password: 'admin' };

export interface FirewallFixture extends PortFixture {
  em: Emulator;
  dispatcher: Agent;
  client(opts?: Partial<XgClientOptions>): XgClient;
  /** Send operations as the admin; throws unless every entity status is a success. */
  admin(ops: Operation[]): Promise<XgResponse>;
  /** Send a raw reqxml document; returns the body. */
  raw(reqxml: string): Promise<string>;
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
  const hosts = async () => {
    const resp = await admin([{ kind: 'get', entities: [getXml('IPHost')] }]);
    return resp.entities.filter((e) => !e.status).flatMap((e) => decodeHost(e.fields) ?? []);
  };
  return {
    em,
    dispatcher,
    client,
    admin,
    raw,
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
      return g.members.map((m) => (byName.get(m) ? (addressOfHost(byName.get(m)!) ?? `?${m}`) : `?${m}`)).sort();
    },
    async hostNames() {
      return (await hosts())
        .filter((h) => h.hostType !== 'System Host')
        .map((h) => h.name)
        .sort();
    },
    async teardown() {
      for (const c of clients) await c.close();
      await dispatcher.close();
      await em.close();
    },
  };
}
