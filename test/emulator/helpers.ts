/**
 * Talking to the emulator as an XML API client would: real HTTPS through a pinned undici Agent
 * (its certificate as the only CA), the three transports, and an independent response parser
 * (fast-xml-parser with standard entity decoding — not the emulator's own reader).
 */
import { XMLParser } from 'fast-xml-parser';
import { afterEach } from 'vitest';
import { Agent, FormData, request } from 'undici';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';

export const LOGIN = '<Login><Username>admin</Username><Password>admin</Password></Login>';

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function login(user: string, password: string, attrs = ''): string {
  return `<Login><Username>${esc(user)}</Username><Password${attrs}>${esc(password)}</Password></Login>`;
}

export function doc(inner: string, loginXml = LOGIN, version = '2000.2'): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Request APIVersion="${version}">${loginXml}${inner}</Request>`;
}

export interface HostSpec {
  name: string;
  ip?: string;
  family?: string;
  type?: string;
  subnet?: string;
  start?: string;
  end?: string;
  list?: string;
  groups?: string[];
  description?: string;
}

export function hostXml(h: HostSpec, tid?: string): string {
  const f = (tag: string, v: string | undefined) => (v === undefined ? '' : `<${tag}>${esc(v)}</${tag}>`);
  const groups = h.groups ? `<HostGroupList>${h.groups.map((g) => `<HostGroup>${esc(g)}</HostGroup>`).join('')}</HostGroupList>` : '';
  return (
    `<IPHost${tid === undefined ? '' : ` transactionid="${esc(tid)}"`}>${f('Name', h.name)}${f('IPFamily', h.family)}` +
    `${f('HostType', h.type ?? (h.ip !== undefined ? 'IP' : undefined))}${f('IPAddress', h.ip)}${f('Subnet', h.subnet)}` +
    `${f('StartIPAddress', h.start)}${f('EndIPAddress', h.end)}${f('ListOfIPAddresses', h.list)}${groups}${f('Description', h.description)}</IPHost>`
  );
}

export interface GroupSpec {
  name: string;
  family?: string;
  hosts?: string[];
  description?: string;
}

export function groupXml(g: GroupSpec): string {
  const f = (tag: string, v: string | undefined) => (v === undefined ? '' : `<${tag}>${esc(v)}</${tag}>`);
  const hosts = g.hosts ? `<HostList>${g.hosts.map((h) => `<Host>${esc(h)}</Host>`).join('')}</HostList>` : '';
  return `<IPHostGroup>${f('Name', g.name)}${f('Description', g.description)}${hosts}${f('IPFamily', g.family)}</IPHostGroup>`;
}

export const set = (op: 'add' | 'update' | undefined, ...entities: string[]) =>
  `<Set${op ? ` operation="${op}"` : ''}>${entities.join('')}</Set>`;
export const remove = (...entities: string[]) => `<Remove>${entities.join('')}</Remove>`;
export const removeName = (tag: 'IPHost' | 'IPHostGroup', name: string) => `<${tag}><Name>${esc(name)}</Name></${tag}>`;
export function get(tag: 'IPHost' | 'IPHostGroup', filter?: { key: string; criteria: string; value: string }): string {
  if (!filter) return `<Get><${tag}/></Get>`;
  return `<Get><${tag}><Filter><key name="${filter.key}" criteria="${esc(filter.criteria)}">${esc(filter.value)}</key></Filter></${tag}></Get>`;
}

// ---- response parsing ---------------------------------------------------------------------------

export interface Node {
  tag: string;
  attrs: Record<string, string>;
  children: Node[];
  text: string;
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  trimValues: true,
});

function toNode(raw: Record<string, unknown>): Node | undefined {
  const tag = Object.keys(raw).find((k) => k !== ':@' && k !== '#text');
  if (tag === undefined || tag.startsWith('?')) return undefined;
  const kids = (raw[tag] as Record<string, unknown>[]) ?? [];
  const node: Node = { tag, attrs: { ...((raw[':@'] as Record<string, string>) ?? {}) }, children: [], text: '' };
  for (const k of kids) {
    if ('#text' in k) node.text += String(k['#text']);
    const c = toNode(k);
    if (c) node.children.push(c);
  }
  return node;
}

export interface Parsed {
  root: Node;
  /** Top-level `<Status>` (whole-request refusal). */
  status?: { code?: number; text: string };
  login?: string;
  entities: Entity[];
}

export interface Entity {
  tag: string;
  transactionid: string | undefined;
  status?: { code?: number; text: string };
  /** Leaf fields by tag (first occurrence). */
  field(tag: string): string | undefined;
  list(listTag: string, itemTag: string): string[] | undefined;
  order: string[];
}

function statusOf(n: Node | undefined): { code?: number; text: string } | undefined {
  if (!n) return undefined;
  return n.attrs.code === undefined ? { text: n.text } : { code: Number(n.attrs.code), text: n.text };
}

export function parse(body: string): Parsed {
  const raw = parser.parse(body) as Record<string, unknown>[];
  const root = raw.map(toNode).find((n): n is Node => n !== undefined);
  if (!root || root.tag !== 'Response') throw new Error(`not a Response document: ${body.slice(0, 200)}`);
  const entities = root.children
    .filter((c) => c.tag !== 'Login' && c.tag !== 'Status')
    .map((n): Entity => ({
      tag: n.tag,
      transactionid: n.attrs.transactionid,
      status: statusOf(n.children.find((c) => c.tag === 'Status')),
      field: (t) => n.children.find((c) => c.tag === t)?.text,
      list: (l, i) =>
        n.children
          .find((c) => c.tag === l)
          ?.children.filter((c) => c.tag === i)
          .map((c) => c.text),
      order: n.children.map((c) => c.tag),
    }));
  return {
    root,
    status: statusOf(root.children.find((c) => c.tag === 'Status')),
    login: root.children.find((c) => c.tag === 'Login')?.children.find((c) => c.tag === 'status')?.text,
    entities,
  };
}

// ---- transport ----------------------------------------------------------------------------------

export type Transport = 'urlencoded' | 'multipart' | 'get';

export interface Reply {
  status: number;
  contentType: string | undefined;
  body: string;
}

export interface Fw {
  em: Emulator;
  agent: Agent;
  send(reqxml: string, transport?: Transport): Promise<Reply>;
  /** Send `doc(inner)` and parse the answer (asserts HTTP 200). */
  call(inner: string, loginXml?: string): Promise<Parsed>;
  close(): Promise<void>;
}

export async function startFw(opts?: EmulatorOptions): Promise<Fw> {
  const em = await startEmulator(opts);
  const agent = new Agent({ connect: { ca: em.certPem } });
  const send = async (reqxml: string, transport: Transport = 'urlencoded'): Promise<Reply> => {
    let res;
    if (transport === 'get') {
      res = await request(`${em.url}?reqxml=${encodeURIComponent(reqxml)}`, { dispatcher: agent });
    } else if (transport === 'multipart') {
      const form = new FormData();
      form.append('reqxml', reqxml);
      res = await request(em.url, { method: 'POST', dispatcher: agent, body: form });
    } else {
      res = await request(em.url, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ reqxml }).toString(),
      });
    }
    const ct = res.headers['content-type'];
    return { status: res.statusCode, contentType: Array.isArray(ct) ? ct[0] : ct, body: await res.body.text() };
  };
  let closed = false;
  return {
    em,
    agent,
    send,
    async call(inner, loginXml) {
      const r = await send(doc(inner, loginXml));
      if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.body.slice(0, 200)}`);
      return parse(r.body);
    },
    // Emulator first, so held requests are cut off; agent.close() would wait for them.
    // Idempotent: a test may close early and afterEach closes again.
    close: async () => {
      if (closed) return;
      closed = true;
      await em.close();
      await agent.destroy().catch(() => undefined);
    },
  };
}

/** Codes of every entity result, in order. */
export function codes(p: Parsed): (number | undefined)[] {
  return p.entities.map((e) => e.status?.code);
}

/** Emulators started by a test are closed after it. Call at the top level of a test file. */
export function emulatorsPerTest(): (opts?: EmulatorOptions) => Promise<Fw> {
  const open: Fw[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((f) => f.close()));
  });
  return async (opts) => {
    const f = await startFw(opts);
    open.push(f);
    return f;
  };
}
