/**
 * The emulated firewall's object database: IPHost and IPHostGroup with one membership relation
 * seen from both sides, simulated firewall rules that hold references, and the entity rules of
 * reference §3/§4/§9 (validation → 501, name clash → 502, same content → 503, full-replace
 * updates, reference-blocked removal, the Remove-with-HostList corruption). Pure: no I/O, no
 * clock; every write returns the Status the firmware would answer.
 */
import ipaddr from 'ipaddr.js';
import { DEFAULT_QUIRKS, STATUS_TEXT, type Quirks } from './quirks.js';
import type { Filter } from './filter.js';
import { FirewallRules } from './rules.js';

export type IPFamily = 'IPv4' | 'IPv6';
export type HostType = 'IP' | 'Network' | 'IPRange' | 'IPList' | 'System Host';
export type SetMode = 'add' | 'update' | 'upsert';

/** A Set request's fields as sent; `undefined` means the element was omitted (which matters: full replace). */
export interface HostInput {
  name: string;
  family?: string;
  hostType?: string;
  ipAddress?: string;
  subnet?: string;
  startIPAddress?: string;
  endIPAddress?: string;
  listOfIPAddresses?: string;
  groups?: string[];
  description?: string;
}

export interface GroupInput {
  name: string;
  description?: string;
  family?: string;
  hosts?: string[];
}

export interface HostView {
  name: string;
  family: IPFamily;
  hostType: HostType;
  ipAddress?: string;
  subnet?: string;
  startIPAddress?: string;
  endIPAddress?: string;
  listOfIPAddresses?: string;
  description: string;
  groups: string[];
}

export interface GroupView {
  name: string;
  description: string;
  family: IPFamily;
  members: string[];
  corrupted: boolean;
}

export interface RuleView {
  name: string;
  refs: string[];
}

export interface Result {
  code: number;
  text: string;
}

export type { Filter } from './filter.js';

export interface ModelDump {
  hosts: HostView[];
  groups: GroupView[];
  rules: RuleView[];
}

/** Built-in objects a full Get lists (§3.1); read-only, no address. */
export const SYSTEM_HOSTS: readonly { name: string; family: IPFamily }[] = [
  { name: '##ALL_RW', family: 'IPv4' },
  { name: '##ALL_IPSEC_RW', family: 'IPv4' },
  { name: '##ALL_SSLVPN_RW', family: 'IPv4' },
  { name: '##ALL_RW6', family: 'IPv6' },
  { name: '##ALL_SSLVPN_RW6', family: 'IPv6' },
  { name: '##ALL_IPSEC_RW6', family: 'IPv6' },
  { name: '#Port1', family: 'IPv4' },
  { name: '#Port2', family: 'IPv4' },
  { name: '#Port3', family: 'IPv4' },
];

const MAX_DESCRIPTION = 255;
const SETTABLE_TYPES = new Set<string>(['IP', 'Network', 'IPRange', 'IPList']);

/** What the model keeps of a host: its public view, plus bookkeeping; groups as a set. */
interface HostRec extends Omit<HostView, 'groups'> {
  system: boolean;
  /** Identity for the 503 "same parameter details" check; '' for system hosts. */
  content: string;
  /** Keys of the groups this host is in: the same relation as GroupRec.members. */
  groups: Set<string>;
}

interface GroupRec {
  name: string;
  description: string;
  family: IPFamily;
  members: Set<string>;
  corrupted: boolean;
}

/** Thrown by the seed helpers when the seed itself would be refused by the firewall. */
export class SeedError extends Error {
  readonly code = 'EMULATOR_SEED_REFUSED';
  readonly retryable = false;
  constructor(
    message: string,
    readonly status: Result,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SeedError';
  }
}

function status(code: number): Result {
  return { code, text: STATUS_TEXT[code] ?? 'Operation could not be performed on Entity.' };
}

const OK = status(200);

function parseFamily(v: string | undefined): IPFamily | undefined {
  const s = (v ?? 'IPv4').trim();
  return s === 'IPv4' || s === 'IPv6' ? s : undefined;
}

/** Canonical text of an address of the given family, or undefined when it is not one. */
function canonicalIp(v: string | undefined, family: IPFamily): string | undefined {
  if (v === undefined) return undefined;
  const s = v.trim();
  if (family === 'IPv4') return ipaddr.IPv4.isValidFourPartDecimal(s) ? ipaddr.IPv4.parse(s).toString() : undefined;
  if (s.includes('%') || s.includes('/') || !ipaddr.IPv6.isValid(s)) return undefined;
  return ipaddr.IPv6.parse(s).toString();
}

