/**
 * One API request, from the `reqxml` text to the response document, in the order of checks of
 * reference §9: parse (529) → APIVersion (optional 529) → Login → every Get/Set/Remove entity in
 * document order, one result element each. No I/O: the server decides when `execute` runs
 * (after latency, inside the serialisation queue).
 */
import type { EmulatorModel, Filter, GroupInput, GroupView, HostInput, HostView, Result, SetMode } from './model.js';
import { firewallRuleFields } from './rules.js';
import { STATUS_TEXT, TEXT_MODULE_INVALID, TEXT_NO_API_VERSION } from './quirks.js';
import { child, childList, childText, el, parseXml, statusEl, type XNode } from './xml.js';

export interface HandlerConfig {
  apiVersion: string;
  users: Record<string, string>;
  encryptedPasswords: Record<string, string>;
}

export interface HandlerStats {
  requests: number;
  writes: number;
  byEntity: Record<string, number>;
  authFailures: number;
  objectsRead: number;
}

export type Prepared =
  /** Answer at once (refused request, failed login): nothing touches the model. */
  | { kind: 'reply'; body: string }
  /** A logged-in request; `execute` applies it to the model and returns the response body. */
  | { kind: 'exec'; write: boolean; execute: () => string };

const ENTITIES = new Set(['IPHost', 'IPHostGroup', 'FirewallRule']);
/** Entities the emulator can only read (rules are seeded by tests). */
const READ_ONLY = new Set(['FirewallRule']);
const OPERATIONS = new Set(['Get', 'Set', 'Remove']);

export function responseDoc(apiVersion: string, parts: string[]): string {
  const attrs: Record<string, string> = { APIVersion: apiVersion, IPS_CAT_VER: '1' };
  // IS_WIFI6 appears from 2000.2 on (sophos-firewall-sdk PR #65 output).
  if (Number(apiVersion) >= 2000.2) attrs.IS_WIFI6 = '0';
  return `<?xml version="1.0" encoding="UTF-8"?>\n${el('Response', parts, attrs)}\n`;
}

/** A whole-request refusal: `<Status code>` directly under `<Response>`, no Login element. */
export function requestStatus(apiVersion: string, code: number, text = STATUS_TEXT[code] ?? ''): string {
  return responseDoc(apiVersion, [statusEl(code, text)]);
}

function loginEl(ok: boolean): string {
  return el('Login', [el('status', ok ? 'Authentication Successful' : 'Authentication Failure')]);
}

function checkLogin(root: XNode, cfg: HandlerConfig): boolean {
  const login = child(root, 'Login');
  const user = login && child(login, 'Username');
  const pw = login && child(login, 'Password');
  if (!user || !pw) return false;
  const username = user.text.trim();
  const expected = Object.hasOwn(cfg.users, username) ? cfg.users[username] : undefined;
  if (expected === undefined) return false;
  if (pw.attrs.passwordform === 'encrypt') {
    // The cipher is a fixed firmware-wide AES key (§2.2); a lookup table stands in for it.
    const clear = Object.hasOwn(cfg.encryptedPasswords, pw.text.trim()) ? cfg.encryptedPasswords[pw.text.trim()] : undefined;
    return clear === expected;
  }
  return pw.text === expected;
}

/** Unknown operation blocks, entity tags or Set operations make the whole request unusable. */
function validStructure(root: XNode): boolean {
  for (const op of root.children) {
    if (op.tag === 'Login') continue;
    if (!OPERATIONS.has(op.tag)) return false;
    if (op.tag === 'Set' && op.attrs.operation !== undefined && !['add', 'update'].includes(op.attrs.operation)) return false;
    if (op.children.some((e) => !ENTITIES.has(e.tag) || (op.tag !== 'Get' && READ_ONLY.has(e.tag)))) return false;
  }
  return true;
}

export function prepare(reqxml: string | undefined, model: EmulatorModel, cfg: HandlerConfig, stats: HandlerStats): Prepared {
  const reply = (body: string): Prepared => ({ kind: 'reply', body });
  const root = reqxml === undefined ? undefined : parseXml(reqxml);
  if (!root || root.tag !== 'Request') return reply(requestStatus(cfg.apiVersion, 529));
  if (model.quirks.requireApiVersion && !root.attrs.APIVersion) {
    return reply(requestStatus(cfg.apiVersion, 529, TEXT_NO_API_VERSION));
  }
  if (!checkLogin(root, cfg)) {
    stats.authFailures++;
    return reply(responseDoc(cfg.apiVersion, [loginEl(false)]));
  }
  if (!validStructure(root)) {
    return reply(responseDoc(cfg.apiVersion, [loginEl(true), statusEl(529, TEXT_MODULE_INVALID)]));
  }
  const write = root.children.some((op) => (op.tag === 'Set' || op.tag === 'Remove') && op.children.length > 0);
  return {
    kind: 'exec',
    write,
    execute() {
      if (write) stats.writes++;
      const parts = [loginEl(true)];
      for (const op of root.children) {
        if (op.tag === 'Login') continue;
        for (const entity of op.children) {
          stats.byEntity[entity.tag] = (stats.byEntity[entity.tag] ?? 0) + 1;
          parts.push(...runEntity(op, entity, model, stats));
        }
      }
      return responseDoc(cfg.apiVersion, parts);
    },
  };
}

function runEntity(op: XNode, e: XNode, model: EmulatorModel, stats: HandlerStats): string[] {
  const attrs = { transactionid: e.attrs.transactionid ?? '' };
  const result = (r: Result) => [el(e.tag, [statusEl(r.code, r.text)], attrs)];
  if (e.tag === 'FirewallRule') return getFirewallRules(e, model, attrs);
  const isHost = e.tag === 'IPHost';
  switch (op.tag) {
    case 'Get': {
      const filter = readFilter(e);
      const rows = isHost ? model.getHosts(filter).map(hostFields) : model.getGroups(filter).map(groupFields);
      stats.objectsRead += rows.length;
      if (rows.length === 0) return [el(e.tag, [statusEl(undefined, model.quirks.zeroRecordsText)], attrs)];
      return rows.map((fields) => el(e.tag, fields, attrs));
    }
    case 'Set': {
      const mode: SetMode =
        (op.attrs.operation as 'add' | 'update' | undefined) ?? (model.quirks.setWithoutOperation === 'upsert' ? 'upsert' : 'add');
      return result(isHost ? model.setHost(hostInput(e), mode) : model.setGroup(groupInput(e), mode));
    }
    default: {
      const name = childText(e, 'Name') ?? '';
      return result(isHost ? model.removeHost(name) : model.removeGroup(name, childList(e, 'HostList', 'Host')));
    }
  }
}

function getFirewallRules(e: XNode, model: EmulatorModel, attrs: Record<string, string>): string[] {
  const rows = model.firewallRules.list(readFilter(e));
  if (rows.length === 0) return [el(e.tag, [statusEl(undefined, model.quirks.zeroRecordsText)], attrs)];
  return rows.map((r) => el(e.tag, firewallRuleFields(r), attrs));
}

function readFilter(e: XNode): Filter | undefined {
  const f = child(e, 'Filter');
  const key = f?.children.find((c) => c.tag === 'key');
  if (!key) return undefined;
  return { key: key.attrs.name ?? '', criteria: key.attrs.criteria ?? '', value: key.text };
}

function hostInput(e: XNode): HostInput {
  const input: HostInput = { name: childText(e, 'Name') ?? '' };
  const fields = {
    family: 'IPFamily',
    hostType: 'HostType',
    ipAddress: 'IPAddress',
    subnet: 'Subnet',
    startIPAddress: 'StartIPAddress',
    endIPAddress: 'EndIPAddress',
    listOfIPAddresses: 'ListOfIPAddresses',
    description: 'Description',
  } as const;
  for (const [k, tag] of Object.entries(fields) as [keyof typeof fields, string][]) {
    const v = childText(e, tag);
    if (v !== undefined) input[k] = v;
  }
  const groups = childList(e, 'HostGroupList', 'HostGroup');
  if (groups !== undefined) input.groups = groups;
  return input;
}

function groupInput(e: XNode): GroupInput {
  const input: GroupInput = { name: childText(e, 'Name') ?? '' };
  const description = childText(e, 'Description');
  const family = childText(e, 'IPFamily');
  const hosts = childList(e, 'HostList', 'Host');
  if (description !== undefined) input.description = description;
  if (family !== undefined) input.family = family;
  if (hosts !== undefined) input.hosts = hosts;
  return input;
}

/** Get output order (§3.1): Name, IPFamily, HostType, [HostGroupList], address fields, [Description]. */
function hostFields(h: HostView): string[] {
  const out = [el('Name', h.name), el('IPFamily', h.family), el('HostType', h.hostType)];
  if (h.groups.length > 0)
    out.push(
      el(
        'HostGroupList',
        h.groups.map((g) => el('HostGroup', g)),
      ),
    );
  for (const [tag, v] of [
    ['IPAddress', h.ipAddress],
    ['Subnet', h.subnet],
    ['StartIPAddress', h.startIPAddress],
    ['EndIPAddress', h.endIPAddress],
    ['ListOfIPAddresses', h.listOfIPAddresses],
  ] as const) {
    if (v !== undefined) out.push(el(tag, v));
  }
  if (h.description !== '') out.push(el('Description', h.description));
  return out;
}

/** Get output order (§3.2): Name, Description (always), [HostList], IPFamily. */
function groupFields(g: GroupView): string[] {
  const out = [el('Name', g.name), el('Description', g.description)];
  if (g.members.length > 0)
    out.push(
      el(
        'HostList',
        g.members.map((m) => el('Host', m)),
      ),
    );
  out.push(el('IPFamily', g.family));
  return out;
}