function prefixOf(subnet: string | undefined, family: IPFamily): number | undefined {
  if (subnet === undefined) return undefined;
  const s = subnet.trim();
  if (family === 'IPv6') {
    const n = Number(s);
    return /^\d{1,3}$/.test(s) && n <= 128 ? n : undefined;
  }
  if (!ipaddr.IPv4.isValidFourPartDecimal(s)) return undefined;
  return ipaddr.IPv4.parse(s).prefixLengthFromSubnetMask() ?? undefined;
}

function compareIp(a: string, b: string): number {
  const x = ipaddr.parse(a).toByteArray();
  const y = ipaddr.parse(b).toByteArray();
  for (let i = 0; i < x.length; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The addressing part of a host: its 503 identity, or undefined when the fields are invalid (501). */
function hostContent(input: HostInput, family: IPFamily, hostType: string, maxList: number): string | undefined {
  switch (hostType) {
    case 'IP': {
      const ip = canonicalIp(input.ipAddress, family);
      return ip && `${family}|IP|${ip}`;
    }
    case 'Network': {
      const ip = canonicalIp(input.ipAddress, family);
      const len = prefixOf(input.subnet, family);
      return ip && len !== undefined ? `${family}|Network|${ip}/${len}` : undefined;
    }
    case 'IPRange': {
      const a = canonicalIp(input.startIPAddress, family);
      const b = canonicalIp(input.endIPAddress, family);
      return a && b && compareIp(a, b) <= 0 ? `${family}|IPRange|${a}-${b}` : undefined;
    }
    case 'IPList': {
      const raw = (input.listOfIPAddresses ?? '').split(',').map((s) => s.trim());
      if (raw.length === 0 || raw.length > maxList) return undefined;
      const ips = raw.map((s) => canonicalIp(s, family));
      if (ips.some((ip) => ip === undefined)) return undefined;
      return `${family}|IPList|${[...new Set(ips as string[])].sort().join(',')}`;
    }
    default:
      return undefined;
  }
}

export class EmulatorModel {
  readonly quirks: Quirks;
  private readonly hosts = new Map<string, HostRec>();
  /** content → host key: the same-content check (503) must not scan 100,000 hosts per write. */
  private readonly byContent = new Map<string, string>();
  private readonly groups = new Map<string, GroupRec>();
  private readonly rules = new Map<string, string[]>();
  /** Rules as `Get FirewallRule` shows them (src/emulator/rules.ts); they hold references too. */
  readonly firewallRules = new FirewallRules(this, () => this.quirks.caseSensitiveNames);

  constructor(quirks: Partial<Quirks> = {}, opts: { systemHosts?: readonly { name: string; family: IPFamily }[] } = {}) {
    this.quirks = { ...DEFAULT_QUIRKS, ...quirks };
    for (const s of opts.systemHosts ?? SYSTEM_HOSTS) {
      this.hosts.set(this.key(s.name), {
        name: s.name,
        family: s.family,
        hostType: 'System Host',
        description: '',
        system: true,
        content: '',
        groups: new Set(),
      });
    }
  }

  /** Names are the unique key per entity type; whether case matters is a firmware unknown (§11.4). */
  key(name: string): string {
    const n = name.trim();
    return this.quirks.caseSensitiveNames ? n : n.toLowerCase();
  }

  private validName(name: string): boolean {
    const n = name.trim();
    return (
      n.length > 0 &&
      [...n].length <= this.quirks.maxNameLength &&
      !n.includes(',') &&
      !n.startsWith('#') &&
      (this.quirks.colonInNames || !n.includes(':'))
    );
  }

  // ---- IPHost ---------------------------------------------------------------------------------

  setHost(input: HostInput, mode: SetMode): Result {
    const k = this.key(input.name);
    const existing = this.hosts.get(k);
    if (existing?.system) return status(528);
    const update = mode === 'update' || (mode === 'upsert' && existing !== undefined);
    if (!this.validName(input.name)) return status(501);
    if (update && !existing) return status(this.quirks.updateMissingCode);

    const family = parseFamily(input.family);
    const hostType = (input.hostType ?? '').trim();
    const description = input.description ?? '';
    if (!family || !SETTABLE_TYPES.has(hostType) || [...description].length > MAX_DESCRIPTION) return status(501);
    const content = hostContent(input, family, hostType, this.quirks.maxIpListAddresses);
    if (content === undefined) return status(501);

    const groupKeys: string[] = [];
    for (const g of input.groups ?? []) {
      const gk = this.key(g);
      const group = this.groups.get(gk);
      if (!group) return status(update ? this.quirks.updateMissingMemberCode : 501);
      if (group.family !== family) return status(501);
      if (group.corrupted) return status(500);
      if (!groupKeys.includes(gk)) groupKeys.push(gk);
    }

    if (!update && existing) return status(502);
    const owner = this.byContent.get(content);
    if (owner !== undefined && owner !== k) return status(503);

    const rec: HostRec = existing ?? {
      name: input.name.trim(),
      family,
      hostType: hostType as HostType,
      description,
      system: false,
      content,
      groups: new Set(),
    };
    // Full replace: every addressing field is rewritten, so stale ones from another type vanish.
    rec.family = family;
    rec.hostType = hostType as HostType;
    rec.description = description;
    if (this.byContent.get(rec.content) === k) this.byContent.delete(rec.content);
    rec.content = content;
    this.byContent.set(content, k);
    rec.ipAddress = hostType === 'IP' || hostType === 'Network' ? input.ipAddress?.trim() : undefined;
    rec.subnet = hostType === 'Network' ? input.subnet?.trim() : undefined;
    rec.startIPAddress = hostType === 'IPRange' ? input.startIPAddress?.trim() : undefined;
    rec.endIPAddress = hostType === 'IPRange' ? input.endIPAddress?.trim() : undefined;
    rec.listOfIPAddresses =
      hostType === 'IPList'
        ? (input.listOfIPAddresses ?? '')
            .split(',')
            .map((s) => s.trim())
            .join(',')
        : undefined;
    this.hosts.set(k, rec);
    for (const gk of [...rec.groups]) if (!groupKeys.includes(gk)) this.unlink(gk, k);
    for (const gk of groupKeys) this.link(gk, k);
    return OK;
  }

  removeHost(name: string): Result {
    const k = this.key(name);
    const h = this.hosts.get(k);
    if (h?.system) return status(528);
    if (!h) return status(this.quirks.removeMissingHostCode);
    if (h.groups.size > 0 || this.referencedByRule(k)) return status(this.quirks.removeReferencedHostCode);
    this.hosts.delete(k);
    this.byContent.delete(h.content);
    return OK;
  }

  getHosts(filter?: Filter): HostView[] {
    const views = [...this.hosts.values()].map((h) => this.hostView(h));
    return applyFilter(views, filter, HOST_FILTER_KEYS, this.quirks.caseSensitiveNames);
  }

  // ---- IPHostGroup ----------------------------------------------------------------------------

  setGroup(input: GroupInput, mode: SetMode): Result {
    const k = this.key(input.name);
    const existing = this.groups.get(k);
    const update = mode === 'update' || (mode === 'upsert' && existing !== undefined);
    if (!this.validName(input.name)) return status(501);
    if (update && !existing) return status(this.quirks.updateMissingCode);
    if (update && existing?.corrupted) return status(500);

    const family = parseFamily(input.family);
    const description = input.description ?? '';
    if (!family || [...description].length > MAX_DESCRIPTION) return status(501);

    const hostKeys: string[] = [];
    for (const h of input.hosts ?? []) {
      const hk = this.key(h);
      const host = this.hosts.get(hk);
      if (!host) return status(update ? this.quirks.updateMissingMemberCode : 501);
      if (host.system || host.family !== family) return status(501);
      if (!hostKeys.includes(hk)) hostKeys.push(hk);
    }
    if (!update && existing) return status(502);

    const rec: GroupRec = existing ?? { name: input.name.trim(), description, family, members: new Set(), corrupted: false };
    rec.description = description;
    rec.family = family;
    this.groups.set(k, rec);
    const keep = new Set(hostKeys);
    for (const hk of [...rec.members]) if (!keep.has(hk)) this.unlink(k, hk);
    for (const hk of hostKeys) this.link(k, hk);
    return OK;
  }

  /**
   * Remove a group. With `hostList` (a Remove carrying HostList), the measured firmware bug empties
   * the group and leaves it corrupt (§3.3); with the quirk off only those members are dropped.
   */
  removeGroup(name: string, hostList?: string[]): Result {
    const k = this.key(name);
    const g = this.groups.get(k);
    if (!g) return status(this.quirks.removeMissingGroupCode);
    if (hostList !== undefined) {
      const drop = this.quirks.removeWithHostListCorrupts ? [...g.members] : hostList.map((h) => this.key(h));
      for (const hk of drop) this.unlink(k, hk);
      if (this.quirks.removeWithHostListCorrupts) g.corrupted = true;
      return OK;
    }
    if (this.referencedByRule(k)) return status(this.quirks.removeReferencedGroupCode);
    for (const hk of [...g.members]) this.unlink(k, hk);
    this.groups.delete(k);
    return OK;
  }

  getGroups(filter?: Filter): GroupView[] {
    const views = [...this.groups.values()].map((g) => this.groupView(g));
    return applyFilter(views, filter, GROUP_FILTER_KEYS, this.quirks.caseSensitiveNames);
  }

  // ---- simulated firewall rules ---------------------------------------------------------------

  /** A firewall rule using these hosts/groups (by name): they can no longer be removed. */
  addRule(name: string, refs: readonly string[]): void {
    for (const r of refs) {
      const k = this.key(r);
      if (!this.hosts.has(k) && !this.groups.has(k)) throw new Error(`rule ${name}: no host or group named ${r}`);
    }
    this.rules.set(
      name,
      refs.map((r) => this.key(r)),
    );
  }

  removeRule(name: string): boolean {
    return this.rules.delete(name);
  }

  /** Shorthand: a rule named after the host that uses only it. */
  referenceHost(name: string): void {
    this.addRule(`rule:${name}`, [name]);
  }

  private referencedByRule(k: string): boolean {
    for (const refs of this.rules.values()) if (refs.includes(k)) return true;
    return false;
  }

  // ---- helpers for tests and the runner -------------------------------------------------------

  groupMembers(name: string): string[] {
    return this.groupByName(name)?.members ?? [];
  }

  hostByName(name: string): HostView | undefined {
    const h = this.hosts.get(this.key(name));
    return h && this.hostView(h);
  }

  groupByName(name: string): GroupView | undefined {
    const g = this.groups.get(this.key(name));
    return g && this.groupView(g);
  }

  /** Add a host as the admin would; throws when the firewall would refuse it. */
  seedHost(input: HostInput): HostView {
    this.seeded('IPHost', input.name, this.setHost(input, 'add'));
    return this.hostByName(input.name) as HostView;
  }

  seedGroup(input: GroupInput): GroupView {
    this.seeded('IPHostGroup', input.name, this.setGroup(input, 'add'));
    return this.groupByName(input.name) as GroupView;
  }

  private seeded(tag: string, name: string, r: Result): void {
    if (r.code !== 200) throw new SeedError(`seed ${tag} ${name} refused: ${r.code} ${r.text}`, r);
  }

  /** Names of groups left corrupt by a Remove carrying HostList. */
  get corrupted(): string[] {
    return [...this.groups.values()].filter((g) => g.corrupted).map((g) => g.name);
  }

  /** Hosts other than the built-in system hosts. */
  get hostCount(): number {
    let n = 0;
    for (const h of this.hosts.values()) if (!h.system) n++;
    return n;
  }

  dump(): ModelDump {
    return {
      hosts: [...this.hosts.values()].filter((h) => !h.system).map((h) => this.hostView(h)),
      groups: [...this.groups.values()].map((g) => this.groupView(g)),
      rules: [...this.rules].map(([name, refs]) => ({ name, refs: [...refs] })),
    };
  }

  private link(gk: string, hk: string): void {
    this.groups.get(gk)?.members.add(hk);
    this.hosts.get(hk)?.groups.add(gk);
  }

  private unlink(gk: string, hk: string): void {
    this.groups.get(gk)?.members.delete(hk);
    this.hosts.get(hk)?.groups.delete(gk);
  }

  private hostView(h: HostRec): HostView {
    const v: HostView = {
      name: h.name,
      family: h.family,
      hostType: h.hostType,
      description: h.description,
      groups: [...h.groups].map((gk) => this.groups.get(gk)?.name ?? gk),
    };
    for (const f of ['ipAddress', 'subnet', 'startIPAddress', 'endIPAddress', 'listOfIPAddresses'] as const) {
      if (h[f] !== undefined) v[f] = h[f];
    }
    return v;
  }

  private groupView(g: GroupRec): GroupView {
    return {
      name: g.name,
      description: g.description,
      family: g.family,
      members: [...g.members].map((hk) => this.hosts.get(hk)?.name ?? hk),
      corrupted: g.corrupted,
    };
  }
}

type FilterKeys<T> = Record<string, (v: T) => string | undefined>;

const HOST_FILTER_KEYS: FilterKeys<HostView> = {
  Name: (h) => h.name,
  IPAddress: (h) => h.ipAddress,
  IPFamily: (h) => h.family,
  HostType: (h) => h.hostType,
};

const GROUP_FILTER_KEYS: FilterKeys<GroupView> = {
  Name: (g) => g.name,
  IPFamily: (g) => g.family,
  Description: (g) => g.description,
};

/** janweis (measured): only the first key counts; an unknown key or criteria is silently ignored. */
function applyFilter<T>(views: T[], filter: Filter | undefined, keys: FilterKeys<T>, caseSensitive: boolean): T[] {
  const read = filter && Object.hasOwn(keys, filter.key) ? keys[filter.key] : undefined;
  if (!filter || !read) return views;
  const fold = (s: string) => (caseSensitive || filter.key !== 'Name' ? s : s.toLowerCase());
  const want = fold(filter.value.trim());
  switch (filter.criteria) {
    case '=':
      return views.filter((v) => fold(read(v) ?? '') === want && read(v) !== undefined);
    case '!=':
      return views.filter((v) => fold(read(v) ?? '') !== want || read(v) === undefined);
    case 'like':
      return views.filter((v) => fold(read(v) ?? '').includes(want) && read(v) !== undefined);
    default:
      return views;
  }
}
